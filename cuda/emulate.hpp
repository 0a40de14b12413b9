// CPU emulation of the recurrent kernel: the same step math (step.hpp, numeric.hpp), the
// same thread map (kernel_traits.hpp) and the same reduction trees, executed sequentially,
// so that it reproduces the device's outputs bit for bit (tests/gpu/kernel_test.cu checks
// that on a GPU; tests/gpu/emulation_test.cpp checks the emulation against the float64
// oracle without one). Plain C++: compiled by the host compiler with floating-point
// contraction off.
#pragma once
#include <cstdint>
#include <vector>

#include "kernel_traits.hpp"
#include "params.hpp"
#include "step.hpp"

namespace gdn::kernels {

// What __shfl_xor_sync(x, m) for m = L/2 .. 1 leaves in every lane: v[l] + v[l ^ m] at each
// level (IEEE addition commutes, so all lanes agree). v is overwritten.
template <class C, int L>
C butterfly_sum_emulated(C (&v)[L]) {
  for (int m = L / 2; m >= 1; m /= 2) {
    C next[L];
    for (int l = 0; l < L; ++l) next[l] = v[l] + v[l ^ m];
    for (int l = 0; l < L; ++l) v[l] = next[l];
  }
  return v[0];
}

// The K reduction of one column as the kernel performs it: an fma chain over each thread's
// rows of a[i] * b[i] (the thread at position tk along K holds rows row_of(tk, r)), a
// butterfly over the lanes of each warp, then the warps in order (with a K split, the warps
// of the cluster's blocks, block by block).
template <class Tr>
typename Tr::ComputeT reduce_over_k_emulated(const typename Tr::ComputeT* a, const typename Tr::ComputeT* b) {
  using C = typename Tr::ComputeT;
  C total = C(0);
  for (int w = 0; w < Tr::kClusterWarpsK; ++w) {
    C lanes[Tr::kLanesK];
    for (int l = 0; l < Tr::kLanesK; ++l) {
      const int tk = w * Tr::kLanesK + l;
      C x = C(0);
      for (int r = 0; r < Tr::kRows; ++r) x = fma_c(a[Tr::row_of(tk, r)], b[Tr::row_of(tk, r)], x);
      lanes[l] = x;
    }
    const C warp_sum = butterfly_sum_emulated(lanes);
    total = w == 0 ? warp_sum : total + warp_sum;
  }
  return total;
}

template <class Tr>
void emulate_block(const RecurrentParams& p, int n, int hv, int vt) {
  using C = typename Tr::ComputeT;
  using StateT = typename Tr::StateT;
  using InputT = typename Tr::InputT;
  using OutputT = typename Tr::OutputT;
  constexpr int K = Tr::kK, BV = Tr::kBV;
  const int col0 = vt * BV;
  OutputT* o = static_cast<OutputT*>(p.o);
  const SequenceSlots seq = sequence_slots(p, n);
  if (seq.padded) {
    for (int t = seq.begin; t < seq.end; ++t)
      for (int j = 0; j < BV; ++j) o[t * p.o_token_stride + hv * p.o_head_stride + col0 + j] = store_from_compute<OutputT>(C(0));
    return;
  }
  StateT* pool = static_cast<StateT*>(p.state);
  const int64_t head_offset = static_cast<int64_t>(hv) * p.state_head_stride;
  std::vector<C> S(static_cast<size_t>(K) * BV);  // [BV, K]: the tile's columns, each contiguous over K
  auto at = [&](int i, int j) -> C& { return S[static_cast<size_t>(j) * K + i]; };
  auto io = [&](int32_t slot, bool load) {
    StateT* head = pool + slot * p.state_slot_stride + head_offset;
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < BV; ++j) {
        StateT& e = head[state_element<Tr::kIsVK>(K, p.V, i, col0 + j)];
        if (load) {
          at(i, j) = load_as_compute(e);
        } else {
          e = store_from_compute<StateT>(at(i, j));
        }
      }
  };
  io(seq.read_slot, true);

