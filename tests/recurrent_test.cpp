// The float64 recurrence against identities of the gated delta rule and against the naive
// loop written from SPEC.md.
#include "test_util.hpp"

using namespace gdn;
using namespace gdn::test;

namespace {

GenerateOptions options(const Config& c, int64_t N, int64_t T, uint64_t seed) {
  GenerateOptions o;
  o.config = c;
  o.N = N;
  o.T = T;
  o.input_dtype = Dtype::F64;
  o.params_dtype = Dtype::F64;
  o.state_dtype = Dtype::F64;
  o.seed = seed;
  return o;
}

}  // namespace

TEST_CASE("reference equals the naive SPEC loop across conventions", "[reference]") {
  const Layout layout = GENERATE(Layout::KV, Layout::VK);
  const GateForm gates = GENERATE(GateForm::Raw, GateForm::Precomputed);
  const QkNorm norm = GENERATE(QkNorm::L2Eps, QkNorm::FNormalize, QkNorm::None);
  const int64_t HV = GENERATE(2, 6);
  Config c = small_config(HV == 6 ? 3 : 1, HV, 12, 10, layout);
  c.gate_form = gates;
  c.qk_norm = norm;
  if (norm == QkNorm::None) c.scale = 0.25;
  GenerateOptions o = options(c, 3, 7, seed_for("naive", HV));
  o.state_indices = true;
  o.extra_slots = 2;
  const Inputs in = generate_inputs(o);
  const Outputs ref = reference(c, in), naive = naive_reference(c, in);
  const double eo = rel_diff(ref.o, naive.o), es = rel_diff(ref.state, naive.state);
  INFO("layout " << to_string(layout) << " gates " << to_string(gates) << " norm " << to_string(norm));
  INFO("relative difference output " << eo << " state " << es);
  CHECK(eo < 1e-13);
  CHECK(es < 1e-13);
}

TEST_CASE("exact tier: integer inputs without normalisation match the naive loop bit for bit", "[reference][exact]") {
  // Small integers, decay 1 (g = 0), beta in {0, 1/2, 1}, scale 1: every product and sum is
  // an integer or a half-integer far below 2^53, so any correct order of operations is exact.
  const Layout layout = GENERATE(Layout::KV, Layout::VK);
  Config c = small_config(2, 4, 8, 6, layout);
  c.gate_form = GateForm::Precomputed;
  c.qk_norm = QkNorm::None;
  c.scale = 1.0;
  const int64_t N = 2, T = 5, Tt = N * T;
  std::mt19937_64 rng(seed_for("exact"));
  std::uniform_int_distribution<int> small(-2, 2);
  Inputs in;
  in.cu_seqlens = IndexTensor({N + 1});
  for (int64_t n = 0; n <= N; ++n) in.cu_seqlens[n] = n * T;
  auto ints = [&](Shape s) {
    Tensor t(std::move(s));
    for (double& x : t.data) x = small(rng);
    return t;
  };
  in.q = ints({Tt, c.H, c.K});
  in.k = Tensor({Tt, c.H, c.K});  // one-hot keys keep the values small
  for (int64_t t = 0; t < Tt; ++t)
    for (int64_t h = 0; h < c.H; ++h) in.k[(t * c.H + h) * c.K + (t + h) % c.K] = 1.0;
  in.v = ints({Tt, c.HV, c.V});
  in.g = Tensor({Tt, c.HV}, 0.0);
  in.beta = Tensor({Tt, c.HV});
  for (int64_t i = 0; i < in.beta.size(); ++i) in.beta[i] = 0.5 * (i % 3);
  in.state = ints(state_shape(c, N));
  const Outputs ref = reference(c, in), naive = naive_reference(c, in);
  CHECK(bit_equal(ref.o, naive.o));
  CHECK(bit_equal(ref.state, naive.state));
  // The float simulator computes the same integers exactly too.
  PrecisionSpec fp32 = profile_spec(Profile::Fp32);
  const Outputs sim = simulate(c, in, fp32);
  CHECK(bit_equal(sim.o, ref.o));
  CHECK(bit_equal(sim.state, ref.state));
}

TEST_CASE("beta = 0 only decays the state", "[reference]") {
  Config c = small_config(2, 4, 16, 8);
  c.gate_form = GateForm::Precomputed;
  const Inputs base = generate_inputs(options(c, 2, 6, seed_for("beta0")));
  Inputs in = base;
  for (double& b : in.beta.data) b = 0.0;
  const Outputs out = reference(c, in);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t hv = 0; hv < c.HV; ++hv) {
      double G = 0;
      for (int64_t t = n * 6; t < n * 6 + 6; ++t) G += in.g[t * c.HV + hv];
      const int64_t head = c.K * c.V, off = (n * c.HV + hv) * head;
      for (int64_t x = 0; x < head; ++x)
        REQUIRE(out.state[off + x] == Approx(std::exp(G) * in.state[off + x]).epsilon(1e-13).margin(1e-300));
    }
}

