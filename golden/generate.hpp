// Inputs for one call, drawn as Qwen3-Next initialises its gates, every value exactly
// representable in its declared dtype (drawn on the dtype's grid), so the oracle and the
// kernel see the same numbers.
//
// Gates: A = U(1, 16), A_log = log A; dt = exp(U(log 1e-3, log 1e-1)), dt_bias = softplus^-1(dt);
// a, b, q, k, v ~ N(0, 1). Initial states ~ N(0, state_std^2).
#pragma once
#include <cstdint>
#include <vector>

#include "reference/config.hpp"
#include "reference/precision.hpp"
#include "reference/problem.hpp"

namespace gdn {

// Cases that exercise the error model where it is weakest.
enum class Stress {
  None,
  SlowDecay,         // g near 0 (A_log very negative, small dt): errors accumulate over ~1/|g| tokens
  NearCancellation,  // keys and values repeat, so v - S^T k cancels
  LargeKeys,         // unnormalised keys of norm ~2 (use with qk norm none): expansive steps
};
std::string to_string(Stress);
Stress parse_stress(const std::string&);

struct GenerateOptions {
  Config config;
  int64_t N = 1;                  // sequences
  int64_t T = 1;                  // tokens per sequence (ignored if seq_lens is given)
  std::vector<int64_t> seq_lens;  // varlen: tokens of each sequence
  Dtype input_dtype = Dtype::BF16;   // q, k, v, a, b, beta
  Dtype params_dtype = Dtype::F32;   // A_log, dt_bias, g
  Dtype state_dtype = Dtype::F32;    // the initial pool
  double state_std = 0.5;
  int64_t extra_slots = 0;     // pool slots beyond what the sequences use
  bool state_indices = false;  // random distinct slots instead of slot n for sequence n
  int64_t pad_rows = 0;        // sequences marked padded with the config's sentinel
  bool speculative = false;    // per-token slots [N, T] and num_accepted (uniform T)
  Stress stress = Stress::None;
  uint64_t seed = 0;
};

Inputs generate_inputs(const GenerateOptions& options);

}  // namespace gdn
