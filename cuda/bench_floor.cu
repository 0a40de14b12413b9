#include "bench_floor.hpp"

#include <stdexcept>
#include <string>

#include "cuda_check.hpp"
#include "grid_dependency.cuh"
#include "state_tile.cuh"

namespace gdn::gpu {
namespace {

constexpr int kRoundTripThreads = 256;

__global__ void empty_kernel() {
  kernels::allow_dependent_launch();
  kernels::wait_for_previous_grid();
}

// One block per (sequence, value head); kPer 16-byte vectors per thread, loaded and stored
// with the recurrent kernel's own state instructions (state_tile.cuh). `flip` is 0: it keeps
// the compiler from dropping a store of the value just loaded.
template <int kPer>
__global__ void __launch_bounds__(kRoundTripThreads) state_round_trip(const int32_t* indices, uint4* pool, int HV,
                                                                       uint32_t flip) {
  kernels::allow_dependent_launch();
  const int n = static_cast<int>(blockIdx.x) / HV, hv = static_cast<int>(blockIdx.x) % HV;
  uint4* head = pool + (static_cast<int64_t>(indices[n]) * HV + hv) * (kPer * kRoundTripThreads);
  uint4 x[kPer];
#pragma unroll
  for (int i = 0; i < kPer; ++i) kernels::load_if(true, head + i * kRoundTripThreads + threadIdx.x, x[i]);
  kernels::wait_for_previous_grid();
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    x[i].x ^= flip;
    kernels::store_vector(head + i * kRoundTripThreads + threadIdx.x, x[i]);
  }
}

void check_launch(cudaError_t err) {
  if (err == cudaSuccess) err = cudaGetLastError();
  if (err != cudaSuccess) throw std::runtime_error(std::string("CUDA error launching a floor kernel: ") + cudaGetErrorString(err));
}

}  // namespace

Floors measure_floors(const FloorSetup& s, cudaStream_t stream) {
  const int64_t vectors = s.head_bytes / 16;
  void (*round_trip)(const int32_t*, uint4*, int, uint32_t) = nullptr;
  if (vectors == 8 * kRoundTripThreads) round_trip = state_round_trip<8>;
  if (vectors == 16 * kRoundTripThreads) round_trip = state_round_trip<16>;
  if (!round_trip || s.head_bytes % 16 != 0)
    throw std::runtime_error("bench floors: a state head of " + std::to_string(s.head_bytes) + " bytes is not 32 or 64 KB");
  Floors f;
  f.launch = time_graph(s.launches, s.replays, stream, [&](int64_t, cudaStream_t st) {
    check_launch(kernels::launch_kernel(empty_kernel, dim3(s.blocks), dim3(s.threads), 1, st, s.programmatic));
  });
  const unsigned blocks = static_cast<unsigned>(s.batch * s.HV);
  f.state_round_trip = time_graph(s.launches, s.replays, stream, [&](int64_t i, cudaStream_t st) {
    const int32_t* indices = s.indices + (i % s.sets) * s.batch;
    check_launch(kernels::launch_kernel(round_trip, dim3(blocks), dim3(kRoundTripThreads), 1, st, s.programmatic, indices,
                                        static_cast<uint4*>(s.pool), s.HV, 0u));
  });
  return f;
}

}  // namespace gdn::gpu
