// Definition of launch_recurrent (declared in launch.hpp): grid = N * HV * (V / BV) * kSplitK
// blocks (in clusters of kSplitK), a programmatic dependent launch when
// p.programmatic_launch, in the build of the kernel that its read order, its pairs per SM and
// p.arithmetic ask for.
#pragma once
#include <stdexcept>
#include <string>

#include "device_limits.hpp"
#include "grid_dependency.cuh"
#include "launch.hpp"
#include "recurrent_kernel.cuh"

namespace gdn::kernels {

// Early state reads prefetch the token's inputs into L2 below this many (sequence, value
// head) pairs per SM: there the inputs' latency is on the path of a launch (programmatic,
// B <= 32: the family's choice 0.83-1.05 of v13's time on an H100 and an H200). With more
// pairs other blocks hide it, and the prefetching build was up to 8% slower there
// (experiments/bv_tile, v14).
constexpr int64_t kPrefetchBelowPairsPerSM = 8;

inline bool prefetch_inputs_pays(const RecurrentParams& p) {
  return static_cast<int64_t>(p.N) * p.HV < kPrefetchBelowPairsPerSM * current_device_limits().sms;
}

// The kernel's build for the read order and the inputs' prefetch, in arithmetic build A.
template <class Tr, class A>
auto recurrent_build(bool early_state_reads, bool prefetch_inputs) {
  return !early_state_reads ? recurrent_kernel<Tr, false, false, A>
         : prefetch_inputs  ? recurrent_kernel<Tr, true, true, A>
                            : recurrent_kernel<Tr, true, false, A>;
}

// A K split's clusters need sm_90; older GPUs get a clear error instead of a launch failure.
inline void require_clusters() {
  if (!clusters_supported(current_device_limits().compute_major))
    throw std::runtime_error("a K-split variant (-ks) needs thread block clusters: a GPU of compute capability 9.0 or newer");
}

template <class Tr>
void launch_recurrent(const RecurrentParams& params, cudaStream_t stream) {
  if constexpr (Tr::kSplitK > 1) require_clusters();
  require_columns<Tr>(params.V);
  RecurrentParams p = params;
  p.tiles_divisor = make_fast_divisor(static_cast<uint32_t>(p.V / Tr::kBV * Tr::kSplitK));
  p.heads_divisor = make_fast_divisor(static_cast<uint32_t>(p.HV));
  p.group_divisor = make_fast_divisor(static_cast<uint32_t>(p.HV / p.H));
  const long long blocks = static_cast<long long>(p.N) * p.HV * (p.V / Tr::kBV) * Tr::kSplitK;
  const bool prefetch = p.early_state_reads && prefetch_inputs_pays(p);
  void (*kernel)(RecurrentParams) = p.arithmetic == GateArithmetic::Intrinsic
                                        ? recurrent_build<Tr, Intrinsic>(p.early_state_reads, prefetch)
                                        : recurrent_build<Tr, BranchFree>(p.early_state_reads, prefetch);
  cudaError_t err = launch_kernel(kernel, dim3(static_cast<unsigned>(blocks)), dim3(Tr::kThreads), Tr::kSplitK, stream,
                                  p.programmatic_launch, p);
  if (err == cudaSuccess) err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error launching the recurrent kernel: ") + cudaGetErrorString(err));
}

}  // namespace gdn::kernels
