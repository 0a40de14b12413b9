// Everything one (token, value head) feeds into the state update, computed in the
// arithmetic type T from the inputs rounded to their declared dtypes (SPEC.md steps 1-3).
#pragma once
#include <cmath>

#include <Eigen/Core>

#include "config.hpp"
#include "precision.hpp"
#include "problem.hpp"

namespace gdn {

template <class T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

// softplus with torch's threshold: x above it is returned as is.
template <class T>
T softplus(T x) {
  return x > T(kSoftplusThreshold) ? x : std::log1p(std::exp(x));
}
template <class T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}
// g = -exp(A_log) * softplus(a + dt_bias): log-space decay, <= 0.
template <class T>
T raw_gate(T A_log, T a, T dt_bias) {
  return -std::exp(A_log) * softplus(a + dt_bias);
}

// x normalised in place by the convention: L2Eps x / sqrt(sum x^2 + 1e-6),
// FNormalize x / max(||x||, 1e-12), None unchanged.
template <class T>
void normalise(QkNorm norm, Vec<T>& x) {
  switch (norm) {
    case QkNorm::L2Eps: x /= std::sqrt(x.squaredNorm() + T(kL2NormEps)); break;
    case QkNorm::FNormalize: x /= std::max(std::sqrt(x.squaredNorm()), T(kFNormalizeEps)); break;
    case QkNorm::None: break;
  }
}

template <class T>
struct TokenHead {
  T g = 0;      // log decay as used
  T decay = 0;  // exp(g), rounded to bf16 if the policy says so
  T beta = 0;   // rounded to bf16 if the policy says so
  Vec<T> q_hat, k_hat;  // normalised q and k (K)
  Vec<T> q;             // scale * q_hat (K)
  Vec<T> v;             // (V)
};

template <class T>
void prepare_token(const Config& c, const Inputs& in, const PrecisionSpec& p, int64_t t, int64_t hv, TokenHead<T>& th) {
  const int64_t h = c.head_of(hv);
  th.q_hat.resize(c.K);
  th.k_hat.resize(c.K);
  th.v.resize(c.V);
  const double* qs = &in.q[(t * c.H + h) * c.K];
  const double* ks = &in.k[(t * c.H + h) * c.K];
  const double* vs = &in.v[(t * c.HV + hv) * c.V];
  for (int64_t i = 0; i < c.K; ++i) {
    th.q_hat[i] = round_to(p.input, static_cast<T>(qs[i]));
    th.k_hat[i] = round_to(p.input, static_cast<T>(ks[i]));
  }
  for (int64_t j = 0; j < c.V; ++j) th.v[j] = round_to(p.input, static_cast<T>(vs[j]));
  normalise(c.qk_norm, th.q_hat);
  normalise(c.qk_norm, th.k_hat);
  th.q = th.q_hat * static_cast<T>(c.effective_scale());

  const int64_t th_index = t * c.HV + hv;
  if (c.gate_form == GateForm::Raw) {
    const T A_log = round_to(p.params, static_cast<T>(in.A_log[hv]));
    const T dt_bias = round_to(p.params, static_cast<T>(in.dt_bias[hv]));
    const T a = round_to(p.input, static_cast<T>(in.a[th_index]));
    const T b = round_to(p.input, static_cast<T>(in.b[th_index]));
    th.g = raw_gate(A_log, a, dt_bias);
    th.beta = sigmoid(b);
  } else {
    th.g = round_to(p.params, static_cast<T>(in.g[th_index]));
    th.beta = round_to(p.input, static_cast<T>(in.beta[th_index]));
  }
  th.decay = std::exp(th.g);
  if (p.decay_bf16) th.decay = round_to(Dtype::BF16, th.decay);
  if (p.beta_bf16) th.beta = round_to(Dtype::BF16, th.beta);
}

}  // namespace gdn
