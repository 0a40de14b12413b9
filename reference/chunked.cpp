#include "chunked.hpp"

#include <Eigen/Dense>

#include "recurrent.hpp"

namespace gdn {
namespace {

using Mat = Eigen::MatrixXd;
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Advances S (K x V) over one chunk whose token rows are Kc, Qc (scaled), Vc; writes O.
void chunk_step(const Eigen::Ref<const RowMat>& Kc, const Eigen::Ref<const RowMat>& Qc,
                const Eigen::Ref<const RowMat>& Vc, const Eigen::Ref<const Eigen::VectorXd>& g,
                const Eigen::Ref<const Eigen::VectorXd>& beta, Mat& S, Eigen::Ref<RowMat> O) {
  const int64_t n = Kc.rows();
  Eigen::VectorXd G(n);
  double acc = 0.0;
  for (int64_t t = 0; t < n; ++t) G[t] = (acc += g[t]);
  const Eigen::VectorXd Gamma = G.array().exp();

  // M_ti = exp(G_t - G_i) on and below the diagonal.
  Mat M = Mat::Zero(n, n);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i <= t; ++i) M(t, i) = std::exp(G[t] - G[i]);

  const Mat KK = Kc * Kc.transpose();
  Mat A = Mat::Identity(n, n);
  for (int64_t t = 1; t < n; ++t)
    for (int64_t i = 0; i < t; ++i) A(t, i) = beta[t] * M(t, i) * KK(t, i);

  const Mat rhs = beta.asDiagonal() * (Vc - Gamma.asDiagonal() * (Kc * S));
  const Mat U = A.triangularView<Eigen::UnitLower>().solve(rhs);

  const Mat QK = (Qc * Kc.transpose()).cwiseProduct(M);
  O = Gamma.asDiagonal() * (Qc * S) + QK * U;

  const Eigen::VectorXd tail = (G[n - 1] - G.array()).exp();
  S = Gamma[n - 1] * S + Kc.transpose() * (tail.asDiagonal() * U);
}

}  // namespace

Outputs reference_chunked(const Config& c, const Inputs& in, int64_t chunk_size) {
  if (chunk_size < 1) throw InputError("chunk size must be at least 1, got " + std::to_string(chunk_size));
  validate(c, in);
  if (in.speculative()) throw InputError("state_indices: per-token slots (speculative decode) have no chunked form");
  const PrecisionSpec p = profile_spec(Profile::Fp64);
  const std::vector<SequencePlan> plans = plan_sequences(c, in);
  Outputs out = detail::allocate_outputs(c, in, RunOptions{});

  out.expansive = detail::for_each_head(c, plans, [&](const SequencePlan& plan, int64_t, int64_t hv,
                                                      std::vector<ExpansiveStep>& exp) {
    const int64_t L = plan.end - plan.begin;
    RowMat Kc(L, c.K), Qc(L, c.K), Vc(L, c.V), O(L, c.V);
    Eigen::VectorXd g(L), beta(L);
    TokenHead<double> th;
    for (int64_t t = 0; t < L; ++t) {
      prepare_token(c, in, p, plan.begin + t, hv, th);
      if (const double rho = detail::expansion(th); rho > 0.0) exp.push_back({plan.begin + t, hv, rho});
      Kc.row(t) = th.k_hat.transpose();
      Qc.row(t) = th.q.transpose();
      Vc.row(t) = th.v.transpose();
      g[t] = th.g;
      beta[t] = th.beta;
    }
    StateMatrix<double> S;
    load_state(c, in.state.data.data(), plan.read_slot, hv, S);
    for (int64_t t0 = 0; t0 < L; t0 += chunk_size) {
      const int64_t n = std::min(chunk_size, L - t0);
      chunk_step(Kc.middleRows(t0, n), Qc.middleRows(t0, n), Vc.middleRows(t0, n), g.segment(t0, n),
                 beta.segment(t0, n), S, O.middleRows(t0, n));
    }
    for (int64_t t = 0; t < L; ++t)
      for (int64_t j = 0; j < c.V; ++j) out.o[((plan.begin + t) * c.HV + hv) * c.V + j] = O(t, j);
    store_state(c, S, out.state.data.data(), plan.read_slot, hv);
  });
  return out;
}

}  // namespace gdn