  const int h = hv / (p.HV / p.H);
  const C scale = static_cast<C>(p.scale);
  std::vector<C> kr(K), qr(K);  // q and k as loaded: normalisation is applied to the sums
  for (int t = seq.begin; t < seq.end; ++t) {
    const InputT* qt_in = static_cast<const InputT*>(p.q) + t * p.q_token_stride + h * p.q_head_stride;
    const InputT* kt_in = static_cast<const InputT*>(p.k) + t * p.k_token_stride + h * p.k_head_stride;
    const InputT* vt_in = static_cast<const InputT*>(p.v) + t * p.v_token_stride + hv * p.v_head_stride + col0;

    C sq[Tr::kNormLanes], sk[Tr::kNormLanes], sqk[Tr::kNormLanes];
    for (int l = 0; l < Tr::kNormLanes; ++l) {
      C a = C(0), b = C(0), d = C(0);
      for (int e = 0; e < Tr::kNormPerLane; ++e) {
        const C qx = load_as_compute(qt_in[Tr::norm_row(l, e)]);
        const C kx = load_as_compute(kt_in[Tr::norm_row(l, e)]);
        a = fma_c(qx, qx, a);
        b = fma_c(kx, kx, b);
        if constexpr (Tr::kOutputFromSums) d = fma_c(qx, kx, d);
      }
      sq[l] = a;
      sk[l] = b;
      sqk[l] = d;
    }
    const C rq = norm_factor(p.norm, butterfly_sum_emulated(sq), scale);
    const C rk = norm_factor(p.norm, butterfly_sum_emulated(sk), C(1));
    const C qk = Tr::kOutputFromSums ? butterfly_sum_emulated(sqk) : C(0);  // as the kernel (token_factors)
    for (int i = 0; i < K; ++i) {
      kr[i] = load_as_compute(kt_in[i]);
      qr[i] = load_as_compute(qt_in[i]);
    }
    const int64_t gi = gate_index(p, t, hv);
    const bool raw = p.gate_mode == GateMode::Raw;
    const Gates<C> gates = token_gates(
        p.gate_mode, raw ? static_cast<const C*>(p.A_log)[hv] : C(0), raw ? static_cast<const C*>(p.dt_bias)[hv] : C(0),
        raw ? load_as_compute(static_cast<const InputT*>(p.a)[gi]) : static_cast<const C*>(p.g)[gi],
        load_as_compute(static_cast<const InputT*>(raw ? p.b : p.beta)[gi]), p.beta_bf16, p.decay_bf16);

    OutputT* ot = o + t * p.o_token_stride + hv * p.o_head_stride + col0;
    for (int j = 0; j < BV; ++j) {
      const C ks = reduce_over_k_emulated<Tr>(kr.data(), &at(0, j));
      const C uk = update_coefficient(rk, gates, load_as_compute(vt_in[j]), ks);
      if constexpr (Tr::kOutputFromSums) {
        const C qs = reduce_over_k_emulated<Tr>(qr.data(), &at(0, j));
        ot[j] = store_from_compute<OutputT>(output_from_sums(rq, gates, qs, qk, uk));
      }
      for (int i = 0; i < K; ++i) at(i, j) = fma_c(uk, kr[i], at(i, j) * gates.decay);
      if constexpr (!Tr::kOutputFromSums)
        ot[j] = store_from_compute<OutputT>(rq * reduce_over_k_emulated<Tr>(qr.data(), &at(0, j)));
    }
    if (p.state_round != StateRound::None)
      for (int i = 0; i < K; ++i)
        for (int j = 0; j < BV; ++j)
          at(i, j) = round_state(p.state_round, at(i, j), p.seed, rounding_counter(t, hv, p.HV, i, K, col0 + j, p.V));
    if (seq.per_token) {
      const int32_t slot = token_slot(p, n, seq, t);
      if (slot >= 0) io(slot, false);
    }
  }
  if (!seq.per_token) io(seq.read_slot, false);
}

// Every block of the launch, in grid order.
template <class Tr>
void emulate_recurrent(const RecurrentParams& p) {
  require_columns<Tr>(p.V);
  const int tiles = p.V / Tr::kBV;
  for (int n = 0; n < p.N; ++n)
    for (int hv = 0; hv < p.HV; ++hv)
      for (int vt = 0; vt < tiles; ++vt) emulate_block<Tr>(p, n, hv, vt);
}

}  // namespace gdn::kernels
