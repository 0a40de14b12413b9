// The recurrent kernel: one block per (sequence, value head, BV tile of value columns) loops
// over the tokens of its sequence with its K x BV slice of the state on chip (in registers
// or in shared memory: state_tile.cuh; with a K split, a cluster of blocks each holding some
// of its rows), rounding it to the state type after every token.
// T = 1 is decode; T <= 8 with per-token slots is speculative decode; long T is the drift
// kernel; double is the on-GPU oracle. Each token is two passes over the tile: k . s (VK with
// a bf16 state: and q . s, whose sums give the output, step.hpp output_from_sums), then the
// decay and the update (the others: and q . s over the updated state), the storage rounding
// and the stores, vector by vector (kernel_traits.hpp, kOutputFromSums).
//
// Decode is bound by per-block latency and by instruction issue (experiments/bv_tile): every
// block pays a fixed cost per token (gates, norms, reductions) that its state elements
// amortise, and waits for two dependent loads (slot index, then state). So: the block
// located by branch-free multiplications whose launch constants share the parameter
// bank's first cache lines (params.hpp); the inputs issued before the slot lookup and the
// state loads after it alone, in that order (ordered_load.hpp, load_if), and the state
// first used after the gates and norms, so that its latency hides them (experiments/bv_tile,
// v7 and v8, measure where the time goes and what the compiler did with it); k . s taken over the
// undecayed state (the decay goes on the sums), so that it does not wait for the gates;
// one reciprocal per norm instead of a division per element; the state kept packed as
// stored (bf16 pairs rounded two per instruction) and written with one vector store per
// memory vector; and (shared tile) more resident blocks per SM. With a programmatic launch
// the slot and state loads may also precede the wait for the previous kernel (params.hpp),
// with an L2 prefetch of the token's input lines at few pairs per SM (prefetch_token_lines),
// and the next launch may begin once every block has waited (grid_dependency.cuh).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "cluster.cuh"
#include "grid_dependency.cuh"
#include "kernel_traits.hpp"
#include "ordered_load.hpp"
#include "params.hpp"
#include "state_tile.cuh"
#include "step.hpp"

