// Definition of launch_recurrent (declared in launch.hpp): grid = N * HV * (V / BV) blocks,
// a programmatic dependent launch when p.programmatic_launch.
#pragma once
#include <stdexcept>
#include <string>

#include "grid_dependency.cuh"
#include "launch.hpp"
#include "recurrent_kernel.cuh"

namespace gdn::kernels {

template <class Tr>
void launch_recurrent(const RecurrentParams& params, cudaStream_t stream) {
  RecurrentParams p = params;
  p.tiles_divisor = make_fast_divisor(static_cast<uint32_t>(p.V / Tr::kBV));
  p.heads_divisor = make_fast_divisor(static_cast<uint32_t>(p.HV));
  p.group_divisor = make_fast_divisor(static_cast<uint32_t>(p.HV / p.H));
  const long long blocks = static_cast<long long>(p.N) * p.HV * (p.V / Tr::kBV);
  cudaError_t err = launch_kernel(p.early_state_reads ? recurrent_kernel<Tr, true> : recurrent_kernel<Tr, false>, dim3(static_cast<unsigned>(blocks)), dim3(Tr::kThreads), stream,
                                  p.programmatic_launch, p);
  if (err == cudaSuccess) err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error launching the recurrent kernel: ") + cudaGetErrorString(err));
}

}  // namespace gdn::kernels
