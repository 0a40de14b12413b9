// The first-order error model of SPEC.md along a reference trajectory (derivation, constants
// and measured tightness in error_model.md).
//
// For each (sequence, value head) every state column j (value index) evolves alone,
//     s_t = e (I - beta k k^T) s_{t-1} + beta v_j k,
// so a bound on the 2-norm of the column's error, B_{t,j} = rho_t e_t B_{t-1,j} + delta_{t,j}
// (rho_t = ||I - beta k k^T||_2, 1 with normalised keys), bounds every element of the column
// and, through ||q~||, the output. delta is the local rounding of one step of the policy,
// evaluated along the float64 reference.
#pragma once
#include <string>
#include <vector>

#include "config.hpp"
#include "precision.hpp"
#include "problem.hpp"

namespace gdn {

// WorstCase: gamma_K = K u / (1 - K u) for every dot product and errors summed over tokens.
// Probabilistic: lambda sqrt(K) u for dot products and root-sum-square over tokens.
enum class BoundKind { WorstCase, Probabilistic };

// The checker's kind unless told otherwise. The probabilistic bound is broken by bf16 states
// that stagnate (correlated roundings), so the default is the one that holds everywhere we
// measured (error_model.md, "Which kind").
constexpr BoundKind kDefaultBoundKind = BoundKind::WorstCase;

// The checker passes an element when |candidate - golden| <= kSafetyFactor * bound. The bound
// is first order: local terms use the reference's magnitudes where the kernel has its own,
// which differ by the error itself (error_model.md, "Safety factor").
constexpr double kSafetyFactor = 2.0;

// Relative error of one exp, log1p or sigmoid evaluation, in units of the arithmetic unit
// roundoff u: 2 ulp (CUDA's expf, log1pf; glibc is below 1 ulp). exp(x) is charged a further
// |x| u for implementations that scale x by log2(e) before exp2 (Triton's tl.exp).
constexpr double kFunctionUlps = 4.0;

// lambda of the probabilistic dot-product bound lambda sqrt(n) u (Higham & Mary 2019: it holds
// with probability >= 1 - 2n exp(-lambda^2 / 2) per dot product under independent roundings).
constexpr double kProbabilisticLambda = 5.0;

struct ErrorModelOptions {
  PrecisionSpec precision;
  BoundKind kind = kDefaultBoundKind;
  bool token_states = false;  // also bound every per-token state
};

// What one (sequence, value head) contributes, for reports.
struct HeadStats {
  int64_t seq = 0, hv = 0;
  double max_local = 0.0;       // largest local term delta (2-norm of a column's one-step error)
  double max_decay = 0.0;       // largest e = exp(g) of the head (how long errors are remembered)
  double plateau = 0.0;         // max_local / (1 - max_decay) (worst case) or / sqrt(1 - max_decay^2)
                                // (probabilistic): where a long run's bound levels off; inf if e = 1
  double max_bound = 0.0;       // largest state-column bound over the tokens
  double max_state_norm = 0.0;  // largest ||s_{t,j}||_2 of the reference, to read max_bound against
  int64_t expansive_steps = 0;  // steps with rho > 1
};

struct ErrorBounds {
  Tensor output;        // [Ttot, HV, V]: bound on |o - o_ref| per element (0 on padded rows)
  Tensor state;         // pool shape: bound on |S - S_ref| per element of the pool after the call (0 where untouched)
  Tensor token_states;  // on request, shaped like Outputs::token_states
  std::vector<ExpansiveStep> expansive;
  std::vector<HeadStats> heads;  // one per non-padded (sequence, value head), in (seq, hv) order
};

// Bounds on what a kernel of the given precision policy may differ from gdn::reference() on
// these inputs. Throws InputError when an input is not on the grid of its declared dtype (the
// kernel would then see other numbers than the oracle) or when the arithmetic type is not
// float64 or float32.
ErrorBounds error_bounds(const Config& config, const Inputs& inputs, const ErrorModelOptions& options);

std::string to_string(BoundKind);
BoundKind parse_bound_kind(const std::string&);  // "worst-case" or "probabilistic"; InputError otherwise

}  // namespace gdn