TEST_CASE("g = 0, beta = 1 with orthonormal keys stores v exactly", "[reference][exact]") {
  // Keys are distinct unit basis vectors: each token writes v into its own row of S,
  // untouched by later tokens; a query equal to a key reads that v back.
  Config c = small_config(1, 1, 8, 5);
  c.gate_form = GateForm::Precomputed;
  c.qk_norm = QkNorm::L2Eps;
  const int64_t T = 8;
  GenerateOptions o = options(c, 1, T, seed_for("orthonormal"));
  Inputs in = generate_inputs(o);
  c.qk_norm = QkNorm::None;
  c.scale = 1.0;
  std::fill(in.state.data.begin(), in.state.data.end(), 0.0);
  std::fill(in.k.data.begin(), in.k.data.end(), 0.0);
  std::fill(in.q.data.begin(), in.q.data.end(), 0.0);
  for (int64_t t = 0; t < T; ++t) {
    in.k[t * c.K + (t * 3) % c.K] = 1.0;  // a permutation of the basis
    in.q[t * c.K + (t * 3) % c.K] = 1.0;
    in.g[t] = 0.0;
    in.beta[t] = 1.0;
  }
  const Outputs out = reference(c, in);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t j = 0; j < c.V; ++j) {
      CHECK(out.o[t * c.V + j] == in.v[t * c.V + j]);
      CHECK(out.state[((t * 3) % c.K) * c.V + j] == in.v[t * c.V + j]);
    }
}

TEST_CASE("KV and VK runs give transposed, identical states", "[reference][layout]") {
  const bool simulated = GENERATE(false, true);
  Config kv = small_config(2, 4, 16, 12, Layout::KV);
  Config vk = kv;
  vk.layout = Layout::VK;
  GenerateOptions o = options(kv, 3, 9, seed_for("layout"));
  o.state_indices = true;
  o.extra_slots = 1;
  const Inputs in_kv = generate_inputs(o);
  Inputs in_vk = in_kv;
  in_vk.state = transpose_last2(in_kv.state);
  const PrecisionSpec p = simulated ? profile_spec(Profile::Bf16Bf16State) : profile_spec(Profile::Fp64);
  RunOptions ro;
  ro.token_states = true;
  const Outputs a = simulate(kv, in_kv, p, ro), b = simulate(vk, in_vk, p, ro);
  CHECK(bit_equal(a.o, b.o));
  CHECK(bit_equal(transpose_last2(a.state), b.state));
  CHECK(bit_equal(transpose_last2(a.token_states), b.token_states));
}

TEST_CASE("T single-token calls equal one T-token call", "[reference]") {
  const Profile prof = GENERATE(Profile::Fp64, Profile::Bf16Bf16State);
  Config c = small_config(2, 4, 16, 8);
  const Inputs in = generate_inputs(options(c, 2, 6, seed_for("steps")));
  const PrecisionSpec p = profile_spec(prof);
  const StepwiseEquality eq = stepwise_equals_whole(c, in, 2, 6, [&](const Inputs& x) { return simulate(c, x, p); });
  CHECK(eq.outputs);
  CHECK(eq.state);
}

TEST_CASE("varlen packing equals separate calls", "[reference][varlen]") {
  Config c = small_config(2, 4, 16, 8);
  GenerateOptions o = options(c, 0, 0, seed_for("varlen"));
  o.seq_lens = {3, 1, 7, 2};
  const Inputs in = generate_inputs(o);
  const Outputs whole = reference(c, in);
  for (int64_t n = 0; n < 4; ++n) {
    const int64_t b = in.cu_seqlens[n], e = in.cu_seqlens[n + 1], L = e - b;
    Inputs one;
    one.cu_seqlens = IndexTensor({2});
    one.cu_seqlens[1] = L;
    auto slice = [&](const Tensor& x, int64_t from, int64_t count) {
      const int64_t w = x.size() / x.dim(0);
      Shape s = x.shape;
      s[0] = count;
      Tensor r(s);
      std::copy_n(&x[from * w], count * w, r.data.data());
      return r;
    };
    one.q = slice(in.q, b, L), one.k = slice(in.k, b, L), one.v = slice(in.v, b, L);
    one.a = slice(in.a, b, L), one.b = slice(in.b, b, L);
    one.A_log = in.A_log, one.dt_bias = in.dt_bias;
    one.state = slice(in.state, n, 1);
    const Outputs o = reference(c, one);
    CHECK(bit_equal(o.o, slice(whole.o, b, L)));
    CHECK(bit_equal(o.state, slice(whole.state, n, 1)));
  }
}

