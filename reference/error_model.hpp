// The first-order error model of SPEC.md along a reference trajectory (see error_model.md).
// STUB: the API is fixed; the implementation is being written (issue 2).
#pragma once
#include "config.hpp"
#include "precision.hpp"
#include "problem.hpp"

namespace gdn {

enum class BoundKind { WorstCase, Probabilistic };

struct ErrorModelOptions {
  PrecisionSpec precision;
  BoundKind kind = BoundKind::WorstCase;
  bool token_states = false;  // also bound every per-token state
};

struct ErrorBounds {
  Tensor output;        // [Ttot, HV, V]: bound on |o - o_ref| per element (0 on padded rows)
  Tensor state;         // pool shape: bound on |S - S_ref| per element of the pool after the call (0 where untouched)
  Tensor token_states;  // on request, shaped like Outputs::token_states
  std::vector<ExpansiveStep> expansive;
};

ErrorBounds error_bounds(const Config& config, const Inputs& inputs, const ErrorModelOptions& options);

}  // namespace gdn
