// Which property of a decode launch decides what a programmatic launch gains? A synthetic
// round trip of the state (slot, then the state, then the same bytes stored), shaped like a
// decode kernel: `tiles` blocks per (sequence, value head), each moving threads x kPer
// 16-byte vectors; dynamic shared memory (unused) caps the blocks an SM holds, as a kernel's
// registers do; after the wait for the previous grid each block may read its token's inputs
// (512 bytes per (sequence, head), from rotating input sets, as the decode kernel reads
// q, k, v, a, b) and then spin for `delay_cycles` SM cycles (latency) or execute `work`
// floating-point instructions per thread (issue), standing for a kernel's reductions and update pass.
// The state reads are issued before the wait (early) or after it (late).
//
// Build and run on a GPU host: experiments/bv_tile/overlap/run.sh. Prints one line per
// configuration: us per launch for plain launches and programmatic ones with early and with
// late state reads (median of 15 replays of a graph of 64 launches over rotating slot sets
// covering >= 256 MB of state).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <vector>

#define CHECK(x)                                                                                   \
  do {                                                                                             \
    cudaError_t e_ = (x);                                                                          \
    if (e_ != cudaSuccess) {                                                                       \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_));      \
      std::exit(1);                                                                                \
    }                                                                                              \
  } while (0)

namespace {

constexpr int kHV = 8;                  // Qwen3-Next TP=4
constexpr int kHeadBytes = 128 * 128 * 2;  // bf16 state
constexpr int kInputBytes = 512;        // per (sequence, head): q, k, v, a, b in bf16 (about)

template <int kPer>
__global__ void round_trip(const int32_t* indices, uint4* pool, const uint4* inputs, int tiles, bool early,
                           bool read_inputs, int delay_cycles, int work, uint32_t flip) {
  const int tile = static_cast<int>(blockIdx.x) % tiles;
  const int pair = static_cast<int>(blockIdx.x) / tiles;
  const int n = pair / kHV, hv = pair % kHV;
  const int vectors = kPer * static_cast<int>(blockDim.x);
  uint4* head = pool + (static_cast<int64_t>(indices[n]) * kHV + hv) * (kHeadBytes / 16) + tile * vectors;
  uint4 x[kPer];
  if (early)
#pragma unroll
    for (int i = 0; i < kPer; ++i) x[i] = head[i * blockDim.x + threadIdx.x];
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
  if (!early)
#pragma unroll
    for (int i = 0; i < kPer; ++i) x[i] = head[i * blockDim.x + threadIdx.x];
  uint32_t in = 0;
  if (read_inputs && threadIdx.x < kInputBytes / 16) {
    const uint4 v = inputs[static_cast<int64_t>(pair) * (kInputBytes / 16) + threadIdx.x];
    in = v.x ^ v.y ^ v.z ^ v.w;
  }
  if (delay_cycles > 0) {
    // starts when the state and inputs have arrived, as a kernel's compute does
    const uint32_t dep = x[0].x ^ x[kPer - 1].w ^ in;
    const long long t0 = clock64() + (dep & flip);
    while (clock64() - t0 < delay_cycles) {
    }
  }
  if (work > 0) {
    // `work` floating-point instructions per thread on 8 independent chains (issue-bound, as
    // a kernel's passes over its tile are), starting when the state has arrived
    float a[8];
#pragma unroll
    for (int j = 0; j < 8; ++j) a[j] = __uint_as_float(x[j % kPer].y & 0x3fffffffu);
#pragma unroll 4
    for (int i = 0; i < work; i += 8)
#pragma unroll
      for (int j = 0; j < 8; ++j) a[j] = fmaf(a[j], 0.999f, 1e-3f);
    float s = 0.f;
#pragma unroll
    for (int j = 0; j < 8; ++j) s += a[j];
    in ^= __float_as_uint(s) & flip;
  }
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    x[i].x ^= flip & in;
    head[i * blockDim.x + threadIdx.x] = x[i];
  }
}

struct Shape {
  const char* name;
  int threads, per, tiles, blocks_per_sm;  // blocks_per_sm 0: no cap
};

