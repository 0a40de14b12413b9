// Helpers shared by the tests: comparisons, layout transposes, seeds, and a naive
// recurrence written straight from SPEC.md with plain loops (no Eigen, explicit S'),
// independent of reference/recurrent.hpp so that a bug cannot hide in shared code.
#pragma once
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "catch.hpp"
#include "golden/generate.hpp"
#include "reference/recurrent.hpp"

namespace gdn::test {

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape == b.shape);
  double m = 0.0;
  for (int64_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}
inline double max_abs(const Tensor& a) {
  double m = 0.0;
  for (double x : a.data) m = std::max(m, std::abs(x));
  return m;
}
// max |a - b| / max |b|: relative to the tensor's scale, meaningful under cancellation.
inline double rel_diff(const Tensor& a, const Tensor& b) {
  const double s = max_abs(b);
  return s > 0 ? max_abs_diff(a, b) / s : max_abs_diff(a, b);
}
inline bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape == b.shape && std::equal(a.data.begin(), a.data.end(), b.data.begin(),
                                          [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; });
}

// Token t of every sequence of a call whose N sequences all have T tokens, as a call of N
// one-token sequences on the given pool (raw or precomputed gates alike).
inline Inputs token_slice(const Inputs& in, int64_t N, int64_t T, int64_t t, const Tensor& pool) {
  auto rows = [&](const Tensor& x) {
    if (!x.present()) return Tensor();
    Shape s = x.shape;
    s[0] = N;
    Tensor r(s);
    const int64_t w = x.size() / x.dim(0);
    for (int64_t n = 0; n < N; ++n) std::copy_n(&x[(n * T + t) * w], w, &r[n * w]);
    return r;
  };
  Inputs step;
  step.cu_seqlens = IndexTensor({N + 1});
  for (int64_t n = 0; n <= N; ++n) step.cu_seqlens[n] = n;
  step.q = rows(in.q), step.k = rows(in.k), step.v = rows(in.v);
  step.a = rows(in.a), step.b = rows(in.b), step.g = rows(in.g), step.beta = rows(in.beta);
  step.A_log = in.A_log, step.dt_bias = in.dt_bias;
  step.state = pool;
  return step;
}

// Runs `run` (Inputs -> Outputs) once over all T tokens and then T times over one token,
// carrying the pool: whether the outputs and the final pool are bit-identical. The state
// stays on chip (or in registers) within a call and is stored between calls, so equality
// says that the per-token storage rounding is exactly what a long call does.
struct StepwiseEquality {
  bool outputs = true;
  bool state = false;
};
template <class Run>
StepwiseEquality stepwise_equals_whole(const Config& c, const Inputs& in, int64_t N, int64_t T, Run&& run) {
  const Outputs whole = run(in);
  StepwiseEquality eq;
  Tensor pool = in.state;
  const int64_t row = c.HV * c.V;
  for (int64_t t = 0; t < T; ++t) {
    const Outputs one = run(token_slice(in, N, T, t, pool));
    pool = one.state;
    for (int64_t n = 0; n < N; ++n)
      eq.outputs = eq.outputs && std::equal(&one.o[n * row], &one.o[n * row] + row, &whole.o[(n * T + t) * row]);
  }
  eq.state = bit_equal(pool, whole.state);
  return eq;
}

inline Config small_config(int64_t H = 2, int64_t HV = 4, int64_t K = 16, int64_t V = 8, Layout l = Layout::KV) {
  Config c;
  c.H = H;
  c.HV = HV;
  c.K = K;
  c.V = V;
  c.layout = l;
  return c;
}

// A seed per test, printed so that a failure can be replayed. Cases per kernel variant name
// the variant in `what` rather than number it, so that adding or removing a variant leaves
// the other variants' inputs as they were.
inline uint64_t seed_for(const std::string& what, uint64_t i = 0) {
  const uint64_t s = std::hash<std::string>{}(what) ^ (i * 0x9e3779b97f4a7c15ull);
  UNSCOPED_INFO("seed " << s << " (" << what << ", " << i << ")");
  return s;
}

