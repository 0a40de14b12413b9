// Per-block timeline of the decode kernel (experiments/bv_tile, v7, v13 and v20): where the
// microseconds of a small-batch launch go. Built against a copy of cuda/ with clock64 points
// inserted by mark.py (GDN_MARK below records them for thread 0 of every block, with
// %globaltimer at entry, after the wait for the previous grid and at exit), or with
// -DNO_MARKS against cuda/ itself for the timing alone. For each variant and batch: a CUDA
// graph of 512 launches over 512 input sets (> L2), median us per launch over 12 replays;
// with marks, per launch (%globaltimer, ns): the span (first entry to last exit), the spread
// of the entries, the gap from a launch's last exit to the next one's first entry (negative:
// the launches overlap), and for programmatic launches the release (the previous launch's
// last exit to this one's last wait release) and the time from wait to exit; per block, the
// cycles between consecutive points (median and 90th percentile over blocks).
// TP=4 shapes (H=4, HV=8, K=V=128, so B * 8 (sequence, head) pairs), bf16 inputs, raw gates.
// Not a correctness check (the state is zero at the start, the inputs random): a timing probe.
// Usage: timeline [plain|early|programmatic][,...] [B ...]   (default plain, B = 1 32)
//   plain         plain launches, inputs then slot then state (the kernel's ordinary order);
//   early         plain launches with the programmatic order (slot and state first);
//   programmatic  programmatic dependent launches with early state reads (gdn bench --launch
//                 programmatic).
// Build and run: run.sh.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

// One block's record: its launch (told apart by the output pointer of its input set), its
// %globaltimer at entry and exit, and the SM clock at each point relative to entry.
struct ProbeRec { unsigned long long o, entry, wait, exit; unsigned block, smid; long long clk[7]; };
__device__ ProbeRec* g_probe;
__device__ unsigned g_probe_n;
namespace gdn_probe {
// force(values...): the point is read only after these values exist (an empty asm that uses
// them), so that the clock read is not scheduled before the work it closes.
__device__ __forceinline__ void force() {}
template <class T, class... R> __device__ __forceinline__ void force(T x, R... r) {
  if constexpr (sizeof(T) == 4) asm volatile("" :: "r"(*reinterpret_cast<unsigned*>(&x))); else asm volatile("" :: "l"(*reinterpret_cast<unsigned long long*>(&x)));
  force(r...);
}
__device__ __forceinline__ long long clk() { long long c; asm volatile("mov.u64 %0, %%clock64;" : "=l"(c) :: "memory"); return c; }
__device__ __forceinline__ unsigned long long gt() { unsigned long long c; asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(c) :: "memory"); return c; }
__device__ __forceinline__ unsigned smid() { unsigned s; asm volatile("mov.u32 %0, %%smid;" : "=r"(s)); return s; }
}
#ifndef NO_MARKS
#define GDN_MARK(i, ...) GDN_MARK_##i(__VA_ARGS__)
#endif
#define GDN_MARK_0() long long gdn_t[7]; unsigned long long gdn_g0 = gdn_probe::gt(), gdn_gw = gdn_g0; gdn_t[0] = gdn_probe::clk();
#define GDN_MARK_WAIT() gdn_gw = gdn_probe::gt()
#define GDN_MARK_X(i, ...) do { gdn_probe::force(__VA_ARGS__); gdn_t[i] = gdn_probe::clk(); } while (0)
#define GDN_MARK_1(...) GDN_MARK_X(1, __VA_ARGS__)
#define GDN_MARK_2(...) GDN_MARK_X(2, __VA_ARGS__)
#define GDN_MARK_3(...) GDN_MARK_X(3, __VA_ARGS__)
#define GDN_MARK_4(...) GDN_MARK_X(4, __VA_ARGS__)
#define GDN_MARK_5(...) GDN_MARK_X(5, __VA_ARGS__)
#define GDN_MARK_6(...) do { gdn_t[6] = gdn_probe::clk(); unsigned long long g1 = gdn_probe::gt(); if (threadIdx.x == 0) { \
  unsigned i = atomicAdd(&g_probe_n, 1u); ProbeRec& r = g_probe[i]; r.o = (unsigned long long)p.o; r.entry = gdn_g0; r.wait = gdn_gw; r.exit = g1; \
  r.block = blockIdx.x; r.smid = gdn_probe::smid(); for (int j = 0; j < 7; ++j) r.clk[j] = gdn_t[j] - gdn_t[0]; } } while (0)
