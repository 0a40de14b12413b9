// Properties of the precision simulator itself: what it stores is on the grid of the storage
// type, stochastic rounding is reproducible and unbiased where round-to-nearest is not, the
// bf16 variants of beta and decay act only off the bf16 grid, and each profile's error against
// the oracle is at the level its arithmetic implies (asserted through the error model).
#include <string>

#include "reference/error_model.hpp"
#include "test_util.hpp"

using namespace gdn;
using namespace gdn::test;

namespace {

int64_t off_grid(const Tensor& t, Dtype d) {
  int64_t n = 0;
  for (double x : t.data) n += round_to(d, x) != x;
  return n;
}

// Elements of head hv (the second dimension) that differ bit for bit between a and b.
int64_t head_differences(const Tensor& a, const Tensor& b, int64_t hv) {
  REQUIRE(a.shape == b.shape);
  const int64_t heads = a.dim(1), inner = a.size() / (a.dim(0) * heads);
  int64_t n = 0;
  for (int64_t x = 0; x < a.dim(0); ++x)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t at = (x * heads + hv) * inner + i;
      n += std::memcmp(&a[at], &b[at], sizeof(double)) != 0;
    }
  return n;
}

}  // namespace

TEST_CASE("bf16 and fp16 states: every stored value and every output is on the storage grid", "[simulator]") {
  const StateStorage storage = GENERATE(StateStorage::BF16, StateStorage::BF16Stochastic, StateStorage::F16);
  PrecisionSpec p = profile_spec(Profile::Bf16Bf16State);
  p.state = storage;
  p.stochastic_seed = 7;
  const Dtype grid = storage == StateStorage::F16 ? Dtype::F16 : Dtype::BF16;
  Config c = small_config(2, 4, 16, 8, Layout::VK);
  GenerateOptions o;
  o.config = c;
  o.N = 3;
  o.T = 40;
  o.state_dtype = grid;
  o.extra_slots = 2;
  o.state_indices = true;
  o.seed = seed_for("grid", static_cast<uint64_t>(storage));
  const Inputs in = generate_inputs(o);
  RunOptions ro;
  ro.token_states = true;
  const Outputs sim = simulate(c, in, p, ro);
  const int64_t ts = off_grid(sim.token_states, grid), pool = off_grid(sim.state, grid), out = off_grid(sim.o, Dtype::BF16);
  std::printf("%s state, seed %llu: off-grid token states %lld of %lld, pool %lld of %lld, outputs %lld of %lld\n",
              to_string(storage).c_str(), static_cast<unsigned long long>(o.seed), static_cast<long long>(ts),
              static_cast<long long>(sim.token_states.size()), static_cast<long long>(pool),
              static_cast<long long>(sim.state.size()), static_cast<long long>(out), static_cast<long long>(sim.o.size()));
  CHECK(ts == 0);
  CHECK(pool == 0);
  CHECK(out == 0);
  // Not vacuous: the float64 oracle's states are off the grid almost everywhere.
  CHECK(off_grid(reference(c, in, ro).token_states, grid) > sim.token_states.size() / 2);
}

TEST_CASE("stochastic rounding is reproducible for a seed and differs across seeds", "[simulator][stochastic]") {
  PrecisionSpec p = profile_spec(Profile::Bf16Bf16State);
  p.state = StateStorage::BF16Stochastic;
  Config c = small_config(1, 2, 16, 16, Layout::KV);
  GenerateOptions o;
  o.config = c;
  o.T = 64;
  o.state_dtype = Dtype::BF16;
  o.seed = seed_for("stochastic reproducible");
  const Inputs in = generate_inputs(o);
  p.stochastic_seed = 1;
  const Outputs a = simulate(c, in, p), b = simulate(c, in, p);
  p.stochastic_seed = 2;
  const Outputs d = simulate(c, in, p);
  int64_t differ = 0;
  for (int64_t i = 0; i < a.state.size(); ++i) differ += a.state[i] != d.state[i];
  std::printf("stochastic rounding: seeds 1 and 2 differ in %lld of %lld final state elements\n",
              static_cast<long long>(differ), static_cast<long long>(a.state.size()));
  CHECK(bit_equal(a.state, b.state));
  CHECK(bit_equal(a.o, b.o));
  CHECK(differ > a.state.size() / 4);
}