void launch(void (*k)(const int32_t*, uint4*, const uint4*, int, bool, bool, int, int, uint32_t), const Shape& s, int B,
            size_t smem, bool programmatic, const int32_t* idx, uint4* pool, const uint4* inputs, bool early,
            bool read_inputs, int delay, int work, cudaStream_t st) {
  cudaLaunchConfig_t c{};
  c.gridDim = dim3(static_cast<unsigned>(B * kHV * s.tiles));
  c.blockDim = dim3(static_cast<unsigned>(s.threads));
  c.dynamicSmemBytes = smem;
  c.stream = st;
  cudaLaunchAttribute a{};
  a.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  a.val.programmaticStreamSerializationAllowed = 1;
  c.attrs = &a;
  c.numAttrs = programmatic ? 1 : 0;
  CHECK(cudaLaunchKernelEx(&c, k, idx, pool, inputs, s.tiles, early, read_inputs, delay, work, 0u));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> batches;
  for (int i = 1; i < argc; ++i) batches.push_back(std::atoi(argv[i]));
  if (batches.empty()) batches = {32, 128};
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("%s, %d SMs\n", prop.name, prop.multiProcessorCount);
  const Shape shapes[] = {
      {"floor: 256 thr x 32 KB, 1 block/pair", 256, 8, 1, 0},
      {"bv16-like: 32 thr x 4 KB, 8 blocks/pair, 16/SM", 32, 8, 8, 16},
      {"bv64-like: 128 thr x 16 KB, 2 blocks/pair, 4/SM", 128, 8, 2, 4},
      {"t32: 32 thr x 8 KB, 4 blocks/pair, 16/SM", 32, 16, 4, 16},
      {"whole-state: 128 thr x 32 KB, 1 block/pair, 5/SM", 128, 16, 1, 5},
  };
  struct Load {
    int inputs, delay, work;
  };
  // post-wait: nothing; the inputs; the inputs and a spin of SM cycles (~1.7-2 GHz); the
  // inputs and floating-point instructions per thread
  const Load loads[] = {{0, 0, 0}, {1, 0, 0}, {1, 1000, 0}, {1, 2000, 0}, {1, 4000, 0}, {1, 0, 400}, {1, 0, 800}, {1, 0, 1600}};
  cudaStream_t st;
  CHECK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
  cudaEvent_t e0, e1;
  CHECK(cudaEventCreate(&e0));
  CHECK(cudaEventCreate(&e1));
  for (int B : batches) {
    const int64_t min_heads = (256ll << 20) / kHeadBytes;
    const int sets = static_cast<int>(std::max<int64_t>(2, (min_heads + B * kHV - 1) / (B * kHV)));
    const int64_t slots = static_cast<int64_t>(sets) * B;
    uint4* pool;
    uint4* inputs;
    int32_t* idx;
    CHECK(cudaMalloc(&pool, slots * kHV * kHeadBytes));
    CHECK(cudaMemset(pool, 0, slots * kHV * kHeadBytes));
    CHECK(cudaMalloc(&inputs, slots * kHV * kInputBytes));
    CHECK(cudaMemset(inputs, 0, slots * kHV * kInputBytes));
    std::vector<int32_t> h(slots);
    std::iota(h.begin(), h.end(), 0);
    std::shuffle(h.begin(), h.end(), std::mt19937(7));
    CHECK(cudaMalloc(&idx, slots * sizeof(int32_t)));
    CHECK(cudaMemcpy(idx, h.data(), slots * sizeof(int32_t), cudaMemcpyHostToDevice));
    const int launches = 64;
    std::printf("\nB=%d (%d pairs, %.1f per SM), %d slot sets; us per launch: plain | programmatic early reads | "
                "programmatic late reads\n",
                B, B * kHV, B * kHV / static_cast<double>(prop.multiProcessorCount), sets);
    for (const Shape& s : shapes) {
      auto k = s.per == 8 ? round_trip<8> : round_trip<16>;
      size_t smem = 0;
      if (s.blocks_per_sm > 0) smem = (prop.sharedMemPerMultiprocessor / s.blocks_per_sm) - 1024 - 1;
      smem = std::min<size_t>(smem, prop.sharedMemPerBlockOptin);
      CHECK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
      int resident = 0;
      CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, k, s.threads, smem));
      for (const Load& l : loads) {
          std::printf("%-50s %2d/SM inputs %d spin %4d cycles, %4d flops:", s.name, resident, l.inputs, l.delay, l.work);
          for (int mode = 0; mode < 3; ++mode) {
            const bool prog = mode > 0, early = mode != 2;
            cudaGraph_t g;
            cudaGraphExec_t ge;
            CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
            for (int i = 0; i < launches; ++i) {
              const int set = i % sets;
              launch(k, s, B, smem, prog, idx + static_cast<int64_t>(set) * B, pool,
                     inputs + static_cast<int64_t>(set) * B * kHV * (kInputBytes / 16), early, l.inputs, l.delay, l.work, st);
            }
            CHECK(cudaStreamEndCapture(st, &g));
            CHECK(cudaGraphInstantiate(&ge, g, 0));
            for (int w = 0; w < 3; ++w) CHECK(cudaGraphLaunch(ge, st));
            std::vector<float> t;
            for (int r = 0; r < 15; ++r) {
              CHECK(cudaEventRecord(e0, st));
              CHECK(cudaGraphLaunch(ge, st));
              CHECK(cudaEventRecord(e1, st));
              CHECK(cudaEventSynchronize(e1));
              float ms;
              CHECK(cudaEventElapsedTime(&ms, e0, e1));
              t.push_back(1e3f * ms / launches);
            }
            std::sort(t.begin(), t.end());
            std::printf(" %7.2f", t[t.size() / 2]);
            CHECK(cudaGraphExecDestroy(ge));
            CHECK(cudaGraphDestroy(g));
          }
          std::printf("\n");
          std::fflush(stdout);
        }
    }
    CHECK(cudaFree(pool));
    CHECK(cudaFree(inputs));
    CHECK(cudaFree(idx));
  }
  return 0;
}
