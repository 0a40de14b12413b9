// gdn::reference behind a header free of Eigen, for CUDA translation units.
#pragma once
#include "reference/config.hpp"
#include "reference/problem.hpp"

namespace gdn::gpu {

Outputs oracle(const Config& config, const Inputs& inputs);

}  // namespace gdn::gpu
