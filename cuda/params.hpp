// The parameters of one launch of the recurrent kernel: plain pointers, sizes and explicit
// strides (in elements), so that KV and VK, packed q|k|v and strided views are one struct.
// Read by the device kernel and by its CPU emulation alike.
#pragma once
#include <cstdint>

namespace gdn::kernels {

enum class GateMode : int { Raw, Precomputed };
enum class NormMode : int { L2Eps, FNormalize, None };
enum class PadMode : int { MinusOne, NonPositive };
// How the state is rounded to its storage type after every token (in registers, so that a
// long run on chip matches per-token storage exactly).
enum class StateRound : int { None, Nearest, Stochastic };

struct RecurrentParams {
  int N = 0;   // sequences
  int H = 0;   // query/key heads
  int HV = 0;  // value heads, HV % H == 0
  int K = 0;   // key head dim (must equal the kernel's compile-time K)
  int V = 0;   // value head dim (a multiple of the kernel's BV)

  // Tokens of sequence n: [cu_seqlens[n], cu_seqlens[n + 1]) on the flat token axis, or
  // [n * tokens_per_seq, (n + 1) * tokens_per_seq) when cu_seqlens is null.
  const int32_t* cu_seqlens = nullptr;  // [N + 1]
  int tokens_per_seq = 1;

  // Inputs in the kernel's input type; K and V are contiguous.
  const void* q = nullptr;  // [Ttot, H, K]
  const void* k = nullptr;  // [Ttot, H, K]
  const void* v = nullptr;  // [Ttot, HV, V]
  int64_t q_token_stride = 0, q_head_stride = 0;
  int64_t k_token_stride = 0, k_head_stride = 0;
  int64_t v_token_stride = 0, v_head_stride = 0;

  GateMode gate_mode = GateMode::Raw;
  const void* a = nullptr;        // [Ttot, HV] input type (raw gates)
  const void* b = nullptr;        // [Ttot, HV] input type (raw gates)
  const void* A_log = nullptr;    // [HV] compute type (raw gates)
  const void* dt_bias = nullptr;  // [HV] compute type (raw gates)
  const void* g = nullptr;        // [Ttot, HV] compute type (precomputed gates)
  const void* beta = nullptr;     // [Ttot, HV] input type (precomputed gates)
  int64_t gate_token_stride = 0, gate_head_stride = 1;  // shared by a, b, g, beta

  NormMode norm = NormMode::L2Eps;
  double scale = 0.0;  // q~ = scale q^ (the host resolves the default K^-1/2)

  // The pool in the kernel's state type: [P, HV, K, V] (KV) or [P, HV, V, K] (VK); the
  // last two dims are dense, the first two strided.
  void* state = nullptr;
  int64_t state_slot_stride = 0, state_head_stride = 0;
  // Slots: null -> sequence n uses slot n. [N] -> one slot per sequence. With num_accepted,
  // [N, stride] per-token slots (speculative decode, SPEC.md).
  const int32_t* state_indices = nullptr;
  int64_t state_indices_stride = 1;
  const int32_t* num_accepted = nullptr;  // [N]
  PadMode pad = PadMode::MinusOne;

  void* o = nullptr;  // [Ttot, HV, V] in the input type
  int64_t o_token_stride = 0, o_head_stride = 0;

  StateRound state_round = StateRound::None;
  uint64_t seed = 0;        // stochastic rounding
  bool beta_bf16 = false;   // beta rounded to bf16 before use
  bool decay_bf16 = false;  // exp(g) rounded to bf16 before use
};

}  // namespace gdn::kernels