namespace gdn::kernels {

// N contiguous elements from p in compute type: 16-, 8- or 4-byte accesses where p is
// aligned to them (a packed or strided view may not be), else scalar loads; issued in
// program order (ordered_load.hpp).
template <class T, int N, class C>
__device__ __forceinline__ void load_run(const T* p, C* out) {
  constexpr int kBytes = N * static_cast<int>(sizeof(T));
  constexpr int kChunk = kBytes >= 16 ? 16 : kBytes >= 8 ? 8 : kBytes >= 4 ? 4 : 0;
  if constexpr (kChunk > 0 && kBytes % kChunk == 0) {
    constexpr int kPer = kChunk / static_cast<int>(sizeof(T));
    using Raw = std::conditional_t<kChunk == 16, uint4, std::conditional_t<kChunk == 8, uint2, uint32_t>>;
    if (reinterpret_cast<uintptr_t>(p) % kChunk == 0) {
#pragma unroll
      for (int c = 0; c < N / kPer; ++c) {
        const Raw raw = load_in_order(reinterpret_cast<const Raw*>(p) + c);
        unpack<T, kPer>(raw, out + c * kPer);
      }
      return;
    }
  }
#pragma unroll
  for (int i = 0; i < N; ++i) out[i] = load_as_compute(load_in_order(p + i));
}

template <class C, int kLanes, int kStride>
__device__ __forceinline__ C butterfly_sum(C x) {
#pragma unroll
  for (int m = kLanes / 2; m >= 1; m /= 2) x = x + __shfl_xor_sync(0xffffffffu, x, m * kStride);
  return x;
}

// The shared memory of a reduction: [kSums][kWarpsK][kBV] warp sums, and with a K split
// [kSums][kBV] totals after them.
template <class Tr, int kSums>
inline constexpr int kReductionFloats =
    Tr::kClusterWarpsK == 1 ? 1 : kSums * Tr::kWarpsK * Tr::kBV + (Tr::kSplitK > 1 ? kSums * Tr::kBV : 0);

// Each warp's sums of its columns (after the butterfly) into `red` [kSums][kWarpsK][kBV], one
// lane per column.
template <class Tr, int kSums>
__device__ __forceinline__ void write_warp_sums(const typename Tr::ComputeT (&x)[kSums][Tr::kCols],
                                                typename Tr::ComputeT* red, int tid, int cg) {
  constexpr int kWarpStride = Tr::kBV, kSumStride = Tr::kWarpsK * Tr::kBV;
  const int warp = Tr::warp_k(tid);
  if ((tid % Tr::kWarpSize) / Tr::kLaneStrideK == 0) {
#pragma unroll
    for (int s = 0; s < kSums; ++s)
#pragma unroll
      for (int c = 0; c < Tr::kCols; ++c) red[s * kSumStride + warp * kWarpStride + Tr::col_of(cg, c)] = x[s][c];
  }
}

// The warp sums of a K split: every block writes its warps' sums to its own `red`; after a
// cluster barrier the block's threads share out its kSums x kBV totals, each total summing
// the warps of the cluster in order (block by block, each block's from its shared memory:
// cluster.cuh), into the block's totals; a block barrier; each thread reads its columns'.
// The blocks arrive at the cluster barrier once more when done reading the others' sums, and
// wait for that before they write theirs again (here, `reduction` > 0) and before they exit
// (finish_cluster_reads).
template <class Tr, int kSums>
__device__ __forceinline__ void sum_cluster_warps(typename Tr::ComputeT (&x)[kSums][Tr::kCols], typename Tr::ComputeT* red,
                                                  int tid, int cg, int reduction) {
  using C = typename Tr::ComputeT;
  constexpr int kWarpStride = Tr::kBV, kSumStride = Tr::kWarpsK * Tr::kBV, kTotals = kSums * Tr::kBV;
  C* totals = red + kSums * kSumStride;  // [kSums][kBV]
  if (reduction > 0) cluster_wait();  // every block has read the last reduction's sums
  write_warp_sums<Tr, kSums>(x, red, tid, cg);
  cluster_arrive();
  cluster_wait();
#pragma unroll
  for (int j = 0; j < (kTotals + Tr::kThreads - 1) / Tr::kThreads; ++j) {
    const int i = tid + j * Tr::kThreads;
    if (kTotals % Tr::kThreads != 0 && i >= kTotals) break;
    const int s = i / Tr::kBV, col = i % Tr::kBV;
    C sum = C(0);
#pragma unroll
    for (int b = 0; b < Tr::kSplitK; ++b) {
      const C* from = cluster_shared(red, static_cast<unsigned>(b));
#pragma unroll
      for (int w = 0; w < Tr::kWarpsK; ++w) {
        const C part = from[s * kSumStride + w * kWarpStride + col];
        sum = b == 0 && w == 0 ? part : sum + part;
      }
    }
    totals[i] = sum;
  }
  cluster_arrive();
  __syncthreads();
#pragma unroll
  for (int s = 0; s < kSums; ++s)
#pragma unroll
    for (int c = 0; c < Tr::kCols; ++c) x[s][c] = totals[s * Tr::kBV + Tr::col_of(cg, c)];
}
// A K split's blocks wait, before they exit, until every block of the cluster has read the
// last reduction's sums from their shared memory.
template <class Tr>
__device__ __forceinline__ void finish_cluster_reads(int reductions) {
  if constexpr (Tr::kSplitK > 1)
    if (reductions > 0) cluster_wait();
}

// Sums over K of each of the thread's column partials, kSums of them per column (k . s and
// q . s): butterfly within the warp, then (KV) warps in order through shared memory `red`
// [kSums][kWarpsK][kBV], one barrier for all. Every thread of a column ends with the same
// totals. A K split (kSplitK > 1) sums the warps of the cluster's blocks instead
// (sum_cluster_warps); `reduction` counts the reductions before this one.
template <class Tr, int kSums>
__device__ __forceinline__ void reduce_over_k(typename Tr::ComputeT (&x)[kSums][Tr::kCols], typename Tr::ComputeT* red,
                                              int tid, int cg, int reduction) {
  using C = typename Tr::ComputeT;
#pragma unroll
  for (int s = 0; s < kSums; ++s)
#pragma unroll
    for (int c = 0; c < Tr::kCols; ++c) x[s][c] = butterfly_sum<C, Tr::kLanesK, Tr::kLaneStrideK>(x[s][c]);
  if constexpr (Tr::kSplitK > 1) {
    sum_cluster_warps<Tr, kSums>(x, red, tid, cg, reduction);
  } else if constexpr (Tr::kWarpsK > 1) {
    constexpr int kWarpStride = Tr::kBV, kSumStride = Tr::kWarpsK * Tr::kBV;
    write_warp_sums<Tr, kSums>(x, red, tid, cg);
    __syncthreads();
#pragma unroll
    for (int s = 0; s < kSums; ++s)
#pragma unroll
      for (int c = 0; c < Tr::kCols; ++c) {
        C sum = red[s * kSumStride + Tr::col_of(cg, c)];
#pragma unroll
        for (int w = 1; w < Tr::kWarpsK; ++w) sum = sum + red[s * kSumStride + w * kWarpStride + Tr::col_of(cg, c)];
        x[s][c] = sum;
      }
  }
}

// The same sums within one warp (kReduceInWarp) with fewer shuffles: a reduce-scatter in
// which each butterfly level sends half of the lane's remaining columns (every sum is the
// butterfly's v[l] + v[l ^ m], so the totals are bit for bit the same), leaving column
// scattered_col(lane_k) in each lane; kLevels halving levels in all.
template <class Tr>
struct Scatter {
  static constexpr int kLevels = [] {
    int n = 0;
    for (int c = Tr::kCols, l = Tr::kLanesK; c > 1 && l > 1; c /= 2, l /= 2) ++n;
    return n;
  }();
  static constexpr int kLeft = Tr::kCols >> kLevels;  // columns a lane holds after the halving levels
};

template <class Tr>
__device__ __forceinline__ void reduce_scatter(typename Tr::ComputeT (&x)[Tr::kCols], int lane_k) {
  using C = typename Tr::ComputeT;
  constexpr int L = Tr::kLanesK;
#pragma unroll
  for (int m = L / 2, level = 0; m >= 1; m /= 2, ++level) {
    if (level < Scatter<Tr>::kLevels) {
      const int half = Tr::kCols >> (level + 1);
      const bool upper = (lane_k & m) != 0;
#pragma unroll
      for (int i = 0; i < half; ++i) {
        const C send = upper ? x[i] : x[i + half];
        const C keep = upper ? x[i + half] : x[i];
        x[i] = keep + __shfl_xor_sync(0xffffffffu, send, m * Tr::kLaneStrideK);
      }
    } else {
#pragma unroll
      for (int i = 0; i < Scatter<Tr>::kLeft; ++i) x[i] = x[i] + __shfl_xor_sync(0xffffffffu, x[i], m * Tr::kLaneStrideK);
    }
  }
}
// The column (0 .. kCols-1) that x[i] holds after reduce_scatter in lane lane_k.
template <class Tr>
__device__ __forceinline__ int scattered_col(int lane_k, int i) {
  int col = 0;
#pragma unroll
  for (int level = 0, m = Tr::kLanesK / 2; level < Scatter<Tr>::kLevels; ++level, m /= 2)
    if (lane_k & m) col += Tr::kCols >> (level + 1);
  return col + i;
}
// x[i] for i = the register index of column c (0 .. kCols-1), by selects: c is a run-time
// value (a scattered column), and an indexed register array would go to local memory.
template <int N, class C>
__device__ __forceinline__ C select_column(const C (&x)[N], int c) {
  C r = x[0];
#pragma unroll
  for (int i = 1; i < N; ++i) r = c == i ? x[i] : r;
  return r;
}
// Undoes the scatter: every lane gets every column's value back in x[0 .. kCols-1].
template <class Tr>
__device__ __forceinline__ void all_gather(typename Tr::ComputeT (&x)[Tr::kCols], int lane_k) {
  using C = typename Tr::ComputeT;
#pragma unroll
  for (int level = Scatter<Tr>::kLevels - 1; level >= 0; --level) {
    const int m = Tr::kLanesK >> (level + 1);
    const int half = Tr::kCols >> (level + 1);
    const bool upper = (lane_k & m) != 0;
    C mine[Tr::kCols], theirs[Tr::kCols];
#pragma unroll
    for (int i = 0; i < half; ++i) {
      mine[i] = x[i];
      theirs[i] = __shfl_xor_sync(0xffffffffu, x[i], m * Tr::kLaneStrideK);
    }
#pragma unroll
    for (int i = 0; i < half; ++i) {
      x[i] = upper ? theirs[i] : mine[i];
      x[i + half] = upper ? mine[i] : theirs[i];
    }
  }
}

// Writes the outputs of the columns whose sums over K this thread holds after the reduction
// (value(i): the output of the thread's i-th held column, in compute type), one thread per
// column: after reduce_scatter (kReduceInWarp) the lanes that the halving levels leave with
// distinct columns, x[i] being scattered_col(lane_k, i); after reduce_over_k every thread of
// the column group (of every block of a K split) holds every column, and lane_k == 0 writes
// them.
template <class Tr, class OutputT, class Value>
__device__ __forceinline__ void store_reduced_outputs(OutputT* out, int lane_k, int cg, Value value) {
  if constexpr (Tr::kReduceInWarp) {
    constexpr int kHalvingMask = Tr::kLanesK - (Tr::kLanesK >> Scatter<Tr>::kLevels);
    if ((lane_k & ~kHalvingMask) != 0) return;  // a lane whose columns another lane also holds
#pragma unroll
    for (int i = 0; i < Scatter<Tr>::kLeft; ++i)
      out[Tr::col_of(cg, scattered_col<Tr>(lane_k, i))] = store_from_compute<OutputT>(value(i));
  } else {
    if (lane_k != 0) return;
#pragma unroll
    for (int c = 0; c < Tr::kCols; ++c) out[Tr::col_of(cg, c)] = store_from_compute<OutputT>(value(c));
  }
}

// What one token feeds a thread, as loaded (before normalisation and gating).
template <class Tr>
struct TokenInputs {
  using C = typename Tr::ComputeT;
  C q[Tr::kRows], k[Tr::kRows];  // at the thread's rows
  C qn[Tr::kIsVK ? 1 : Tr::kNormPerLane], kn[Tr::kIsVK ? 1 : Tr::kNormPerLane];  // KV: the lane's norm elements
  C v[Tr::kCols];
  C gate0, gate1;  // a, b (raw) or g, beta (precomputed)
};

// Where a token's inputs lie: q and k of the thread's key head, v at the block's columns
// (token_addresses), and the element index of its gates (gate_index, step.hpp). load_token
// reads from there and prefetch_token_lines prefetches the same lines.
template <class Tr>
struct TokenAddresses {
  const typename Tr::InputT *q, *k, *v;  // [K], [K], [BV]
};
template <class Tr>
__device__ __forceinline__ TokenAddresses<Tr> token_addresses(const RecurrentParams& p, int t, int h, int hv, int col0) {
  using InputT = typename Tr::InputT;
  return {static_cast<const InputT*>(p.q) + t * p.q_token_stride + h * p.q_head_stride,
          static_cast<const InputT*>(p.k) + t * p.k_token_stride + h * p.k_head_stride,
          static_cast<const InputT*>(p.v) + t * p.v_token_stride + hv * p.v_head_stride + col0};
}

template <class Tr>
__device__ __forceinline__ void load_token(const RecurrentParams& p, int t, int h, int hv, int col0, int tk, int cg, int lane,
                                           TokenInputs<Tr>& in) {
  using InputT = typename Tr::InputT;
  using C = typename Tr::ComputeT;
  const TokenAddresses<Tr> at = token_addresses<Tr>(p, t, h, hv, col0);
#pragma unroll
  for (int run = 0; run < Tr::kRowRuns; ++run) {
    const int i = Tr::row_of(tk, run * Tr::kRowRun);
    load_run<InputT, Tr::kRowRun>(at.q + i, in.q + run * Tr::kRowRun);
    load_run<InputT, Tr::kRowRun>(at.k + i, in.k + run * Tr::kRowRun);
  }
  if constexpr (!Tr::kIsVK) {
    load_run<InputT, Tr::kNormPerLane>(at.q + lane * Tr::kNormPerLane, in.qn);
    load_run<InputT, Tr::kNormPerLane>(at.k + lane * Tr::kNormPerLane, in.kn);
  }
  load_run<InputT, Tr::kCols>(at.v + Tr::col_of(cg, 0), in.v);
  const int64_t gi = gate_index(p, t, hv);
  if (p.gate_mode == GateMode::Raw) {
    in.gate0 = load_as_compute(load_in_order(static_cast<const InputT*>(p.a) + gi));
    in.gate1 = load_as_compute(load_in_order(static_cast<const InputT*>(p.b) + gi));
  } else {
    in.gate0 = load_in_order(static_cast<const C*>(p.g) + gi);
    in.gate1 = load_as_compute(load_in_order(static_cast<const InputT*>(p.beta) + gi));
  }
}

// With early state reads: the 128-byte lines of the token's q, k, v (the block's columns)
// and gates fetched into L2 before the wait for the previous kernel, each line by one lane
// of the block's first warp (8 lanes per input, the first 1 KB of it; lanes 24 and 25 the
// two gates), so that the loads after the wait find them there. A prefetch returns nothing,
// and what the previous kernel writes lands in L2 over it, so those loads still read its
// values. Each thread prefetching what it loads itself asked L2 for the same lines up to
// 128 times per block and was up to 20% slower from B = 8; once per line, the family's
// choice at B <= 32 takes 0.86-1.04 of the time without a prefetch (experiments/bv_tile, v13
// and v14).
//
// A build of its own (kPrefetchInputs), launched below kPrefetchBelowPairsPerSM pairs per SM
// (launch.cuh): where it is compiled in, the kernel was 1-8% slower at large batches even
// with the prefetch branched around at run time (experiments/bv_tile, v14).
template <class Tr>
__device__ __forceinline__ void prefetch_token_lines(const RecurrentParams& p, int t, int h, int hv, int col0, int tid) {
  using InputT = typename Tr::InputT;
  using C = typename Tr::ComputeT;
  constexpr int kLine = 128, kLanesPerInput = 8;
  if (tid >= Tr::kWarpSize) return;
  const int input = tid / kLanesPerInput, line = tid % kLanesPerInput;
  // The addresses in the branch of the lane that prefetches them: taken once before the
  // branches, they changed the SASS of every prefetching build.
  const int64_t gi = gate_index(p, t, hv);
  const bool raw = p.gate_mode == GateMode::Raw;
  const char* first;
  int bytes;
  if (input == 0) {
    first = reinterpret_cast<const char*>(token_addresses<Tr>(p, t, h, hv, col0).q);
    bytes = Tr::kK * static_cast<int>(sizeof(InputT));
  } else if (input == 1) {
    first = reinterpret_cast<const char*>(token_addresses<Tr>(p, t, h, hv, col0).k);
    bytes = Tr::kK * static_cast<int>(sizeof(InputT));
  } else if (input == 2) {
    first = reinterpret_cast<const char*>(token_addresses<Tr>(p, t, h, hv, col0).v);
    bytes = Tr::kBV * static_cast<int>(sizeof(InputT));
  } else {
    if (line > 1) return;
    first = line == 0 ? (raw ? reinterpret_cast<const char*>(static_cast<const InputT*>(p.a) + gi)
                             : reinterpret_cast<const char*>(static_cast<const C*>(p.g) + gi))
                      : reinterpret_cast<const char*>(static_cast<const InputT*>(raw ? p.b : p.beta) + gi);
    bytes = 1;
  }
  const uintptr_t begin = reinterpret_cast<uintptr_t>(first);
  const uintptr_t at = (begin & ~static_cast<uintptr_t>(kLine - 1)) + static_cast<uintptr_t>(input == 3 ? 0 : line * kLine);
  if (at > begin + static_cast<uintptr_t>(bytes - 1)) return;
  asm volatile("prefetch.global.L2 [%0];" ::"l"(at));
}

template <class C>
struct HeadParams {
  C A_log = C(0), dt_bias = C(0);  // raw gates only
};
template <class C>
__device__ __forceinline__ HeadParams<C> load_head_params(const RecurrentParams& p, int hv) {
  HeadParams<C> hp;
  if (p.gate_mode == GateMode::Raw) {
    hp.A_log = load_in_order(static_cast<const C*>(p.A_log) + hv);
    hp.dt_bias = load_in_order(static_cast<const C*>(p.dt_bias) + hv);
  }
  return hp;
}

// What a token's step needs besides its inputs and the state: the normalisation factors of
// q (with the scale folded in) and k, and the gates. The first token's are computed before
// the token loop, right after the state's loads are issued: inside the loop, ptxas waits at
// the loop head for every load whose scoreboard the loop's own loads share, the state's
// included, and the gates (~400 cycles) would then start only once the state is in.
template <class C>
struct TokenFactors {
  C rq, rk;
  C qk;  // q . k as loaded (kOutputFromSums: output_from_sums)
  Gates<C> gates;
};
// Norms and q . k: VK over the thread's own rows and the 16 lanes of its column's K group, KV
// over one warp; one reciprocal per norm, applied to the column sums rather than to every
// element: k^ . s = rk (k . s), k^ u = k (rk u), q~ . s = rq (q . s).
template <class Tr, class A>
__device__ __forceinline__ TokenFactors<typename Tr::ComputeT> token_factors(const RecurrentParams& p,
                                                                             const TokenInputs<Tr>& in,
                                                                             const HeadParams<typename Tr::ComputeT>& hp) {
  using C = typename Tr::ComputeT;
  C ssq = C(0), ssk = C(0), sqk = C(0);
#pragma unroll
  for (int e = 0; e < Tr::kNormPerLane; ++e) {
    const C qx = Tr::kIsVK ? in.q[e] : in.qn[Tr::kIsVK ? 0 : e];
    const C kx = Tr::kIsVK ? in.k[e] : in.kn[Tr::kIsVK ? 0 : e];
    ssq = fma_c(qx, qx, ssq);
    ssk = fma_c(kx, kx, ssk);
    if constexpr (Tr::kOutputFromSums) sqk = fma_c(qx, kx, sqk);
  }
  ssq = butterfly_sum<C, Tr::kNormLanes, 1>(ssq);
  ssk = butterfly_sum<C, Tr::kNormLanes, 1>(ssk);
  TokenFactors<C> f;
  f.qk = Tr::kOutputFromSums ? butterfly_sum<C, Tr::kNormLanes, 1>(sqk) : C(0);
  f.rq = norm_factor<C, A>(p.norm, ssq, static_cast<C>(p.scale));
  f.rk = norm_factor<C, A>(p.norm, ssk, C(1));
  f.gates = token_gates<C, A>(p.gate_mode, hp.A_log, hp.dt_bias, in.gate0, in.gate1, p.beta_bf16, p.decay_bf16);
  return f;
}

// The storage rounding of one memory vector of the state (bf16: nearest even, two elements
// per instruction, or stochastic with the element's counter; float and double: none), as
// memory holds it.
template <class Tr>
__device__ __forceinline__ Raw<Tr> round_to_state(const typename Tr::ComputeT (&x)[Tr::kVec], int vi, int t, int hv,
                                                  const RecurrentParams& p, int col0, int tk, int cg) {
  if constexpr (Tr::kStochastic) {
    union {
      Raw<Tr> raw;
      uint32_t w[Tr::kVec / 2];
    } u;
#pragma unroll
    for (int i = 0; i < Tr::kVec / 2; ++i) {
      uint32_t half[2];
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int r = Tr::vec_r(vi, 2 * i + e), c = Tr::vec_c(vi, 2 * i + e);
        const uint64_t counter = rounding_counter(t, hv, p.HV, Tr::row_of(tk, r), Tr::kK, col0 + Tr::col_of(cg, c), p.V);
        half[e] = bf16_bits_stochastic(static_cast<float>(x[2 * i + e]), random16(p.seed, counter));
      }
      u.w[i] = half[0] | (half[1] << 16);
    }
    return u.raw;
  } else {
    return pack_nearest<Tr>(x);  // for bf16 this is the nearest-even rounding itself
  }
}