TEST_CASE("stochastic rounding is unbiased; round-to-nearest is biased where the state stagnates",
          "[simulator][stochastic]") {
  SECTION("one rounding: the mean error over many random draws is ~0") {
    // Error in units of the bf16 ulp: each draw is off by less than one ulp with mean 0, so
    // the mean of n draws has standard deviation <= 0.5 / sqrt(n).
    std::mt19937_64 rng(seed_for("stochastic mean"));
    std::uniform_real_distribution<float> mantissa(1.0f, 2.0f);
    const int n = 1 << 14;
    double worst = 0.0;
    for (int v = 0; v < 32; ++v) {
      const float x = mantissa(rng) * (v % 2 ? -1.0f : 1.0f);
      const double ulp = 0x1p-7;  // bf16 spacing in [1, 2)
      double sum = 0.0;
      for (int i = 0; i < n; ++i)
        sum += (static_cast<double>(round_bf16_stochastic(x, random16(99, static_cast<uint64_t>(v) * n + i))) - x) / ulp;
      worst = std::max(worst, std::abs(sum / n));
    }
    const double sigma = 0.5 / std::sqrt(static_cast<double>(n));
    std::printf("stochastic rounding: worst mean error over 32 values, %d draws each: %.2e ulp (5 sigma = %.2e)\n", n,
                worst, 5 * sigma);
    CHECK(worst < 5 * sigma);
  }
  SECTION("a decaying state with no updates: stochastic tracks e^T on average, RNE stays put") {
    // g = -2^-10, beta = 0, every state element 1: e = 0.99902 and e * 1 is nearer to 1 than
    // to the bf16 value below it (1 - 2^-8), so RNE never moves; the exact value is e^T.
    Config c = small_config(1, 1, 16, 16, Layout::KV);
    c.gate_form = GateForm::Precomputed;
    const int64_t T = 256;
    GenerateOptions o;
    o.config = c;
    o.T = T;
    o.state_dtype = Dtype::BF16;
    o.seed = seed_for("stagnation bias");
    Inputs in = generate_inputs(o);
    for (double& g : in.g.data) g = -0x1p-10;
    for (double& b : in.beta.data) b = 0.0;
    for (double& s : in.state.data) s = 1.0;
    PrecisionSpec p = profile_spec(Profile::Bf16Bf16State);
    const double e = static_cast<float>(std::exp(static_cast<float>(-0x1p-10)));  // as the fp32 arithmetic has it
    const double exact = std::pow(e, static_cast<double>(T));
    const Outputs rne = simulate(c, in, p);
    p.state = StateStorage::BF16Stochastic;
    double sum = 0.0;
    int64_t count = 0;
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      p.stochastic_seed = seed;
      for (double x : simulate(c, in, p).state.data) sum += x, ++count;
    }
    const double mean = sum / static_cast<double>(count);
    // Each step adds a zero-mean error of variance <= ulp^2 / 4 (ulp = 2^-8 below 1): after T
    // steps an element's spread is <= sqrt(T) 2^-9, and the mean of `count` elements divides it.
    const double sigma = std::sqrt(static_cast<double>(T)) * 0x1p-9 / std::sqrt(static_cast<double>(count));
    std::printf("decay without updates, T=%lld: exact %.5f, RNE %.5f (bias %.3f), stochastic mean %.5f (bias %.1e, 5 "
                "sigma %.1e)\n",
                static_cast<long long>(T), exact, rne.state[0], rne.state[0] - exact, mean, mean - exact, 5 * sigma);
    CHECK(max_abs_diff(rne.state, Tensor(rne.state.shape, 1.0)) == 0.0);
    CHECK(std::abs(mean - exact) < 5 * sigma);
    CHECK(rne.state[0] - exact > 100 * sigma);
  }
}

