// Where the cost of random state slots comes from: a probe.
//
// The kernel is the bench's state round trip (cuda/bench_floor.cu): one block per (sequence,
// value head) reads its slot, reads the head's K x V state and writes it back. Only the order
// of the slots changes between rows:
//   sequential     sequence n in pool row n of its input set;
//   runs of C      the set's rows cut into runs of C consecutive rows, the runs shuffled
//                  (C = 1: a random permutation, as `gdn bench` draws slots);
// and, for random slots, a block may first prefetch into L2 the first line of the state of
// the sequence `ahead` places later (its address translation included), so that a block
// starting later finds its page already mapped.
//
// Build and run on a GPU host: experiments/slot_order/run.sh [B=1024] [HV=8] [head KB: 32 | 64]
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#include "check.cuh"
#include "graph_timer.hpp"  // the bench's timer (cuda/graph_timer.cpp)

constexpr int kThreads = 256;

template <int kPer>
__global__ void __launch_bounds__(kThreads) round_trip(const int* idx, int B, uint4* pool, int HV, int ahead,
                                                       unsigned flip) {
  const int n = blockIdx.x / HV, hv = blockIdx.x % HV;
  if (ahead > 0 && threadIdx.x == 0 && n + ahead < B) {
    const uint4* next = pool + (static_cast<long long>(idx[n + ahead]) * HV + hv) * (kPer * kThreads);
    asm volatile("prefetch.global.L2 [%0];" ::"l"(next));
  }
  uint4* head = pool + (static_cast<long long>(idx[n]) * HV + hv) * (kPer * kThreads);
  uint4 x[kPer];
#pragma unroll
  for (int i = 0; i < kPer; ++i) x[i] = head[i * kThreads + threadIdx.x];
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    x[i].x ^= flip;
    head[i * kThreads + threadIdx.x] = x[i];
  }
}

int main(int argc, char** argv) {
  const int B = argc > 1 ? std::atoi(argv[1]) : 1024;
  const int HV = argc > 2 ? std::atoi(argv[2]) : 8;
  const int head_kb = argc > 3 ? std::atoi(argv[3]) : 32;
  if (B < 1 || HV < 1 || (head_kb != 32 && head_kb != 64)) {
    std::fprintf(stderr, "usage: slot_probe [B >= 1] [HV >= 1] [head KB: 32 or 64]\n");
    return 2;
  }
  const long long set_bytes = static_cast<long long>(B) * HV * head_kb * 1024;
  const int sets = static_cast<int>(std::max(2LL, ((256LL << 20) + set_bytes - 1) / set_bytes));
  const int launches = std::max(32, sets);
  uint4* pool;
  int* idx;
  CHECK(cudaMalloc(&pool, set_bytes * sets));
  CHECK(cudaMalloc(&idx, sizeof(int) * B * sets));
  CHECK(cudaMemset(pool, 1, set_bytes * sets));

  std::printf("B=%d HV=%d head %d KB, %d input sets, %d launches per graph; us per launch, median of 15 replays "
              "[min, max], and over the first sequential row\n",
              B, HV, head_kb, sets, launches);
  auto kernel = head_kb == 32 ? round_trip<8> : round_trip<16>;
  std::mt19937_64 rng(7);
  cudaStream_t stream;
  CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  double sequential_us = 0;
  auto run = [&](const char* name, int run_len, int ahead) {
    std::vector<int> h(static_cast<size_t>(B) * sets);
    for (int s = 0; s < sets; ++s) {
      std::vector<int> runs((B + run_len - 1) / run_len);
      std::iota(runs.begin(), runs.end(), 0);
      if (run_len < B) std::shuffle(runs.begin(), runs.end(), rng);
      int at = 0;
      for (int r : runs)
        for (int i = r * run_len; i < std::min(B, (r + 1) * run_len); ++i) h[s * B + at++] = s * B + i;
    }
    CHECK(cudaMemcpy(idx, h.data(), h.size() * sizeof(int), cudaMemcpyHostToDevice));
    const gdn::gpu::LaunchTiming timing =
        gdn::gpu::time_graph(launches, 15, stream, [&](int64_t i, cudaStream_t st) {
          kernel<<<B * HV, kThreads, 0, st>>>(idx + (i % sets) * B, B, pool, HV, ahead, 0u);
          CHECK(cudaGetLastError());
        });
    const double t[3] = {timing.us_median, timing.us_min, timing.us_max};
    if (sequential_us == 0) sequential_us = t[0];
    std::printf("%-10s run %5d ahead %4d: %9.2f us [%9.2f, %9.2f]  %7.1f GB/s  x%.3f\n", name, run_len, ahead, t[0], t[1],
                t[2], 2.0 * set_bytes / t[0] * 1e-3, t[0] / sequential_us);
  };
  run("sequential", B, 0);
  for (int c : {1, 2, 4, 8, 16, 64}) run("runs", c, 0);
  for (int ahead : {16, 64, 128, 256, 512}) run("random", 1, ahead);
  run("sequential", B, 0);
  return 0;
}