// kEarlyStateReads: p.early_state_reads (params.hpp), a template argument so that the
// ordinary order (inputs, slot, state) has no branch between the input loads and the state
// loads for the compiler to put the inputs' waits in front of. kPrefetchInputs (with early
// state reads only): prefetch_token_lines before the wait. Arith: how the gates and norms
// divide and take square roots (numeric.hpp: BranchFree or Intrinsic). launch.cuh picks the
// build.
template <class Tr, bool kEarlyStateReads, bool kPrefetchInputs, class Arith>
__global__ void __launch_bounds__(Tr::kThreads, Tr::kMinBlocks) recurrent_kernel(const __grid_constant__ RecurrentParams p) {
  using C = typename Tr::ComputeT;
  using StateT = typename Tr::StateT;
  using OutputT = typename Tr::OutputT;
  constexpr int kCols = Tr::kCols;

#if !GDN_HAS_CLUSTERS
  if constexpr (Tr::kSplitK > 1) {  // never launched here (launch.cuh); compiled to nothing
    __trap();
    return;
  }
#endif
  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid % Tr::kWarpSize;
  // Block = ((n HV + hv) tiles + vt) kSplitK + rank, located by multiplications
  // (FastDivisor; tiles_divisor divides by tiles * kSplitK): the first loads wait for these
  // indices. rank: the block's place in its cluster (kSplitK > 1), which holds rows
  // rank K / kSplitK onwards.
  const uint32_t pair = divide_fast(blockIdx.x, p.tiles_divisor);  // n HV + hv
  const int tile_rank = static_cast<int>(blockIdx.x - pair * p.tiles_divisor.d);
  const int vt = tile_rank / Tr::kSplitK, rank = tile_rank % Tr::kSplitK;
  const int n = static_cast<int>(divide_fast(pair, p.heads_divisor));
  const int hv = static_cast<int>(pair - static_cast<uint32_t>(n) * p.heads_divisor.d);
  const int col0 = vt * Tr::kBV;
  const int h = static_cast<int>(divide_fast(static_cast<uint32_t>(hv), p.group_divisor));
  const int tk = Tr::thread_k(tid, rank), cg = Tr::thread_col_group(tid);
  OutputT* o = static_cast<OutputT*>(p.o);

  // Issue order (ordered_load.hpp): the token's inputs and the head's gate weights, then the
  // slot lookup, then the state, predicated off for a padded row rather than branched
  // around, so that the state's loads wait for the slot alone and the inputs' latency
  // overlaps the slot's; the state is first used after the gates and norms, which overlap
  // its latency. With early_state_reads (params.hpp) the slot and the state go first, before
  // the wait for the previous kernel of the stream, the inputs after it (experiments/bv_tile,
  // v7 and v8, measure both).
  if constexpr (!kEarlyStateReads)
    if (p.programmatic_launch) wait_then_allow_next_grid();
  const SequenceTokens tokens = sequence_tokens(p, n);
  TokenInputs<Tr> in;
  if constexpr (!kEarlyStateReads) load_token<Tr>(p, tokens.begin, h, hv, col0, tk, cg, lane, in);
  // The head's gate weights, loaded once, not in the token loop where they would be a
  // dependent load on the way to the gates.
  const HeadParams<C> head_params = load_head_params<C>(p, hv);
  const SequenceSlots seq = sequence_slots(p, n, tokens);

  StateT* pool = static_cast<StateT*>(p.state);
  const int64_t head_offset = static_cast<int64_t>(hv) * p.state_head_stride;
  __shared__ std::conditional_t<Tr::kSharedTile, SharedTileStorage<Tr>, char> tile_storage;
  auto tile = [&] {
    if constexpr (Tr::kSharedTile) {
      return StateTile<Tr, SharedVectors<Tr>>{{tile_storage, tid}};
    } else {
      return StateTile<Tr, RegisterVectors<Tr>>{};
    }
  }();
  tile.load(!seq.padded, pool + seq.read_slot * p.state_slot_stride + head_offset, p.V, col0, tk, cg);
  if constexpr (kEarlyStateReads) {
    if constexpr (kPrefetchInputs) prefetch_token_lines<Tr>(p, seq.begin, h, hv, col0, tid);
    wait_then_allow_next_grid();
    load_token<Tr>(p, seq.begin, h, hv, col0, tk, cg, lane, in);
  }
  if (seq.padded) {  // no state access, output zero (a K split: its first block)
    if (rank != 0) return;
    for (int t = seq.begin; t < seq.end; ++t)
      for (int j = tid; j < Tr::kBV; j += Tr::kThreads)
        o[t * p.o_token_stride + hv * p.o_head_stride + col0 + j] = store_from_compute<OutputT>(C(0));
    return;
  }

  // Shared-memory reductions over K (KV with several warps along K) alternate between two
  // buffers, so that one reduction's writes never reach the buffer that a slower warp may
  // still read for the one before: [2][k . s (, q . s)][kWarpsK][kBV] (kReductionFloats).
  constexpr int kSums = Tr::kOutputFromSums ? 2 : 1;
  __shared__ C red[2][kReductionFloats<Tr, kSums>];
  int reduction = 0;

  // The first token's factors before the loop, under the state's latency (TokenFactors).
  TokenFactors<C> factors = token_factors<Tr, Arith>(p, in, head_params);
  for (int t = seq.begin; t < seq.end; ++t) {
    if (t != seq.begin) {
      load_token<Tr>(p, t, h, hv, col0, tk, cg, lane, in);
      factors = token_factors<Tr, Arith>(p, in, head_params);
    }
    const bool last = t + 1 == seq.end;
    const C rq = factors.rq, rk = factors.rk;
    const Gates<C> gates = factors.gates;
    tile.wait();  // the state is first needed here: its load overlaps the gates and norms

    // Pass 1: k . s (and q . s, kOutputFromSums) over the state before the decay and the
    // update (update_coefficient and output_from_sums apply them to the sums), each column's
    // chains over the thread's rows in order (vectors in order visit a column's rows in
    // increasing order, in either layout).
    C sums[kSums][kCols];
#pragma unroll
    for (int s = 0; s < kSums; ++s)
#pragma unroll
      for (int c = 0; c < kCols; ++c) sums[s][c] = C(0);
    tile.read_pass([&](int vi, const C(&x)[Tr::kVec]) {
#pragma unroll
      for (int e = 0; e < Tr::kVec; ++e) {
        const int r = Tr::vec_r(vi, e), c = Tr::vec_c(vi, e);
        sums[0][c] = fma_c(in.k[r], x[e], sums[0][c]);
        if constexpr (Tr::kOutputFromSums) sums[kSums - 1][c] = fma_c(in.q[r], x[e], sums[kSums - 1][c]);
      }
    });
    // The update coefficient uk of every column in every thread (and, kOutputFromSums, each
    // column's output from one thread, before the update pass).
    OutputT* ot = o + t * p.o_token_stride + hv * p.o_head_stride + col0;  // [BV]
    C uk[kCols];
    if constexpr (Tr::kReduceInWarp) {
      // Reduce-scatter; the lanes compute uk of their scattered columns and gather it back
      // into every lane (after the outputs, which take the scattered uk).
#pragma unroll
      for (int s = 0; s < kSums; ++s) reduce_scatter<Tr>(sums[s], tk);
#pragma unroll
      for (int i = 0; i < Scatter<Tr>::kLeft; ++i)
        uk[i] = update_coefficient(rk, gates, select_column(in.v, scattered_col<Tr>(tk, i)), sums[0][i]);
    } else {
      reduce_over_k<Tr, kSums>(sums, red[reduction & 1], tid, cg, reduction);
      ++reduction;
#pragma unroll
      for (int c = 0; c < kCols; ++c) uk[c] = update_coefficient(rk, gates, in.v[c], sums[0][c]);
    }
    if constexpr (Tr::kOutputFromSums)
      store_reduced_outputs<Tr>(ot, tk, cg, [&](int i) { return output_from_sums(rq, gates, sums[kSums - 1][i], factors.qk, uk[i]); });
    if constexpr (Tr::kReduceInWarp) all_gather<Tr>(uk, tk);

    // Pass 2: S = exp(g) S + k^ u^T (and q . s_t, !kOutputFromSums), the storage rounding of
    // the state and its stores: after every token to its slot (speculative decode), or once
    // after the last token to the slot it was read from.
    C q_dot_s[1][kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) q_dot_s[0][c] = C(0);
    const int32_t slot = seq.per_token ? token_slot(p, n, seq, t) : (last ? seq.read_slot : -1);
    StateT* head = pool + (slot >= 0 ? slot * p.state_slot_stride + head_offset : 0);
    tile.update_pass(
        [&](int vi, C(&x)[Tr::kVec]) {
#pragma unroll
          for (int e = 0; e < Tr::kVec; ++e) {
            const int r = Tr::vec_r(vi, e), c = Tr::vec_c(vi, e);
            x[e] = fma_c(uk[c], in.k[r], x[e] * gates.decay);
            if constexpr (!Tr::kOutputFromSums) q_dot_s[0][c] = fma_c(in.q[r], x[e], q_dot_s[0][c]);
          }
          const Raw<Tr> rounded = round_to_state<Tr>(x, vi, t, hv, p, col0, tk, cg);
          if (slot >= 0) store_vector(head + vector_offset<Tr>(p.V, col0, tk, cg, vi), rounded);
          return rounded;
        },
        !last);

    if constexpr (!Tr::kOutputFromSums) {
      if constexpr (Tr::kReduceInWarp) {
        reduce_scatter<Tr>(q_dot_s[0], tk);
      } else {
        reduce_over_k<Tr, 1>(q_dot_s, red[reduction & 1], tid, cg, reduction);
        ++reduction;
      }
      store_reduced_outputs<Tr>(ot, tk, cg, [&](int i) { return rq * q_dot_s[0][i]; });
    }
  }
  finish_cluster_reads<Tr>(reduction);
}

}  // namespace gdn::kernels
