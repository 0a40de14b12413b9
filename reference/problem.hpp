// The inputs of one call of the recurrence and what the reference returns.
// Tokens of all sequences lie on one flat axis of Ttot tokens; cu_seqlens cuts it into
// sequences (a batch of N sequences of T tokens has cu_seqlens = 0, T, 2T, ..., NT).
// All floating-point tensors are held in double: every value of a lower-precision input
// is exactly representable, so the oracle sees the numbers the kernel sees.
#pragma once
#include "tensor.hpp"

namespace gdn {

struct Inputs {
  IndexTensor cu_seqlens;     // [N + 1] token offsets, 0 = cu_seqlens[0] < ... < cu_seqlens[N] = Ttot
  Tensor q, k;                // [Ttot, H, K]
  Tensor v;                   // [Ttot, HV, V]
  Tensor a, b;                // [Ttot, HV]  gate form raw
  Tensor A_log, dt_bias;      // [HV]        gate form raw
  Tensor g, beta;             // [Ttot, HV]  gate form precomputed
  Tensor state;               // [P, HV, K, V] (KV) or [P, HV, V, K] (VK): the pool
  IndexTensor state_indices;  // absent: slot n for sequence n; [N]: one slot per sequence;
                              // [N, Tmax]: one slot per token (speculative decode)
  IndexTensor num_accepted;   // [N], with per-token slots only

  int64_t num_sequences() const { return cu_seqlens.size() - 1; }
  int64_t num_tokens() const { return cu_seqlens.data.empty() ? 0 : cu_seqlens.data.back(); }
  bool speculative() const { return state_indices.shape.size() == 2; }
};

// A step whose transition I - beta k k^T has 2-norm above 1 (possible only without
// q/k normalisation): errors can grow through it, and the error model says so.
struct ExpansiveStep {
  int64_t token = 0;
  int64_t hv = 0;
  double norm = 0.0;  // ||I - beta k k^T||_2 = max(1, |1 - beta ||k||^2|)
};

// What the recurrence computed on the way, on request.
struct Intermediates {
  Tensor g, beta;       // [Ttot, HV] as used (after any rounding of the precision policy)
  Tensor q_hat, k_hat;  // [Ttot, H, K] normalised, before scale
  Tensor u;             // [Ttot, HV, V] u = beta (v - S'^T k)
};

struct Outputs {
  Tensor o;                   // [Ttot, HV, V]; zero on padded rows
  Tensor state;               // the pool after the call, in the input layout
  Tensor token_states;        // [Ttot, HV, K, V] or [Ttot, HV, V, K], on request
  Intermediates intermediates;  // on request
  std::vector<ExpansiveStep> expansive;
};

struct RunOptions {
  bool token_states = false;
  bool intermediates = false;
};

}  // namespace gdn