TEST_CASE("beta and decay rounded to bf16 change results only where they are off the bf16 grid", "[simulator]") {
  // Four value heads: beta on / off the bf16 grid x decay on / off it (g = 0 gives e = 1).
  Config c = small_config(1, 4, 8, 4, Layout::KV);
  c.gate_form = GateForm::Precomputed;
  GenerateOptions o;
  o.config = c;
  o.T = 20;
  o.input_dtype = o.params_dtype = o.state_dtype = Dtype::F32;
  o.seed = seed_for("bf16 gates");
  Inputs in = generate_inputs(o);
  const double beta_on = 0.5, beta_off = static_cast<float>(0.3), g_off = static_cast<float>(-0.1);
  for (int64_t t = 0; t < o.T; ++t)
    for (int64_t hv = 0; hv < c.HV; ++hv) {
      in.beta[t * c.HV + hv] = hv % 2 ? beta_off : beta_on;
      in.g[t * c.HV + hv] = hv >= 2 ? g_off : 0.0;
    }
  const PrecisionSpec base = profile_spec(Profile::Fp32);
  PrecisionSpec beta16 = base, decay16 = base;
  beta16.beta_bf16 = true;
  decay16.decay_bf16 = true;
  const Outputs r0 = simulate(c, in, base), rb = simulate(c, in, beta16), rd = simulate(c, in, decay16);
  for (int64_t hv = 0; hv < c.HV; ++hv) {
    const bool beta_off_grid = hv % 2, decay_off_grid = hv >= 2;
    const int64_t db = head_differences(r0.o, rb.o, hv) + head_differences(r0.state, rb.state, hv);
    const int64_t dd = head_differences(r0.o, rd.o, hv) + head_differences(r0.state, rd.state, hv);
    std::printf("head %lld (beta %s grid, decay %s grid): beta_bf16 changes %lld elements, decay_bf16 %lld\n",
                static_cast<long long>(hv), beta_off_grid ? "off" : "on", decay_off_grid ? "off" : "on",
                static_cast<long long>(db), static_cast<long long>(dd));
    CHECK((db > 0) == beta_off_grid);
    CHECK((dd > 0) == decay_off_grid);
  }
}

TEST_CASE("each profile's error against the oracle is at its arithmetic's level", "[simulator][error_model]") {
  // Asserted through the error model: the simulated error is within the bound, and the bound
  // relative to the data's scale is at the profile's level. A step adds at most ~(K + 30) u_32
  // (fp32 arithmetic) or u_s = 2^-8 (bf16 state) of the state's scale, remembered over up to
  // T = 256 tokens by the slowest heads the generator draws (|g| down to ~1e-4): at most
  // ~1e-3 for fp32 states, ~1 for bf16 states; bf16 outputs add their rounding, 2^-8.
  const Profile prof = GENERATE(Profile::Fp32, Profile::Bf16Fp32State, Profile::Bf16Bf16State);
  const PrecisionSpec p = profile_spec(prof);
  Config c = small_config(2, 4, 32, 32, Layout::VK);
  GenerateOptions o;
  o.config = c;
  o.N = 2;
  o.T = 256;
  o.input_dtype = p.input;
  o.params_dtype = p.params;
  o.state_dtype = p.state == StateStorage::BF16 ? Dtype::BF16 : Dtype::F32;
  o.seed = seed_for("levels", static_cast<uint64_t>(prof));
  const Inputs in = generate_inputs(o);
  const Outputs ref = reference(c, in), sim = simulate(c, in, p);
  ErrorModelOptions eo;
  eo.precision = p;
  const ErrorBounds b = error_bounds(c, in, eo);
  const double eo_rel = rel_diff(sim.o, ref.o), es_rel = rel_diff(sim.state, ref.state);
  const double bo_rel = max_abs(b.output) / max_abs(ref.o), bs_rel = max_abs(b.state) / max_abs(ref.state);
  int64_t exceed = 0;
  for (int64_t i = 0; i < sim.o.size(); ++i) exceed += !(std::abs(sim.o[i] - ref.o[i]) <= kSafetyFactor * b.output[i]);
  for (int64_t i = 0; i < sim.state.size(); ++i)
    exceed += !(std::abs(sim.state[i] - ref.state[i]) <= kSafetyFactor * b.state[i]);
  std::printf("%-15s K=V=32 T=256 seed %llu: observed relative error output %.2e state %.2e; bound relative output "
              "%.2e state %.2e; exceedances %lld\n",
              to_string(prof).c_str(), static_cast<unsigned long long>(o.seed), eo_rel, es_rel, bo_rel, bs_rel,
              static_cast<long long>(exceed));
  CHECK(exceed == 0);
  const bool fp32 = prof == Profile::Fp32;
  const bool bf16_state = prof == Profile::Bf16Bf16State;
  CHECK(bs_rel < (bf16_state ? 0.5 : 1e-3));
  CHECK(bo_rel < (bf16_state ? 0.5 : fp32 ? 1e-3 : 2e-2));
  // The observed levels: ~1e-6 for fp32 arithmetic and state, ~1e-2 for bf16 data.
  CHECK(es_rel < (bf16_state ? 5e-2 : 1e-5));
  CHECK(eo_rel < (fp32 ? 1e-5 : 5e-2));
  CHECK(eo_rel > (fp32 ? 1e-9 : 1e-4));  // the simulator does round: not the oracle in disguise
}
