// The float64 oracle's own error, bounded against the same recurrence in long double
// (x87 extended, 64-bit significand: unit roundoff 2^-64, 2048 times finer than double).
// Target: relative error <= 1e-13 on outputs and states at K = V = 128 over >= 2000 tokens.
// Relative error here is max |double - long double| / max |long double| per tensor: with
// cancellation in v - S^T k, elementwise ratios are meaningless (SPEC.md, error model).
#include "test_util.hpp"

using namespace gdn;
using namespace gdn::test;

namespace {

constexpr double kOracleRelativeError = 1e-13;

void certify(Stress stress, QkNorm norm, const char* name) {
  Config c = small_config(1, 2, 128, 128, Layout::VK);
  c.qk_norm = norm;
  GenerateOptions o;
  o.config = c;
  o.T = 2048;
  o.input_dtype = o.params_dtype = o.state_dtype = Dtype::F64;
  o.stress = stress;
  o.seed = seed_for(name);
  const Inputs in = generate_inputs(o);
  const PrecisionSpec fp64 = profile_spec(Profile::Fp64);
  NoObserver none;
  const Outputs d = simulate_as<double>(c, in, fp64, RunOptions{}, none);
  const Outputs ld = simulate_as<long double>(c, in, fp64, RunOptions{}, none);
  const double eo = rel_diff(d.o, ld.o), es = rel_diff(d.state, ld.state);
  std::printf("oracle certification (%s, K=V=128, T=2048): relative error output %.2e, state %.2e (limit %.0e)\n", name, eo,
              es, kOracleRelativeError);
  CHECK(eo <= kOracleRelativeError);
  CHECK(es <= kOracleRelativeError);
}

}  // namespace

TEST_CASE("float64 oracle is within 1e-13 of long double on random inputs", "[certification]") {
  certify(Stress::None, QkNorm::L2Eps, "random");
}

TEST_CASE("float64 oracle is within 1e-13 of long double on slow-decay heads", "[certification]") {
  certify(Stress::SlowDecay, QkNorm::L2Eps, "slow-decay");
}

TEST_CASE("float64 oracle is within 1e-13 of long double under near-cancellation", "[certification]") {
  certify(Stress::NearCancellation, QkNorm::L2Eps, "near-cancellation");
}