#include "launch.cuh"
using namespace gdn::kernels;
#define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("%s: %s\n", #x, cudaGetErrorString(e)); exit(1); } } while (0)

template <class Tr>
void run(const char* name, int B, int sets, bool programmatic, bool early) {
  const int H = 4, HV = 8, K = 128, V = 128;
  using S = typename Tr::StateT;
  size_t qk = (size_t)B * H * K, vv = (size_t)B * HV * V, gg = (size_t)B * HV, st = (size_t)B * HV * K * V;
  std::vector<uint16_t> hq(qk * sets), hv(vv * sets), hg(gg * sets);
  std::mt19937 rng(1);
  auto bf = [](float f) { uint32_t u; memcpy(&u, &f, 4); return (uint16_t)(u >> 16); };
  std::uniform_real_distribution<float> U(-1, 1);
  for (auto& x : hq) x = bf(U(rng));
  for (auto& x : hv) x = bf(U(rng));
  for (auto& x : hg) x = bf(U(rng));
  void *q, *k, *v, *a, *b, *o, *pool; float *Al, *dt; int32_t* idx;
  CK(cudaMalloc(&q, qk * sets * 2)); CK(cudaMalloc(&k, qk * sets * 2)); CK(cudaMalloc(&v, vv * sets * 2));
  CK(cudaMalloc(&a, gg * sets * 2)); CK(cudaMalloc(&b, gg * sets * 2)); CK(cudaMalloc(&o, vv * sets * 2));
  CK(cudaMalloc(&pool, st * sets * sizeof(S))); CK(cudaMemset(pool, 0, st * sets * sizeof(S)));
  CK(cudaMalloc(&Al, HV * 4)); CK(cudaMalloc(&dt, HV * 4)); CK(cudaMalloc(&idx, B * sets * 4));
  CK(cudaMemcpy(q, hq.data(), qk * sets * 2, cudaMemcpyHostToDevice)); CK(cudaMemcpy(k, hq.data(), qk * sets * 2, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(v, hv.data(), vv * sets * 2, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(a, hg.data(), gg * sets * 2, cudaMemcpyHostToDevice)); CK(cudaMemcpy(b, hg.data(), gg * sets * 2, cudaMemcpyHostToDevice));
  std::vector<float> hA(HV, -1.0f), hd(HV, 0.5f);
  CK(cudaMemcpy(Al, hA.data(), HV * 4, cudaMemcpyHostToDevice)); CK(cudaMemcpy(dt, hd.data(), HV * 4, cudaMemcpyHostToDevice));
  std::vector<int32_t> hi(B * sets); for (int i = 0; i < B * sets; ++i) hi[i] = i;
  CK(cudaMemcpy(idx, hi.data(), B * sets * 4, cudaMemcpyHostToDevice));
  const int blocks = B * HV * (V / Tr::kBV);
  const int launches = sets;
  ProbeRec* rec; CK(cudaMalloc(&rec, sizeof(ProbeRec) * blocks * launches));
  CK(cudaMemcpyToSymbol(g_probe, &rec, sizeof rec));
  cudaStream_t s; CK(cudaStreamCreate(&s));
  auto params = [&](int i) {
    RecurrentParams p; p.N = B; p.H = H; p.HV = HV; p.K = K; p.V = V; p.tokens_per_seq = 1;
    p.q = (uint16_t*)q + qk * i; p.k = (uint16_t*)k + qk * i; p.v = (uint16_t*)v + vv * i;
    p.q_token_stride = H * K; p.q_head_stride = K; p.k_token_stride = H * K; p.k_head_stride = K;
    p.v_token_stride = HV * V; p.v_head_stride = V; p.gate_mode = GateMode::Raw;
    p.a = (uint16_t*)a + gg * i; p.b = (uint16_t*)b + gg * i; p.A_log = Al; p.dt_bias = dt; p.gate_token_stride = HV; p.gate_head_stride = 1;
    p.norm = NormMode::L2Eps; p.scale = 0.08838834764831845; p.state = pool; p.state_slot_stride = (int64_t)HV * K * V; p.state_head_stride = (int64_t)K * V;
    p.state_indices = idx + B * i; p.o = (uint16_t*)o + vv * i; p.o_token_stride = HV * V; p.o_head_stride = V;
    p.programmatic_launch = programmatic; p.early_state_reads = early; return p;
  };
  cudaGraph_t g; cudaGraphExec_t ge;
  CK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  for (int i = 0; i < launches; ++i) launch_recurrent<Tr>(params(i), s);
  CK(cudaStreamEndCapture(s, &g)); CK(cudaGraphInstantiate(&ge, g, 0));
  cudaEvent_t e0, e1; CK(cudaEventCreate(&e0)); CK(cudaEventCreate(&e1));
  std::vector<float> ts;
  for (int r = 0; r < 12; ++r) {
    unsigned zero = 0; CK(cudaMemcpyToSymbol(g_probe_n, &zero, 4));
    CK(cudaEventRecord(e0, s)); CK(cudaGraphLaunch(ge, s)); CK(cudaEventRecord(e1, s)); CK(cudaStreamSynchronize(s));
    float ms; CK(cudaEventElapsedTime(&ms, e0, e1)); ts.push_back(ms * 1000 / launches);
  }
  std::sort(ts.begin(), ts.end());
  const char* mode = programmatic ? "prog" : early ? "early" : "plain";
#ifdef NO_MARKS
  printf("%-28s B=%-3d %-5s: %.2f us/launch (graph, min %.2f)\n", name, B, mode, ts[ts.size() / 2], ts[0]);
  return;
#endif
  std::vector<ProbeRec> hr(blocks * launches); CK(cudaMemcpy(hr.data(), rec, sizeof(ProbeRec) * blocks * launches, cudaMemcpyDeviceToHost));
  // Launch l's blocks are told apart by their output pointer, which grows with l.
  std::sort(hr.begin(), hr.end(), [](auto& x, auto& y) { return x.o != y.o ? x.o < y.o : x.block < y.block; });
  std::vector<double> span, entry_spread, gap, release, period, ph[7], before_wait, after_wait;
  std::vector<unsigned long long> first_entry(launches, ~0ull), last_exit(launches, 0), last_entry(launches, 0), last_wait(launches, 0);
  for (int l = 0; l < launches; ++l)
    for (int bI = 0; bI < blocks; ++bI) {
      const ProbeRec& r = hr[(size_t)l * blocks + bI];
      first_entry[l] = std::min(first_entry[l], r.entry); last_entry[l] = std::max(last_entry[l], r.entry);
      last_exit[l] = std::max(last_exit[l], r.exit); last_wait[l] = std::max(last_wait[l], r.wait);
      for (int j = 1; j < 7; ++j) ph[j].push_back(r.clk[j] - r.clk[j - 1]);
      before_wait.push_back((double)r.wait - (double)r.entry); after_wait.push_back((double)r.exit - (double)r.wait);
    }
  for (int l = 0; l < launches; ++l) {
    span.push_back((double)last_exit[l] - (double)first_entry[l]);
    entry_spread.push_back((double)last_entry[l] - (double)first_entry[l]);
    if (l == 0) continue;
    gap.push_back((double)first_entry[l] - (double)last_exit[l - 1]);
    release.push_back((double)last_wait[l] - (double)last_exit[l - 1]);
    period.push_back((double)first_entry[l] - (double)first_entry[l - 1]);
  }
  auto pct = [](std::vector<double> x, double f) { std::sort(x.begin(), x.end()); return x[(size_t)(f * (x.size() - 1))]; };
  auto med = [&](const std::vector<double>& x) { return pct(x, 0.5); };
  printf("%-28s B=%-3d %-5s: %.2f us/launch (graph, min %.2f); per launch (ns, median): period %.0f, span %.0f, entry spread %.0f, gap %.0f (p10 %.0f)",
         name, B, mode, ts[ts.size() / 2], ts[0], med(period), med(span), med(entry_spread), med(gap), pct(gap, 0.1));
  if (programmatic) printf(", release after the previous exit %.0f; per block: entry->wait %.0f, wait->exit %.0f", med(release), med(before_wait), med(after_wait));
  printf("\n");
  const char* names[7] = {"", "entry->slot", "slot->norms", "->pass 1 (state)", "reduce, uk", "update pass", "->outputs stored"};
  printf("   phases (cycles, median / p90 over blocks):");
  for (int j = 1; j < 7; ++j) printf(" %s %.0f/%.0f;", names[j], med(ph[j]), pct(ph[j], 0.9));
  printf("\n");
  cudaFree(q); cudaFree(k); cudaFree(v); cudaFree(a); cudaFree(b); cudaFree(o); cudaFree(pool); cudaFree(Al); cudaFree(dt); cudaFree(idx); cudaFree(rec);
  cudaGraphExecDestroy(ge); cudaGraphDestroy(g); cudaStreamDestroy(s);
}
int main(int argc, char** argv) {
  std::vector<std::string> modes;
  for (std::string m = argc > 1 ? argv[1] : "plain"; !m.empty();) {
    const size_t comma = m.find(',');
    modes.push_back(m.substr(0, comma));
    m = comma == std::string::npos ? "" : m.substr(comma + 1);
  }
  for (const std::string& mode : modes)
    if (mode != "plain" && mode != "early" && mode != "programmatic") {
      printf("usage: timeline [plain|early|programmatic][,...] [B ...]\n");
      return 2;
    }
  std::vector<int> batches;
  for (int i = 2; i < argc; ++i) batches.push_back(std::atoi(argv[i]));
  if (batches.empty()) batches = {1, 32};
  for (int B : batches)
    if (B < 1) { printf("batch must be >= 1\n"); return 2; }
  int clk; cudaDeviceGetAttribute(&clk, cudaDevAttrClockRate, 0); printf("SM clock %d kHz\n", clk);
  for (const std::string& mode : modes) {
    const bool programmatic = mode == "programmatic", early = mode != "plain";
    for (int B : batches) {
      run<RecurrentTraits<bf16, bf16, true, 8, 32, 16, false, false>>("vk-bf16-bv8", B, 512, programmatic, early);
      run<RecurrentTraits<bf16, bf16, true, 16, 32, 16, false, false>>("vk-bf16-bv16", B, 512, programmatic, early);
      run<RecurrentTraits<bf16, bf16, true, 32, 64, 8, false, false>>("vk-bf16-bv32", B, 512, programmatic, early);
      run<RecurrentTraits<bf16, bf16, true, 32, 128, 6, false, false>>("vk-bf16-bv32-t128-o6", B, 512, programmatic, early);
      run<RecurrentTraits<bf16, bf16, true, 64, 128, 4, false, false>>("vk-bf16-bv64", B, 512, programmatic, early);
      run<RecurrentTraits<bf16, bf16, false, 32, 64, 8, false, false>>("kv-bf16-bv32-o8", B, 512, programmatic, early);
      run<RecurrentTraits<bf16, bf16, false, 64, 128, 4, false, false>>("kv-bf16-bv64-o4", B, 512, programmatic, early);
      run<RecurrentTraits<bf16, bf16, false, 128, 256, 2, false, false>>("kv-bf16-bv128-o2", B, 512, programmatic, early);
      run<RecurrentTraits<bf16, bf16, false, 32, 64, 8, false, false, 1, 2>>("kv-bf16-bv32-o8-wv2", B, 512, programmatic, early);
      run<RecurrentTraits<bf16, bf16, false, 128, 128, 5, false, true>>("kv-bf16-bv128-t128-sh", B, 512, programmatic, early);
      run<RecurrentTraits<float, bf16, true, 8, 32, 1, false, false>>("vk-fp32-bv8", B, 512, programmatic, early);
    }
  }
}
