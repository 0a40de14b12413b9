#include "error_model.hpp"

namespace gdn {

ErrorBounds error_bounds(const Config&, const Inputs&, const ErrorModelOptions&) {
  throw InputError("error model: not implemented yet");
}

}  // namespace gdn
