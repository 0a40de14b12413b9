#include "generate.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace gdn {

std::string to_string(Stress s) {
  switch (s) {
    case Stress::None: return "none";
    case Stress::SlowDecay: return "slow-decay";
    case Stress::NearCancellation: return "near-cancellation";
    case Stress::LargeKeys: return "large-keys";
  }
  return "?";
}

Stress parse_stress(const std::string& s) {
  for (Stress x : {Stress::None, Stress::SlowDecay, Stress::NearCancellation, Stress::LargeKeys})
    if (to_string(x) == s) return x;
  throw InputError("stress: unknown value '" + s + "' (expected none, slow-decay, near-cancellation or large-keys)");
}

Inputs generate_inputs(const GenerateOptions& o) {
  const Config& c = o.config;
  if (c.H <= 0 || c.HV <= 0 || c.K <= 0 || c.V <= 0 || c.HV % c.H != 0)
    throw InputError("generate: need positive H, HV, K, V with HV % H == 0");
  std::vector<int64_t> lens = o.seq_lens;
  if (lens.empty()) lens.assign(static_cast<size_t>(o.N), o.T);
  const int64_t N = static_cast<int64_t>(lens.size());
  if (N < 1) throw InputError("generate: need at least one sequence");
  for (int64_t L : lens)
    if (L < 1) throw InputError("generate: every sequence needs at least one token");
  if (o.pad_rows < 0 || o.pad_rows > N) throw InputError("generate: pad rows must be in [0, N]");
  if (o.speculative && !o.seq_lens.empty()) throw InputError("generate: speculative decode takes uniform T, not seq_lens");

  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  auto on_grid = [](Dtype d, double x) { return round_to(d, x); };

  Inputs in;
  in.cu_seqlens = IndexTensor({N + 1});
  for (int64_t n = 0; n < N; ++n) in.cu_seqlens[n + 1] = in.cu_seqlens[n] + lens[static_cast<size_t>(n)];
  const int64_t Tt = in.num_tokens();

  auto fill_normal = [&](Tensor& t, Shape shape, Dtype d, double std_dev) {
    t = Tensor(std::move(shape));
    for (double& x : t.data) x = on_grid(d, std_dev * normal(rng));
  };
  fill_normal(in.q, {Tt, c.H, c.K}, o.input_dtype, 1.0);
  // LargeKeys: ||k|| ~ 2, so beta ||k||^2 reaches ~4 and |1 - beta ||k||^2| > 1 (expansive).
  fill_normal(in.k, {Tt, c.H, c.K}, o.input_dtype, o.stress == Stress::LargeKeys ? 2.0 / std::sqrt(double(c.K)) : 1.0);
  fill_normal(in.v, {Tt, c.HV, c.V}, o.input_dtype, 1.0);

  if (o.stress == Stress::NearCancellation) {
    // Every token of a sequence reuses its first token's key and value: after the first
    // update S^T k ~ v, so v - S^T k cancels to rounding level when beta is near 1.
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = in.cu_seqlens[n] + 1; t < in.cu_seqlens[n + 1]; ++t) {
        std::copy_n(&in.k[in.cu_seqlens[n] * c.H * c.K], c.H * c.K, &in.k[t * c.H * c.K]);
        std::copy_n(&in.v[in.cu_seqlens[n] * c.HV * c.V], c.HV * c.V, &in.v[t * c.HV * c.V]);
      }
  }

  // Per-head gate parameters as the model initialises them.
  Tensor A_log({c.HV}), dt_bias({c.HV});
  for (int64_t h = 0; h < c.HV; ++h) {
    double A = 1.0 + 15.0 * uniform(rng);
    double dt = std::exp(std::log(1e-3) + (std::log(1e-1) - std::log(1e-3)) * uniform(rng));
    if (o.stress == Stress::SlowDecay) {
      A = 1e-3 * (1.0 + uniform(rng));  // |g| ~ 1e-3 * dt: a memory of ~1e4..1e6 tokens
      dt = 1e-3;
    }
    A_log[h] = on_grid(o.params_dtype, std::log(A));
    dt_bias[h] = on_grid(o.params_dtype, dt + std::log(-std::expm1(-dt)));  // softplus^-1(dt)
  }
  Tensor a, b;
  fill_normal(a, {Tt, c.HV}, o.input_dtype, 1.0);
  fill_normal(b, {Tt, c.HV}, o.input_dtype, 1.0);
  if (o.stress == Stress::NearCancellation)
    for (double& x : b.data) x = on_grid(o.input_dtype, 6.0 + std::abs(x));  // beta near 1
  if (o.stress == Stress::SlowDecay)
    for (double& x : a.data) x = on_grid(o.input_dtype, -std::abs(x));  // keeps softplus(a + dt_bias) small
  if (c.gate_form == GateForm::Raw) {
    in.a = std::move(a);
    in.b = std::move(b);
    in.A_log = std::move(A_log);
    in.dt_bias = std::move(dt_bias);
  } else {
    // Precomputed gates: the same distribution, computed in double and put on the grid.
    in.g = Tensor({Tt, c.HV});
    in.beta = Tensor({Tt, c.HV});
    for (int64_t t = 0; t < Tt; ++t)
      for (int64_t h = 0; h < c.HV; ++h) {
        const double x = a[t * c.HV + h] + dt_bias[h];
        const double sp = x > kSoftplusThreshold ? x : std::log1p(std::exp(x));
        in.g[t * c.HV + h] = on_grid(o.params_dtype, -std::exp(A_log[h]) * sp);
        in.beta[t * c.HV + h] = on_grid(o.input_dtype, 1.0 / (1.0 + std::exp(-b[t * c.HV + h])));
      }
  }

  // Pool and slots.
  const int64_t Tmax = *std::max_element(lens.begin(), lens.end());
  const int64_t slots_used = o.speculative ? N * Tmax : N;
  const int64_t P = c.first_slot() + slots_used + o.extra_slots;
  fill_normal(in.state, c.layout == Layout::KV ? Shape{P, c.HV, c.K, c.V} : Shape{P, c.HV, c.V, c.K}, o.state_dtype,
              o.state_std);
  if (o.state_indices || o.pad_rows > 0 || o.speculative || c.first_slot() > 0) {
    std::vector<int64_t> slots(static_cast<size_t>(P - c.first_slot()));
    std::iota(slots.begin(), slots.end(), c.first_slot());
    if (o.state_indices) std::shuffle(slots.begin(), slots.end(), rng);
    std::vector<int64_t> padded(static_cast<size_t>(N));
    std::iota(padded.begin(), padded.end(), 0);
    std::shuffle(padded.begin(), padded.end(), rng);
    padded.resize(static_cast<size_t>(o.pad_rows));
    const int64_t pad = c.pad_sentinel == PadSentinel::MinusOne ? -1 : 0;
    in.state_indices = o.speculative ? IndexTensor({N, Tmax}) : IndexTensor({N});
    for (int64_t i = 0; i < in.state_indices.size(); ++i) in.state_indices[i] = slots[static_cast<size_t>(i)];
    for (int64_t n : padded)
      for (int64_t t = 0; t < (o.speculative ? Tmax : 1); ++t) in.state_indices[n * (o.speculative ? Tmax : 1) + t] = pad;
    if (o.speculative) {
      in.num_accepted = IndexTensor({N});
      for (int64_t n = 0; n < N; ++n) in.num_accepted[n] = 1 + static_cast<int64_t>(uniform(rng) * double(Tmax)) % Tmax;
    }
  }
  return in;
}

}  // namespace gdn
