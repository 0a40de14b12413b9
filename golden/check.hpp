// The checker: judges a candidate (what a kernel produced) against a golden trace.
//
// An element fails when it is NaN or Inf, or when |candidate - golden| > bound * safety
// factor, with the bound from the error model (reference/error_model.hpp) along the golden
// trajectory for the claimed precision profile. Slots the call does not touch have bound 0:
// they must come back bit for bit. Alongside, the verdicts of the peers' own tests on the
// same elements, so users see where they differ:
//   - FLA's assert_close (tests/ops/test_gated_delta.py with fla/utils.py): passes when
//     max |d| <= 1e-6, else when RMS(d) / (RMS(ref) + 1e-8) < ratio; the fused_recurrent
//     test uses ratio 0.002 for both o and the final state, the chunk tests 0.005 for both.
//   - FlashInfer's GDN decode tests as given in the project brief: torch.testing.assert_close
//     with atol 0.016, rtol 5e-3 (|d| <= atol + rtol |ref|; NaN never equal).
//   - flashinfer-bench: the same rule with atol = rtol = 1e-2.
#pragma once
#include <string>
#include <vector>

#include "golden/trace.hpp"
#include "reference/error_model.hpp"

namespace gdn {

constexpr double kFlaErrAtol = 1e-6;              // fla/utils.py assert_close: err_atol
constexpr double kFlaRatioEps = 1e-8;             // fla/utils.py get_err_ratio: base + 1e-8
constexpr double kFlaRecurrentRatio = 0.002;      // test_fused_recurrent: o and ht
constexpr double kFlaChunkRatio = 0.005;          // test_chunk / test_chunk_varlen: o and ht
constexpr double kFlashInferAtol = 0.016;
constexpr double kFlashInferRtol = 5e-3;
constexpr double kFlashInferBenchAtol = 1e-2;
constexpr double kFlashInferBenchRtol = 1e-2;

struct CheckOptions {
  Profile profile = Profile::Bf16Fp32State;
  BoundKind kind = kDefaultBoundKind;
  double safety_factor = kSafetyFactor;
  // Kernels that leave a padded row's output unwritten (vLLM's fused_recurrent returns
  // early): skip padded rows' outputs. Padded slots' states are still required untouched.
  bool ignore_padded_outputs = false;
};

// One element, located for a human: "sequence 3, token 0 (flat 3), value head 5, v 17".
struct ElementReport {
  int64_t index = -1;  // flat index into the golden tensor ([Ttot, HV, V], the pool, ...); -1: none
  std::string where;
  double candidate = 0, golden = 0, bound = 0;  // bound before the safety factor
};

struct PeerVerdict {
  std::string name;   // "FLA fused_recurrent", ...
  std::string rule;   // "rms ratio < 0.002", "|d| <= 0.016 + 5e-3 |ref|"
  bool pass = false;
  double value = 0;       // FLA: the RMS ratio; allclose rules: the worst |d| / (atol + rtol |ref|)
  int64_t violations = 0;  // allclose rules: elements outside the tolerance
};

struct TensorCheck {
  std::string name;          // "o", "state", "token_states"
  int64_t compared = 0;      // elements compared
  int64_t skipped = 0;       // elements not compared (padded rows' outputs when ignored)
  double max_abs_err = 0;    // over finite candidate elements
  double max_err_over_bound = 0;  // max |d| / bound (before the safety factor); inf where bound = 0 < |d|
  double rms_rel = 0;        // RMS(d) / RMS(golden) over finite elements
  double max_bound = 0;
  int64_t above_bound = 0;   // failing elements (|d| > safety * bound, or non-finite)
  int64_t nan = 0, inf = 0;
  bool pass = true;
  ElementReport first;       // the first failing element in index order
  ElementReport worst;       // the element of largest |d| / bound
  std::vector<PeerVerdict> peers;
};

struct CheckReport {
  std::string golden_path, candidate_path;
  std::string kernel, claimed_profile;
  Profile profile = Profile::Bf16Fp32State;
  BoundKind kind = kDefaultBoundKind;
  double safety_factor = kSafetyFactor;
  Config config;
  int64_t N = 0, Ttot = 0;
  std::vector<TensorCheck> tensors;
  std::vector<std::string> notes;  // what was not checked and why, profile mismatches, ...
  bool pass = false;
};

// Throws InputError when the candidate cannot be compared at all: wrong shapes, a digest
// naming another trace, a layout that is neither KV nor VK.
CheckReport check(const Trace& golden, const Candidate& candidate, const CheckOptions& options);

std::string format_table(const CheckReport& report);
std::string format_json(const CheckReport& report);

}  // namespace gdn
