// The floors under one decode launch on this device, timed like the kernels (time_graph over
// the same rotating input sets), so that a kernel's time can be read against what no kernel
// of its kind can beat:
//   launch            an empty kernel with the variant's grid and block: the launch alone;
//   state round trip  each (sequence, value head) block reads its slot, then reads its K x V
//                     state and writes it back: the dependent pair of loads and the state
//                     bytes that every decode kernel moves, and nothing else.
// With `programmatic` both are programmatic dependent launches, like the kernels then
// (params.hpp): the round trip reads the slot and the state before waiting for the previous
// launch, and writes after. Both let the next launch begin at entry, not after their wait as
// the decode kernel does (grid_dependency.cuh): with only the stores after the wait, that
// order measured faster for the round trip in 11 of 12 configurations (H100, TP=4 B=1 bf16
// 0.97 against 1.29 us; not fp32 at TP=4 B=8, 3.86 against 3.27: experiments/bv_tile, v13).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "graph_timer.hpp"

namespace gdn::gpu {

struct FloorSetup {
  int64_t batch = 0;         // sequences per launch
  int HV = 0;                // value heads
  int64_t head_bytes = 0;    // bytes of one (slot, head) state
  int64_t sets = 1;          // input sets; launch i uses set i % sets
  int64_t launches = 1;      // launches per graph
  const int32_t* indices = nullptr;  // [sets * batch] slots, set s at s * batch
  void* pool = nullptr;      // [slots, HV] states of head_bytes each
  unsigned blocks = 0, threads = 0;  // the variant's launch shape (empty kernel)
  bool programmatic = false;
  int replays = 15;
};

struct Floors {
  LaunchTiming launch, state_round_trip;
};

// The state round trip rewrites every state of the pool with its own bits.
Floors measure_floors(const FloorSetup& setup, cudaStream_t stream);

}  // namespace gdn::gpu