TEST_CASE("GQA grouping equals repeating each key head over its value heads", "[reference]") {
  Config grouped = small_config(2, 6, 8, 4);
  const Inputs in = generate_inputs(options(grouped, 2, 3, seed_for("gqa")));
  Config flat = grouped;
  flat.H = 6;
  Inputs rep = in;
  const int64_t Tt = in.num_tokens();
  rep.q = Tensor({Tt, 6, 8});
  rep.k = Tensor({Tt, 6, 8});
  for (int64_t t = 0; t < Tt; ++t)
    for (int64_t hv = 0; hv < 6; ++hv)
      for (int64_t i = 0; i < 8; ++i) {
        rep.q[(t * 6 + hv) * 8 + i] = in.q[(t * 2 + hv / 3) * 8 + i];
        rep.k[(t * 6 + hv) * 8 + i] = in.k[(t * 2 + hv / 3) * 8 + i];
      }
  const Outputs a = reference(grouped, in), b = reference(flat, rep);
  CHECK(bit_equal(a.o, b.o));
  CHECK(bit_equal(a.state, b.state));
}

TEST_CASE("state pool: slots follow state_indices, padded rows touch nothing and output zero", "[reference][pool]") {
  const PadSentinel sentinel = GENERATE(PadSentinel::MinusOne, PadSentinel::NonPositive);
  Config c = small_config(2, 4, 8, 8);
  c.pad_sentinel = sentinel;
  GenerateOptions o = options(c, 6, 3, seed_for("pool", static_cast<uint64_t>(sentinel)));
  o.state_indices = true;
  o.pad_rows = 2;
  o.extra_slots = 3;
  const Inputs in = generate_inputs(o);
  const Outputs out = reference(c, in), naive = naive_reference(c, in);
  CHECK(rel_diff(out.o, naive.o) < 1e-13);
  CHECK(rel_diff(out.state, naive.state) < 1e-13);
  const int64_t P = in.state.dim(0), head = c.HV * c.K * c.V;
  std::vector<bool> used(static_cast<size_t>(P), false);
  for (int64_t n = 0; n < 6; ++n) {
    const int64_t s = in.state_indices[n];
    if (c.is_pad(s)) {
      for (int64_t x = 0; x < 3 * c.HV * c.V; ++x) REQUIRE(out.o[n * 3 * c.HV * c.V + x] == 0.0);
    } else {
      used[static_cast<size_t>(s)] = true;
    }
  }
  for (int64_t s = 0; s < P; ++s)
    if (!used[static_cast<size_t>(s)])
      for (int64_t x = 0; x < head; ++x) REQUIRE(out.state[s * head + x] == in.state[s * head + x]);
}

TEST_CASE("speculative decode reads slot num_accepted - 1 and writes every token's state", "[reference][spec]") {
  Config c = small_config(2, 4, 8, 8, Layout::VK);
  GenerateOptions o = options(c, 4, 5, seed_for("spec"));
  o.speculative = true;
  o.state_indices = true;
  o.pad_rows = 1;
  const Inputs in = generate_inputs(o);
  RunOptions ro;
  ro.token_states = true;
  const Outputs out = reference(c, in, ro), naive = naive_reference(c, in);
  CHECK(rel_diff(out.o, naive.o) < 1e-13);
  CHECK(rel_diff(out.state, naive.state) < 1e-13);
  // The slot of token t holds the per-token state after token t.
  const int64_t head = c.HV * c.K * c.V;
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t t = 0; t < 5; ++t) {
      const int64_t s = in.state_indices[n * 5 + t];
      if (c.is_pad(s)) continue;
      for (int64_t x = 0; x < head; ++x) REQUIRE(out.state[s * head + x] == out.token_states[(n * 5 + t) * head + x]);
    }
}

TEST_CASE("unnormalised large keys are reported as expansive steps", "[reference]") {
  Config c = small_config(1, 2, 16, 4);
  c.qk_norm = QkNorm::None;
  GenerateOptions o = options(c, 1, 20, seed_for("expansive"));
  o.stress = Stress::LargeKeys;
  const Inputs in = generate_inputs(o);
  const Outputs out = reference(c, in, RunOptions{false, true});
  size_t expected = 0;
  for (int64_t t = 0; t < 20; ++t)
    for (int64_t hv = 0; hv < 2; ++hv) {
      double kk = 0;
      for (int64_t i = 0; i < 16; ++i) kk += in.k[t * 16 + i] * in.k[t * 16 + i];
      if (std::abs(1.0 - out.intermediates.beta[t * 2 + hv] * kk) > 1.0) ++expected;
    }
  CHECK(expected > 0);
  CHECK(out.expansive.size() == expected);
  c.qk_norm = QkNorm::L2Eps;
  CHECK(reference(c, in).expansive.empty());
}
