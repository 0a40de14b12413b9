#include "recurrent.hpp"

namespace gdn {

Outputs reference(const Config& config, const Inputs& inputs, const RunOptions& options) {
  NoObserver none;
  return simulate_as<double>(config, inputs, profile_spec(Profile::Fp64), options, none);
}

Outputs simulate(const Config& config, const Inputs& inputs, const PrecisionSpec& spec, const RunOptions& options) {
  NoObserver none;
  switch (spec.arith) {
    case Dtype::F64: return simulate_as<double>(config, inputs, spec, options, none);
    case Dtype::F32: return simulate_as<float>(config, inputs, spec, options, none);
    default: throw InputError("precision: arithmetic must be float64 or float32, not " + to_string(spec.arith));
  }
}

}  // namespace gdn
