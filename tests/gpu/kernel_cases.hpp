// Calls for the kernel tests, drawn on the grid of each variant's dtypes, and the judges:
// bit equality of two runs, and the error model of the variant's profile against the
// float64 oracle.
#pragma once
#include <cmath>
#include <cstdio>
#include <string>

#include "cuda/api.hpp"
#include "reference/error_model.hpp"
#include "test_util.hpp"

namespace gdn::test {

// Decode: T = 1, a pool with random slots, a padded row (sentinel -1), raw gates.
// NullBlock: T = 1, sentinel <= 0 (slot 0 reserved), precomputed g and beta, F.normalize.
// Speculative: T = 4 per-token slots with num_accepted, a padded row.
// Varlen: sequences of 3, 1 and 6 tokens, unnormalised keys of norm ~2 (expansive steps).
// Packed: Decode with q|k|v packed in one strided buffer.
enum class Scenario { Decode, NullBlock, Speculative, Varlen, Packed };
inline const char* name(Scenario s) {
  switch (s) {
    case Scenario::Decode: return "decode";
    case Scenario::NullBlock: return "null-block";
    case Scenario::Speculative: return "speculative";
    case Scenario::Varlen: return "varlen";
    case Scenario::Packed: return "packed";
  }
  return "?";
}

struct KernelCase {
  Config config;
  Inputs inputs;
  gpu::KernelOptions options;
};

// The value head dimension of a test case of variant v: its compiled V where it has one
// ("-v<V>"), else the smallest multiple of the tile that is at least 32 (fast to judge on
// the CPU).
inline int64_t default_columns(const gpu::Variant& v) { return v.V > 0 ? v.V : std::max<int64_t>(v.bv, 32); }

// V defaults to default_columns(v); the float and bf16 variants take K = 128 only.
inline KernelCase make_case(const gpu::Variant& v, Scenario s, uint64_t seed, int64_t H = 2, int64_t HV = 4,
                            int64_t V = 0) {
  KernelCase kc;
  Config& c = kc.config;
  c.H = H;
  c.HV = HV;
  c.K = v.K;
  c.V = V > 0 ? V : default_columns(v);
  c.layout = v.layout;
  GenerateOptions o;
  o.input_dtype = v.input;
  o.params_dtype = v.state == Dtype::F64 ? Dtype::F64 : Dtype::F32;
  o.state_dtype = v.state;
  o.seed = seed;
  o.state_indices = true;
  o.extra_slots = 2;
  switch (s) {
    case Scenario::Decode:
    case Scenario::Packed:
      o.N = 6;
      o.pad_rows = 1;
      break;
    case Scenario::NullBlock:
      c.pad_sentinel = PadSentinel::NonPositive;
      c.gate_form = GateForm::Precomputed;
      c.qk_norm = QkNorm::FNormalize;
      o.N = 5;
      o.pad_rows = 2;
      break;
    case Scenario::Speculative:
      o.N = 4;
      o.T = 4;
      o.speculative = true;
      o.pad_rows = 1;
      break;
    case Scenario::Varlen:
      c.qk_norm = QkNorm::None;
      o.seq_lens = {3, 1, 6};
      o.stress = Stress::LargeKeys;
      break;
  }
  o.config = c;
  kc.inputs = generate_inputs(o);
  if (v.stochastic) {  // the stochastic-rounding build runs with a seed
    kc.options.stochastic_rounding = true;
    kc.options.seed = seed ^ 0x5eed;
  }
  if (s == Scenario::Packed) {
    kc.options.packed_qkv = true;
    kc.options.packed_row_pad = 3;  // an odd row stride: a strided view of a wider buffer
  }
  return kc;
}

// N sequences of T tokens, sequence n in slot n, at (H, HV, the variant's K, V), inputs and
// state on the grid of the variant's dtypes: the long runs and the per-token tests.
inline KernelCase plain_case(const gpu::Variant& v, int64_t H, int64_t HV, int64_t V, int64_t N, int64_t T,
                             uint64_t seed) {
  KernelCase kc;
  Config& c = kc.config;
  c.H = H;
  c.HV = HV;
  c.K = v.K;
  c.V = V;
  c.layout = v.layout;
  GenerateOptions o;
  o.config = c;
  o.N = N;
  o.T = T;
  o.input_dtype = v.input;
  o.params_dtype = v.state == Dtype::F64 ? Dtype::F64 : Dtype::F32;
  o.state_dtype = v.state;
  o.seed = seed;
  kc.inputs = generate_inputs(o);
  return kc;
}

inline bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape == b.shape && std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(double)) == 0;
}

