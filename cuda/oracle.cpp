#include "oracle.hpp"

#include "reference/recurrent.hpp"

namespace gdn::gpu {

Outputs oracle(const Config& config, const Inputs& inputs) { return reference(config, inputs); }

}  // namespace gdn::gpu
