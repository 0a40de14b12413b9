// Definition of launch_recurrent (declared in launch.hpp): grid = N * HV * (V / BV) blocks.
#pragma once
#include <stdexcept>
#include <string>

#include "launch.hpp"
#include "recurrent_kernel.cuh"

namespace gdn::kernels {

template <class Tr>
void launch_recurrent(const RecurrentParams& p, cudaStream_t stream) {
  const long long blocks = static_cast<long long>(p.N) * p.HV * (p.V / Tr::kBV);
  recurrent_kernel<Tr><<<static_cast<unsigned>(blocks), Tr::kThreads, 0, stream>>>(p);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error launching the recurrent kernel: ") + cudaGetErrorString(err));
}

}  // namespace gdn::kernels
