// The parameters of one launch of the recurrent kernel: plain pointers, sizes and explicit
// strides (in elements), so that KV and VK, packed q|k|v and strided views are one struct.
// Read by the device kernel and by its CPU emulation alike.
#pragma once
#include <cstddef>
#include <cstdint>

namespace gdn::kernels {

enum class GateMode : int { Raw, Precomputed };
enum class NormMode : int { L2Eps, FNormalize, None };
enum class PadMode : int { MinusOne, NonPositive };
// How the state is rounded to its storage type after every token (in registers, so that a
// long run on chip matches per-token storage exactly).
enum class StateRound : int { None, Nearest, Stochastic };
// Which build of the gates' and norms' arithmetic a launch runs (numeric.hpp: BranchFree or
// Intrinsic, the same results). Auto: the family's choice for the call where the variant is
// that choice (gpu::choose_arithmetic), BranchFree otherwise; a launch takes Auto as
// BranchFree.
enum class GateArithmetic : int { Auto, BranchFree, Intrinsic };
// Its name in gdn's options and outputs: auto, branch-free, intrinsic.
inline const char* to_string(GateArithmetic a) {
  return a == GateArithmetic::BranchFree ? "branch-free" : a == GateArithmetic::Intrinsic ? "intrinsic" : "auto";
}

// floor(x / d) for 0 <= x < 2^31 by a multiply-high, an add and a shift (divide_fast), for
// the divisions by launch constants that locate a block, with no branch (so that the kernel
// reads every divisor field at once, params below): with s = ceil(log2 d) and
// magic = floor(2^32 (2^s - d) / d) + 1 < 2^32, (umulhi(x, magic) + x) >> s is
// floor(x m / 2^(32+s)) for m = 2^32 + magic = floor(2^(32+s) / d) + 1, and
// x m / 2^(32+s) = x / d + x e / 2^(32+s) with 0 < e <= 1, whose error term is below
// 2^(31-32-s) <= 1/(2d), so the floor is exact; umulhi(x, magic) < x keeps the sum below 2^32.
// d = 1 gives magic = 1, s = 0: the quotient is x.
struct FastDivisor {
  uint32_t d = 1, magic = 1, shift = 0;
};
inline FastDivisor make_fast_divisor(uint32_t d) {
  FastDivisor f;
  f.d = d;
  uint32_t s = 0;
  while ((uint64_t(1) << s) < d) ++s;
  f.magic = static_cast<uint32_t>((uint64_t(1) << 32) * ((uint64_t(1) << s) - d) / d + 1);
  f.shift = s;
  return f;
}

struct RecurrentParams {
  // ---- What a block reads before its state load can go out: its location, the launch
  // mode, the slot lookup and the pool. Kept in the first 104 bytes of the struct, so that
  // they share the parameter bank's first constant-cache lines and their misses overlap
  // rather than follow one another on the way to the first global load (experiments/bv_tile
  // v8; offsets asserted below).

  // Set by the launch (launch.cuh) from V / BV, HV and HV / H: the divisions that locate a
  // block (device only; the emulation divides).
  FastDivisor tiles_divisor, heads_divisor, group_divisor;

  // Tokens of sequence n: [cu_seqlens[n], cu_seqlens[n + 1]) on the flat token axis, or
  // [n * tokens_per_seq, (n + 1) * tokens_per_seq) when cu_seqlens is null.
  int tokens_per_seq = 1;
  PadMode pad = PadMode::MinusOne;

  // Programmatic dependent launch (sm_90+, grid_dependency.cuh): the launch may begin while
  // the previous kernel of the stream finishes; the kernel waits for it before it reads q,
  // k, v or the gates and before it writes anything, and lets the next launch begin once it
  // has waited (grid_dependency.cuh, wait_then_allow_next_grid).
  bool programmatic_launch = false;
  // With programmatic_launch: the slots (cu_seqlens, state_indices, num_accepted), the
  // state and the gate weights A_log and dt_bias are read before that wait, overlapping the
  // previous kernel. Correct only when the previous kernel of the stream writes none of them
  // (in serving it is the convolution that writes q, k, v); calls chained on one pool must
  // leave it false. At few pairs per SM (launch.cuh, kPrefetchBelowPairsPerSM) the token's
  // q, k, v and gates are then also prefetched into L2 before the wait: that reads no value,
  // so it is correct whoever writes them.
  bool early_state_reads = false;

  const int32_t* cu_seqlens = nullptr;  // [N + 1]
  // Slots: null -> sequence n uses slot n. [N] -> one slot per sequence. With num_accepted,
  // [N, stride] per-token slots (speculative decode, SPEC.md).
  const int32_t* state_indices = nullptr;
  int64_t state_indices_stride = 1;
  const int32_t* num_accepted = nullptr;  // [N]

  // The pool in the kernel's state type: [P, HV, K, V] (KV) or [P, HV, V, K] (VK); the
  // last two dims are dense, the first two strided.
  void* state = nullptr;
  int64_t state_slot_stride = 0, state_head_stride = 0;

  // ---- The rest.
  int N = 0;   // sequences
  int H = 0;   // query/key heads
  int HV = 0;  // value heads, HV % H == 0
  int K = 0;   // key head dim (must equal the kernel's compile-time K)
  int V = 0;   // value head dim (a multiple of the kernel's BV)

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

  void* o = nullptr;  // [Ttot, HV, V] in the input type
  int64_t o_token_stride = 0, o_head_stride = 0;

  StateRound state_round = StateRound::None;
  uint64_t seed = 0;        // stochastic rounding
  bool beta_bf16 = false;   // beta rounded to bf16 before use
  bool decay_bf16 = false;  // exp(g) rounded to bf16 before use
  GateArithmetic arithmetic = GateArithmetic::Auto;  // device only: the emulation is either build
};
static_assert(offsetof(RecurrentParams, state_head_stride) + sizeof(int64_t) == 104,
              "the fields read before the state load are the struct's first 104 bytes");


}  // namespace gdn::kernels
