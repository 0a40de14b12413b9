// The math of one step of the gated delta rule (SPEC.md steps 1-4) for one (token, value
// head), as __host__ __device__ functions: the kernels and the CPU emulation of the kernels
// call exactly these, so the emulation reproduces the device bit for bit.
#pragma once
#include "numeric.hpp"
#include "ordered_load.hpp"
#include "params.hpp"

namespace gdn::kernels {

constexpr double kSoftplusThreshold = 20.0;  // torch's softplus threshold (SPEC.md)
constexpr double kL2NormEps = 1e-6;          // FLA / vLLM in-kernel l2norm
constexpr double kFNormalizeEps = 1e-12;     // torch.nn.functional.normalize

template <class C>
struct Gates {
  C decay;  // exp(g), rounded to bf16 if asked
  C beta;   // rounded to bf16 if asked
};

// log1p(exp(x)) as max(x, 0) + log1p(exp(-|x|)): the same function, with exp's argument <= 0
// so that log1p's is in [0, 1]. A: the arithmetic build (numeric.hpp, BranchFree).
template <class C, class A = BranchFree>
GDN_HD C softplus(C x) {
  const C below = fmax_c(x, C(0)) + log1p_c<C, A>(exp_c<C, A>(fmin_c(x, -x)));
  return A::select(x > C(kSoftplusThreshold), x, below);
}
// 1 / (1 + exp(-x)). For float, 0 below x = -87.3, where 1 + exp(-x) >= 2^126 (outside
// div_c's domain) and IEEE would give a subnormal: the same in both arithmetic builds.
template <class C, class A = BranchFree>
GDN_HD C sigmoid(C x) {
  const C d = C(1) + exp_c<C, A>(-x);
  if constexpr (std::is_same_v<C, float>) return A::select(d >= 0x1p126f, 0.0f, A::div(1.0f, d));
  else return A::div(C(1), d);
}

template <class C, class A = BranchFree>
GDN_HD Gates<C> finish_gates(C g, C beta, bool beta_bf16, bool decay_bf16) {
  C decay = exp_c<C, A>(g);
  if (decay_bf16) decay = static_cast<C>(round_bf16(static_cast<float>(decay)));
  if (beta_bf16) beta = static_cast<C>(round_bf16(static_cast<float>(beta)));
  return {decay, beta};
}

// Raw form (Qwen3-Next / vLLM decode): g = -exp(A_log) softplus(a + dt_bias), beta = sigmoid(b).
template <class C, class A = BranchFree>
GDN_HD C raw_g(C A_log, C dt_bias, C a) {
  return -exp_c<C, A>(A_log) * softplus<C, A>(a + dt_bias);
}

// A token's gates in the form `mode` says: (gate0, gate1) = (a, b) raw, (g, beta) precomputed.
// The BranchFree build evaluates both forms' g and beta, selects one pair and finishes it:
// straight-line code that ptxas can interleave with the first pass over the state. The
// Intrinsic build branches on the form and finishes the gates in each branch (v14's code;
// with one finish after the branches ptxas kept more registers live, and the register-capped
// tiles spilled: experiments/bv_tile, v16).
template <class C, class A = BranchFree>
GDN_HD Gates<C> token_gates(GateMode mode, C A_log, C dt_bias, C gate0, C gate1, bool beta_bf16, bool decay_bf16) {
  const bool raw = mode == GateMode::Raw;
  if constexpr (A::kStraightLine) {
    const C g = select_c(raw, raw_g<C, A>(A_log, dt_bias, gate0), gate0);
    const C beta = select_c(raw, sigmoid<C, A>(gate1), gate1);
    return finish_gates<C, A>(g, beta, beta_bf16, decay_bf16);
  } else {
    return raw ? finish_gates<C, A>(raw_g<C, A>(A_log, dt_bias, gate0), sigmoid<C, A>(gate1), beta_bf16, decay_bf16)
               : finish_gates<C, A>(gate0, gate1, beta_bf16, decay_bf16);
  }
}

// The denominator of q and k normalisation from the sum of squares (L2Eps, FNormalize), by
// selects rather than branches in the BranchFree build (token_gates says why). FNormalize
// takes the square root of max(sum, 2^-100), inside sqrt_c's domain: below it the root is
// under 1e-12 and the max with 1e-12 gives 1e-12 all the same.
template <class C, class A = BranchFree>
GDN_HD C norm_denominator(NormMode mode, C sum_squares) {
  const bool eps = mode == NormMode::L2Eps;
  const C n = A::sqrt(A::choose(eps, [&] { return sum_squares + C(kL2NormEps); },
                                [&] { return fmax_c(sum_squares, C(0x1p-100)); }));
  return A::select(eps || n > C(kFNormalizeEps), n, C(kFNormalizeEps));
}
// numerator / denominator, the factor that normalises (and, for q, scales) each element:
// one reciprocal per vector instead of a division per element (two roundings per element
// instead of one, within the error model's allowance for normalisation). NormMode::None
// leaves the vector as it is: the factor is the numerator (1, or the scale for q).
template <class C, class A = BranchFree>
GDN_HD C norm_factor(NormMode mode, C sum_squares, C numerator) {
  return A::choose(mode == NormMode::None, [&] { return numerator; },
                   [&] { return A::div(numerator, norm_denominator<C, A>(mode, sum_squares)); });
}

// The column's update coefficient rk u_j, from k . s_j over the state before the decay:
// u_j = beta (v_j - exp(g) (k^ . s_j)) with k^ . s_j = rk (k . s_j); exp(g) multiplies the
// sum rather than every element (the same value, one rounding instead of K), so that k . s
// needs no gate and overlaps the gates' computation.
template <class C>
GDN_HD C update_coefficient(C rk, const Gates<C>& gates, C v, C k_dot_s) {
  return rk * (gates.beta * (v - rk * (gates.decay * k_dot_s)));
}

// The column's output from sums over the state before the update, so that it needs no pass
// over the updated state and its reduction over K runs beside k . s's: with
// S_t = exp(g) S_{t-1} + k uk^T (uk = update_coefficient), q . s_t = exp(g) (q . s_{t-1}) +
// (q . k) uk, and rq normalises and scales it (q, k as loaded). The same value as q~ . s_t;
// its rounding is bounded by the error model's output term (reference/error_model.md).
template <class C>
GDN_HD C output_from_sums(C rq, const Gates<C>& gates, C q_dot_s, C q_dot_k, C uk) {
  return rq * fma_c(q_dot_k, uk, gates.decay * q_dot_s);
}

// floor(x / f.d) for 0 <= x < 2^31 (params.hpp, FastDivisor).
GDN_HD uint32_t divide_fast(uint32_t x, const FastDivisor& f) {
#if defined(__CUDA_ARCH__)
  const uint32_t high = __umulhi(x, f.magic);
#else
  const uint32_t high = static_cast<uint32_t>((static_cast<uint64_t>(x) * f.magic) >> 32);
#endif
  return (high + x) >> f.shift;
}

// Element index of token t's gates for value head hv: a and b (raw) or g and beta.
GDN_HD int64_t gate_index(const RecurrentParams& p, int t, int hv) {
  return t * p.gate_token_stride + hv * p.gate_head_stride;
}

GDN_HD bool is_pad(PadMode mode, int32_t index) { return mode == PadMode::MinusOne ? index == -1 : index <= 0; }

// Element counter of stochastic rounding, as reference/recurrent.hpp defines it.
GDN_HD uint64_t rounding_counter(int64_t token, int hv, int HV, int i, int K, int j, int V) {
  return static_cast<uint64_t>(((token * HV + hv) * K + i) * static_cast<int64_t>(V) + j);
}

// One storage rounding of a state value in registers.
template <class C>
GDN_HD C round_state(StateRound mode, C x, uint64_t seed, uint64_t counter) {
  switch (mode) {
    case StateRound::None: return x;
    case StateRound::Nearest: return static_cast<C>(round_bf16(static_cast<float>(x)));
    case StateRound::Stochastic:
      return static_cast<C>(bf16_to_float(bf16_bits_stochastic(static_cast<float>(x), random16(seed, counter))));
  }
  return x;
}

// Which tokens a sequence runs and which slots it reads and writes (SPEC.md pools and
// speculative decode); the kernel and the emulation resolve it the same way. The tokens
// and the slots are two lookups, so that the kernel can issue the input loads (which need
// the tokens) before the slot lookup (whose result only the state loads need); their loads
// are issued in program order (ordered_load.hpp).
struct SequenceTokens {
  int begin = 0, end = 0;
};
struct SequenceSlots : SequenceTokens {
  int32_t read_slot = 0;
  bool padded = false;
  bool per_token = false;  // speculative: token t writes state_indices[n, t - begin]
};

GDN_HD SequenceTokens sequence_tokens(const RecurrentParams& p, int n) {
  if (p.cu_seqlens) return {load_in_order(p.cu_seqlens + n), load_in_order(p.cu_seqlens + n + 1)};
  return {n * p.tokens_per_seq, (n + 1) * p.tokens_per_seq};
}

GDN_HD SequenceSlots sequence_slots(const RecurrentParams& p, int n, const SequenceTokens& tokens) {
  SequenceSlots s;
  s.begin = tokens.begin;
  s.end = tokens.end;
  s.per_token = p.num_accepted != nullptr;
  if (!p.state_indices) {
    s.read_slot = n;
  } else if (!s.per_token) {
    s.read_slot = load_in_order(p.state_indices + n * p.state_indices_stride);
  } else {
    s.read_slot = load_in_order(p.state_indices + n * p.state_indices_stride + load_in_order(p.num_accepted + n) - 1);
  }
  s.padded = p.state_indices != nullptr && is_pad(p.pad, s.read_slot);
  return s;
}
GDN_HD SequenceSlots sequence_slots(const RecurrentParams& p, int n) { return sequence_slots(p, n, sequence_tokens(p, n)); }

// Slot written after token t of a speculative sequence, or -1 for none.
GDN_HD int32_t token_slot(const RecurrentParams& p, int n, const SequenceSlots& s, int t) {
  const int32_t slot = p.state_indices[n * p.state_indices_stride + (t - s.begin)];
  return is_pad(p.pad, slot) ? -1 : slot;
}

// Offset of (slot, head) in the pool, and of element (i = key, j = value) inside a head.
template <bool kIsVK>
GDN_HD int64_t state_element(int K, int V, int i, int j) {
  return kIsVK ? static_cast<int64_t>(j) * K + i : static_cast<int64_t>(i) * V + j;
}

}  // namespace gdn::kernels
