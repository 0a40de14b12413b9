// The dispatch key (dispatch.hpp) of a named variant (api.hpp): how the host code that
// launches a variant (runner.cpp, bench.cu) finds its instantiation.
#pragma once
#include "api.hpp"
#include "dispatch.hpp"

namespace gdn::gpu {

kernels::KernelKey key_of(const Variant& variant);

}  // namespace gdn::gpu