// SPEC.md literally, in double, KV layout, one sequence after another.
inline Outputs naive_reference(const Config& c, const Inputs& in) {
  Outputs out;
  const int64_t Tt = in.num_tokens(), N = in.num_sequences(), K = c.K, V = c.V;
  out.o = Tensor({Tt, c.HV, V});
  out.state = in.state;
  auto slot_elem = [&](Tensor& pool, int64_t slot, int64_t hv, int64_t i, int64_t j) -> double& {
    return c.layout == Layout::KV ? pool[((slot * c.HV + hv) * K + i) * V + j] : pool[((slot * c.HV + hv) * V + j) * K + i];
  };
  for (int64_t n = 0; n < N; ++n) {
    int64_t slot = n;
    if (in.state_indices.present() && !in.speculative()) slot = in.state_indices[n];
    if (in.speculative()) slot = in.state_indices[n * in.state_indices.dim(1) + in.num_accepted[n] - 1];
    if (in.state_indices.present() && c.is_pad(slot)) continue;
    for (int64_t hv = 0; hv < c.HV; ++hv) {
      const int64_t h = hv / (c.HV / c.H);
      std::vector<double> S(K * V), Sp(K * V);
      Tensor pool_in = in.state;
      for (int64_t i = 0; i < K; ++i)
        for (int64_t j = 0; j < V; ++j) S[i * V + j] = slot_elem(pool_in, slot, hv, i, j);
      for (int64_t t = in.cu_seqlens[n]; t < in.cu_seqlens[n + 1]; ++t) {
        double g, beta;
        if (c.gate_form == GateForm::Raw) {
          const double x = in.a[t * c.HV + hv] + in.dt_bias[hv];
          g = -std::exp(in.A_log[hv]) * (x > 20.0 ? x : std::log1p(std::exp(x)));
          beta = 1.0 / (1.0 + std::exp(-in.b[t * c.HV + hv]));
        } else {
          g = in.g[t * c.HV + hv];
          beta = in.beta[t * c.HV + hv];
        }
        std::vector<double> q(K), k(K);
        double qq = 0, kk = 0;
        for (int64_t i = 0; i < K; ++i) {
          q[i] = in.q[(t * c.H + h) * K + i];
          k[i] = in.k[(t * c.H + h) * K + i];
          qq += q[i] * q[i];
          kk += k[i] * k[i];
        }
        double qd = 1, kd = 1;
        if (c.qk_norm == QkNorm::L2Eps) qd = std::sqrt(qq + 1e-6), kd = std::sqrt(kk + 1e-6);
        if (c.qk_norm == QkNorm::FNormalize) qd = std::max(std::sqrt(qq), 1e-12), kd = std::max(std::sqrt(kk), 1e-12);
        for (int64_t i = 0; i < K; ++i) q[i] = q[i] / qd * c.effective_scale(), k[i] /= kd;
        for (int64_t x = 0; x < K * V; ++x) Sp[x] = std::exp(g) * S[x];
        for (int64_t j = 0; j < V; ++j) {
          double stk = 0;
          for (int64_t i = 0; i < K; ++i) stk += Sp[i * V + j] * k[i];
          const double u = beta * (in.v[(t * c.HV + hv) * V + j] - stk);
          for (int64_t i = 0; i < K; ++i) S[i * V + j] = Sp[i * V + j] + k[i] * u;
        }
        for (int64_t j = 0; j < V; ++j) {
          double o = 0;
          for (int64_t i = 0; i < K; ++i) o += S[i * V + j] * q[i];
          out.o[(t * c.HV + hv) * V + j] = o;
        }
        if (in.speculative()) {
          const int64_t w = in.state_indices[n * in.state_indices.dim(1) + (t - in.cu_seqlens[n])];
          if (!c.is_pad(w))
            for (int64_t i = 0; i < K; ++i)
              for (int64_t j = 0; j < V; ++j) slot_elem(out.state, w, hv, i, j) = S[i * V + j];
        }
      }
      if (!in.speculative())
        for (int64_t i = 0; i < K; ++i)
          for (int64_t j = 0; j < V; ++j) slot_elem(out.state, slot, hv, i, j) = S[i * V + j];
    }
  }
  return out;
}

}  // namespace gdn::test
