// The recurrent kernel: one block per (sequence, value head, BV tile of value columns) loops
// over the tokens of its sequence with its K x BV slice of the state in registers, rounding
// it to the state type after every token. T = 1 is decode; T <= 8 with per-token slots is
// speculative decode; long T is the drift kernel; double is the on-GPU oracle.
// The state is read once and written once per call (per token slot in speculative decode):
// 16-byte vector accesses, each warp instruction reading whole 64-byte or larger rows.
#pragma once
#include <cuda_runtime.h>

#include "kernel_traits.hpp"
#include "params.hpp"
#include "step.hpp"

namespace gdn::kernels {

// kVec state elements <-> one 8- or 16-byte access.
template <class Tr>
__device__ __forceinline__ void load_vector(const typename Tr::StateT* src, typename Tr::ComputeT (&dst)[Tr::kVec]) {
  using Raw = std::conditional_t<Tr::kVecBytes == 16, uint4, uint2>;
  union {
    Raw raw;
    typename Tr::StateT e[Tr::kVec];
  } u;
  u.raw = *reinterpret_cast<const Raw*>(src);
#pragma unroll
  for (int i = 0; i < Tr::kVec; ++i) dst[i] = load_as_compute(u.e[i]);
}
template <class Tr>
__device__ __forceinline__ void store_vector(typename Tr::StateT* dst, const typename Tr::ComputeT (&src)[Tr::kVec]) {
  using Raw = std::conditional_t<Tr::kVecBytes == 16, uint4, uint2>;
  union {
    Raw raw;
    typename Tr::StateT e[Tr::kVec];
  } u;
#pragma unroll
  for (int i = 0; i < Tr::kVec; ++i) u.e[i] = store_from_compute<typename Tr::StateT>(src[i]);
  *reinterpret_cast<Raw*>(dst) = u.raw;
}

// The thread's kRows x kCols elements of the tile starting at column col0 of a head.
template <class Tr, bool kLoad>
__device__ __forceinline__ void tile_io(typename Tr::StateT* head, int V, int col0, int tk, int cg,
                                        typename Tr::ComputeT (&s)[Tr::kRows][Tr::kCols]) {
  using C = typename Tr::ComputeT;
  if constexpr (Tr::kIsVK) {
#pragma unroll
    for (int c = 0; c < Tr::kCols; ++c)
#pragma unroll
      for (int vv = 0; vv < Tr::kVecsK; ++vv) {
        typename Tr::StateT* p = head + state_element<true>(Tr::kK, V, Tr::row_of(tk, vv * Tr::kVec), col0 + Tr::col_of(cg, c));
        C x[Tr::kVec];
        if constexpr (kLoad) {
          load_vector<Tr>(p, x);
#pragma unroll
          for (int e = 0; e < Tr::kVec; ++e) s[vv * Tr::kVec + e][c] = x[e];
        } else {
#pragma unroll
          for (int e = 0; e < Tr::kVec; ++e) x[e] = s[vv * Tr::kVec + e][c];
          store_vector<Tr>(p, x);
        }
      }
  } else {
#pragma unroll
    for (int r = 0; r < Tr::kRows; ++r) {
      typename Tr::StateT* p = head + state_element<false>(Tr::kK, V, Tr::row_of(tk, r), col0 + Tr::col_of(cg, 0));
      if constexpr (kLoad) {
        load_vector<Tr>(p, s[r]);
      } else {
        store_vector<Tr>(p, s[r]);
      }
    }
  }
}

template <class C, int kLanes, int kStride>
__device__ __forceinline__ C butterfly_sum(C x) {
#pragma unroll
  for (int m = kLanes / 2; m >= 1; m /= 2) x = x + __shfl_xor_sync(0xffffffffu, x, m * kStride);
  return x;
}

// Sum over K of each of the thread's column partials: butterfly within the warp, then (KV)
// warps in order through shared memory `red` [kWarpsK][kBV]. Every thread of a column ends
// with the same total.
template <class Tr>
__device__ __forceinline__ void reduce_over_k(typename Tr::ComputeT (&x)[Tr::kCols], typename Tr::ComputeT* red, int tid,
                                              int cg) {
  using C = typename Tr::ComputeT;
#pragma unroll
  for (int c = 0; c < Tr::kCols; ++c) x[c] = butterfly_sum<C, Tr::kLanesK, Tr::kLaneStrideK>(x[c]);
  if constexpr (Tr::kWarpsK > 1) {
    const int warp = tid / Tr::kWarpSize;
    if ((tid % Tr::kWarpSize) / Tr::kLaneStrideK == 0) {
#pragma unroll
      for (int c = 0; c < Tr::kCols; ++c) red[warp * Tr::kBV + Tr::col_of(cg, c)] = x[c];
    }
    __syncthreads();
#pragma unroll
    for (int c = 0; c < Tr::kCols; ++c) {
      C sum = red[Tr::col_of(cg, c)];
#pragma unroll
      for (int w = 1; w < Tr::kWarpsK; ++w) sum = sum + red[w * Tr::kBV + Tr::col_of(cg, c)];
      x[c] = sum;
    }
  }
}

template <class Tr>
__global__ void __launch_bounds__(Tr::kThreads, Tr::kMinBlocks) recurrent_kernel(const __grid_constant__ RecurrentParams p) {
  using C = typename Tr::ComputeT;
  using StateT = typename Tr::StateT;
  using InputT = typename Tr::InputT;
  using OutputT = typename Tr::OutputT;
  constexpr int kRows = Tr::kRows, kCols = Tr::kCols;

  const int tid = static_cast<int>(threadIdx.x);
  const int lane = tid % Tr::kWarpSize;
  const int tiles = p.V / Tr::kBV;
  const int vt = static_cast<int>(blockIdx.x % tiles);
  const int hv = static_cast<int>((blockIdx.x / tiles) % p.HV);
  const int n = static_cast<int>(blockIdx.x / tiles / p.HV);
  const int col0 = vt * Tr::kBV;
  const int tk = Tr::thread_k(tid), cg = Tr::thread_col_group(tid);
  OutputT* o = static_cast<OutputT*>(p.o);

  const SequenceSlots seq = sequence_slots(p, n);
  if (seq.padded) {  // no state access, output zero
    for (int t = seq.begin; t < seq.end; ++t)
      for (int j = tid; j < Tr::kBV; j += Tr::kThreads)
        o[t * p.o_token_stride + hv * p.o_head_stride + col0 + j] = store_from_compute<OutputT>(C(0));
    return;
  }

  StateT* pool = static_cast<StateT*>(p.state);
  const int64_t head_offset = static_cast<int64_t>(hv) * p.state_head_stride;
  C s[kRows][kCols];  // this thread's elements of the tile
  tile_io<Tr, true>(pool + seq.read_slot * p.state_slot_stride + head_offset, p.V, col0, tk, cg, s);

  __shared__ C red[2][Tr::kWarpsK > 1 ? Tr::kWarpsK * Tr::kBV : 1];  // [2][kWarpsK, kBV]
  const int h = hv / (p.HV / p.H);
  const C scale = static_cast<C>(p.scale);
  const InputT* q_in = static_cast<const InputT*>(p.q);
  const InputT* k_in = static_cast<const InputT*>(p.k);
  const InputT* v_in = static_cast<const InputT*>(p.v);

  for (int t = seq.begin; t < seq.end; ++t) {
    const InputT* qt_in = q_in + t * p.q_token_stride + h * p.q_head_stride;  // [K]
    const InputT* kt_in = k_in + t * p.k_token_stride + h * p.k_head_stride;  // [K]
    const InputT* vt_in = v_in + t * p.v_token_stride + hv * p.v_head_stride + col0;  // [BV]

    // Normalisation: sums of squares over one warp (every warp computes the same sums).
    C ssq = C(0), ssk = C(0);
#pragma unroll
    for (int e = 0; e < Tr::kNormPerLane; ++e) {
      const C qx = load_as_compute(qt_in[lane * Tr::kNormPerLane + e]);
      const C kx = load_as_compute(kt_in[lane * Tr::kNormPerLane + e]);
      ssq = fma_c(qx, qx, ssq);
      ssk = fma_c(kx, kx, ssk);
    }
    ssq = butterfly_sum<C, Tr::kWarpSize, 1>(ssq);
    ssk = butterfly_sum<C, Tr::kWarpSize, 1>(ssk);
    const C dq = norm_denominator(p.norm, ssq), dk = norm_denominator(p.norm, ssk);
    C kh[kRows], qs[kRows];  // k^ and q~ = scale q^ at this thread's rows
#pragma unroll
    for (int r = 0; r < kRows; ++r) {
      const int i = Tr::row_of(tk, r);
      kh[r] = normalise(p.norm, load_as_compute(kt_in[i]), dk);
      qs[r] = normalise(p.norm, load_as_compute(qt_in[i]), dq) * scale;
    }

    const int64_t gi = t * p.gate_token_stride + hv * p.gate_head_stride;
    const Gates<C> gates =
        p.gate_mode == GateMode::Raw
            ? raw_gates(static_cast<const C*>(p.A_log)[hv], static_cast<const C*>(p.dt_bias)[hv],
                        load_as_compute(static_cast<const InputT*>(p.a)[gi]),
                        load_as_compute(static_cast<const InputT*>(p.b)[gi]), p.beta_bf16, p.decay_bf16)
            : finish_gates(static_cast<const C*>(p.g)[gi], load_as_compute(static_cast<const InputT*>(p.beta)[gi]),
                           p.beta_bf16, p.decay_bf16);
    C v[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) v[c] = load_as_compute(vt_in[Tr::col_of(cg, c)]);

    // S' = exp(g) S; k . s'
    C acc[kCols];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      C x = C(0);
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        s[r][c] = s[r][c] * gates.decay;
        x = fma_c(kh[r], s[r][c], x);
      }
      acc[c] = x;
    }
    reduce_over_k<Tr>(acc, red[0], tid, cg);
    // u = beta (v - S'^T k); S = S' + k u^T; q~ . s
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      const C u = gates.beta * (v[c] - acc[c]);
      C x = C(0);
#pragma unroll
      for (int r = 0; r < kRows; ++r) {
        s[r][c] = fma_c(u, kh[r], s[r][c]);
        x = fma_c(qs[r], s[r][c], x);
      }
      acc[c] = x;
    }
    reduce_over_k<Tr>(acc, red[1], tid, cg);
    if (tk == 0) {
      OutputT* ot = o + t * p.o_token_stride + hv * p.o_head_stride + col0;  // [BV]
#pragma unroll
      for (int c = 0; c < kCols; ++c) ot[Tr::col_of(cg, c)] = store_from_compute<OutputT>(acc[c]);
    }

    if (p.state_round != StateRound::None) {
#pragma unroll
      for (int r = 0; r < kRows; ++r)
#pragma unroll
        for (int c = 0; c < kCols; ++c)
          s[r][c] = round_state(p.state_round, s[r][c], p.seed,
                                rounding_counter(t, hv, p.HV, Tr::row_of(tk, r), Tr::kK, col0 + Tr::col_of(cg, c), p.V));
    }
    if (seq.per_token) {
      const int32_t slot = token_slot(p, n, seq, t);
      if (slot >= 0) tile_io<Tr, false>(pool + slot * p.state_slot_stride + head_offset, p.V, col0, tk, cg, s);
    }
  }
  if (!seq.per_token) tile_io<Tr, false>(pool + seq.read_slot * p.state_slot_stride + head_offset, p.V, col0, tk, cg, s);
}

}  // namespace gdn::kernels