// Largest |a - b| / bound over the elements, infinity where a differs from b but the bound
// is 0 or where a is not finite (a NaN left by an unwritten element fails here).
inline double worst_ratio(const Tensor& a, const Tensor& ref, const Tensor& bound) {
  REQUIRE(a.shape == ref.shape);
  REQUIRE(bound.shape == ref.shape);
  double worst = 0.0;
  for (int64_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(a[i] - ref[i]);
    if (!std::isfinite(a[i]) && !std::isnan(ref[i])) return INFINITY;
    if (d == 0.0) continue;
    worst = std::max(worst, bound[i] > 0.0 ? d / bound[i] : INFINITY);
  }
  return worst;
}
inline double max_diff_nan_inf(const Tensor& a, const Tensor& b) {
  double m = 0.0;
  for (int64_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(a[i] - b[i]);
    m = std::isnan(d) ? INFINITY : std::max(m, d);
  }
  return m;
}

// Whether require_within_error_model also holds the kernel to 4x the simulator's largest
// error, or only reports it: a case built to cancel completely leaves errors that depend on
// the order of the sums (the bound covers every order, the simulator's error is one of them).
enum class SimulatorBaseline { Required, ReportedOnly };

// The kernel's outputs against the float64 oracle: every element within kSafetyFactor times
// the error model's bound for the precision the kernel claims (untouched slots: bound 0, so
// bit for bit), and, as a second baseline, no more than 4x the largest error of the
// simulator of the same precision (flash-attention's same-precision reference; skipped for
// float64, whose simulator is the oracle itself).
inline void require_within_error_model(const Config& c, const Inputs& in, const PrecisionSpec& spec, const Outputs& out,
                                       const std::string& what,
                                       SimulatorBaseline baseline = SimulatorBaseline::Required) {
  const Outputs ref = reference(c, in);
  ErrorModelOptions eo;
  eo.precision = spec;
  const ErrorBounds eb = error_bounds(c, in, eo);
  const double ro = worst_ratio(out.o, ref.o, eb.output), rs = worst_ratio(out.state, ref.state, eb.state);
  const double eo_abs = max_diff_nan_inf(out.o, ref.o), es_abs = max_diff_nan_inf(out.state, ref.state);
  std::printf("%-58s |d|/bound: o %.3f state %.3f  max|d|: o %.3g state %.3g", what.c_str(), ro, rs, eo_abs, es_abs);
  INFO(what << ": worst |d| / bound: output " << ro << ", state " << rs << " (pass <= " << kSafetyFactor << ")");
  CHECK(ro <= kSafetyFactor);
  CHECK(rs <= kSafetyFactor);
  if (spec.arith != Dtype::F64) {
    const Outputs sim = simulate(c, in, spec);
    const double so = max_diff_nan_inf(sim.o, ref.o), ss = max_diff_nan_inf(sim.state, ref.state);
    std::printf("  simulator: o %.3g state %.3g", so, ss);
    INFO("max |d|: kernel o " << eo_abs << " state " << es_abs << "; simulator o " << so << " state " << ss);
    constexpr double kBaselineFactor = 4.0;
    if (baseline == SimulatorBaseline::Required) {
      CHECK(eo_abs <= kBaselineFactor * so);
      CHECK(es_abs <= kBaselineFactor * ss);
    }
  }
  std::printf("\n");
}

}  // namespace gdn::test
