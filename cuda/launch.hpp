// Host side of one kernel instantiation: the launch function template (defined in
// launch.cuh, instantiated in the recurrent_<group>.cu files) and the dispatch table entry
// that names it.
#pragma once
#include <cuda_runtime.h>

#include "params.hpp"

namespace gdn::kernels {

// Launches the recurrent kernel of traits Tr on `stream` and checks the launch. The caller
// has validated p against the traits (gdn::gpu::check_launchable).
template <class Tr>
void launch_recurrent(const RecurrentParams& p, cudaStream_t stream);

}  // namespace gdn::kernels
