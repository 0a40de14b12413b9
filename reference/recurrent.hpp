// The gated delta rule, token by token (SPEC.md step 4), templated on the arithmetic type
// and driven by a precision policy. With T = double and the fp64 policy it is the float64
// oracle; with T = float and a profile's policy it simulates a kernel of that profile;
// with T = long double it certifies the oracle.
//
// For each (sequence, value head), state column j (value index j) evolves alone:
//     s' = exp(g) s;  r_j = v_j - k^T s';  u_j = beta r_j;  s = s' + u_j k;  o_j = q~^T s
// so the update runs column by column over contiguous memory, one pass over the state,
// as kernels tile over V. The output uses the state before its storage rounding, as a
// kernel that keeps the state in registers and stores it once per token does.
#pragma once
#include <algorithm>
#include <type_traits>
#include <vector>

#include "plan.hpp"
#include "precision.hpp"
#include "state_io.hpp"
#include "token_inputs.hpp"
#include "validate.hpp"

namespace gdn {

// What an observer sees of one step of one (sequence, value head).
template <class T>
struct StepView {
  int64_t seq, token, hv;
  const TokenHead<T>& in;
  const StateMatrix<T>* prev;  // state before the step; only for observers that ask for it
  const StateMatrix<T>& next;  // state after the step, after storage rounding
  const Vec<T>& r;             // v - S'^T k
  const Vec<T>& u;             // beta r
  const Vec<T>& o;             // output before output rounding
};

// The observer interface (the error model is one). Calls for different (sequence, head)
// pairs come from different threads at once.
struct NoObserver {
  static constexpr bool kWantsPrevState = false;
  template <class T>
  void step(const StepView<T>&) {}
};

// One storage rounding of a state element under the policy; `counter` identifies the
// element for stochastic rounding: ((token * HV + hv) * K + i) * V + j.
template <class T>
T round_state(const PrecisionSpec& p, T x, uint64_t counter) {
  using Narrow = std::conditional_t<std::is_same_v<T, float>, float, double>;
  switch (p.state) {
    case StateStorage::Arith: return x;
    case StateStorage::F32: return round_to(Dtype::F32, x);
    case StateStorage::BF16: return round_to(Dtype::BF16, x);
    case StateStorage::F16: return round_to(Dtype::F16, x);
    case StateStorage::BF16Stochastic:
      return static_cast<T>(round_bf16_stochastic(static_cast<Narrow>(x), random16(p.stochastic_seed, counter)));
  }
  return x;
}

template <class T>
void round_state_matrix(const Config& c, const PrecisionSpec& p, int64_t token, int64_t hv, StateMatrix<T>& S) {
  if (p.state == StateStorage::Arith) return;
  for (int64_t j = 0; j < c.V; ++j)
    for (int64_t i = 0; i < c.K; ++i)
      S(i, j) = round_state(p, S(i, j), static_cast<uint64_t>(((token * c.HV + hv) * c.K + i) * c.V + j));
}

namespace detail {

// The two passes over one state column s (length K), each a fused elementwise update and a
// dot product. The dot products keep kLanes independent partial sums in a fixed-size Eigen
// array (registers), reduced in a fixed order at the end: vectorised without reassociating
// one accumulator (Eigen's dot on a column block was bound by FMA latency, ~6 GFLOP/s), and
// the same result on every machine and thread count.
constexpr int kLanes = 16;

// s *= decay; returns k . s (after the decay).
template <class T>
EIGEN_STRONG_INLINE T decay_and_dot(T* s, T decay, const T* k, int64_t K) {
  using Lanes = Eigen::Array<T, kLanes, 1>;
  Lanes acc = Lanes::Zero();
  int64_t i = 0;
  for (; i + kLanes <= K; i += kLanes) {
    Eigen::Map<Lanes> sv(s + i);
    sv *= decay;
    acc += Eigen::Map<const Lanes>(k + i) * sv;
  }
  T sum = acc.sum();
  for (; i < K; ++i) {
    s[i] *= decay;
    sum += k[i] * s[i];
  }
  return sum;
}

// s += u k; returns q . s (after the update).
template <class T>
EIGEN_STRONG_INLINE T update_and_dot(T* s, T u, const T* k, const T* q, int64_t K) {
  using Lanes = Eigen::Array<T, kLanes, 1>;
  Lanes acc = Lanes::Zero();
  int64_t i = 0;
  for (; i + kLanes <= K; i += kLanes) {
    Eigen::Map<Lanes> sv(s + i);
    sv += u * Eigen::Map<const Lanes>(k + i);
    acc += Eigen::Map<const Lanes>(q + i) * sv;
  }
  T sum = acc.sum();
  for (; i < K; ++i) {
    s[i] += u * k[i];
    sum += q[i] * s[i];
  }
  return sum;
}

// Allocates the outputs of a call: output zero, the pool copied so that untouched slots
// (and padded rows' slots) keep their values.
inline Outputs allocate_outputs(const Config& c, const Inputs& in, const RunOptions& opt) {
  const int64_t Tt = in.num_tokens();
  Outputs out;
  out.o = Tensor({Tt, c.HV, c.V});
  out.state = in.state;
  if (opt.token_states)
    out.token_states = Tensor(c.layout == Layout::KV ? Shape{Tt, c.HV, c.K, c.V} : Shape{Tt, c.HV, c.V, c.K});
  if (opt.intermediates) {
    out.intermediates.g = Tensor({Tt, c.HV});
    out.intermediates.beta = Tensor({Tt, c.HV});
    out.intermediates.q_hat = Tensor({Tt, c.H, c.K});
    out.intermediates.k_hat = Tensor({Tt, c.H, c.K});
    out.intermediates.u = Tensor({Tt, c.HV, c.V});
  }
  return out;
}

inline void record_token_intermediates(const Config& c, int64_t t, int64_t hv, double g, double beta,
                                       const double* q_hat, const double* k_hat, Intermediates& im) {
  im.g[t * c.HV + hv] = g;
  im.beta[t * c.HV + hv] = beta;
  if (hv % (c.HV / c.H) == 0) {  // the first value head of a group writes its key head
    const int64_t h = c.head_of(hv);
    std::copy(q_hat, q_hat + c.K, &im.q_hat[(t * c.H + h) * c.K]);
    std::copy(k_hat, k_hat + c.K, &im.k_hat[(t * c.H + h) * c.K]);
  }
}

// ||I - beta k k^T||_2 when it exceeds 1 (unnormalised keys), else 0.
template <class T>
double expansion(const TokenHead<T>& th) {
  const double rho = std::abs(1.0 - static_cast<double>(th.beta) * static_cast<double>(th.k_hat.squaredNorm()));
  return rho > 1.0 ? rho : 0.0;
}

template <class T, class Observer>
void run_head(const Config& c, const Inputs& in, const PrecisionSpec& p, const RunOptions& opt,
              const SequencePlan& plan, int64_t seq, int64_t hv, Outputs& out,
              std::vector<ExpansiveStep>& expansive, Observer& obs) {
  StateMatrix<T> S, prev;
  load_state(c, in.state.data.data(), plan.read_slot, hv, S);
  round_state_matrix(c, p, plan.begin, hv, S);  // the kernel reads the state in its storage type
  TokenHead<T> th;
  Vec<T> r(c.V), u(c.V), o(c.V);
  for (int64_t t = plan.begin; t < plan.end; ++t) {
    prepare_token(c, in, p, t, hv, th);
    if (const double rho = expansion(th); rho > 0.0) expansive.push_back({t, hv, rho});
    if constexpr (Observer::kWantsPrevState) prev = S;
    for (int64_t j = 0; j < c.V; ++j) {
      T* s = S.col(j).data();
      r[j] = th.v[j] - decay_and_dot(s, th.decay, th.k_hat.data(), c.K);
      u[j] = th.beta * r[j];
      o[j] = update_and_dot(s, u[j], th.k_hat.data(), th.q.data(), c.K);
    }
    round_state_matrix(c, p, t, hv, S);
    obs.step(StepView<T>{seq, t, hv, th, Observer::kWantsPrevState ? &prev : nullptr, S, r, u, o});

    double* o_dst = &out.o[(t * c.HV + hv) * c.V];
    for (int64_t j = 0; j < c.V; ++j) o_dst[j] = static_cast<double>(round_to(p.output, o[j]));
    if (opt.token_states) store_state(c, S, out.token_states.data.data(), t, hv);
    if (opt.intermediates) {
      const Vec<double> qh = th.q_hat.template cast<double>(), kh = th.k_hat.template cast<double>();
      record_token_intermediates(c, t, hv, static_cast<double>(th.g), static_cast<double>(th.beta), qh.data(),
                                 kh.data(), out.intermediates);
      for (int64_t j = 0; j < c.V; ++j) out.intermediates.u[(t * c.HV + hv) * c.V + j] = static_cast<double>(u[j]);
    }
    if (!plan.token_slots.empty() && plan.token_slots[t - plan.begin] >= 0)
      store_state(c, S, out.state.data.data(), plan.token_slots[t - plan.begin], hv);
  }
  if (plan.token_slots.empty()) store_state(c, S, out.state.data.data(), plan.read_slot, hv);
}

// Runs fn(plan, seq, hv, expansive_of_this_task) over every non-padded (sequence, value
// head) pair on all OpenMP threads, then gathers the expansive steps in (token, head) order.
template <class Fn>
std::vector<ExpansiveStep> for_each_head(const Config& c, const std::vector<SequencePlan>& plans, Fn&& fn) {
  const int64_t tasks = static_cast<int64_t>(plans.size()) * c.HV;
  std::vector<std::vector<ExpansiveStep>> found(static_cast<size_t>(tasks));
#pragma omp parallel for schedule(dynamic)
  for (int64_t task = 0; task < tasks; ++task) {
    const int64_t n = task / c.HV, hv = task % c.HV;
    if (!plans[static_cast<size_t>(n)].padded) fn(plans[static_cast<size_t>(n)], n, hv, found[static_cast<size_t>(task)]);
  }
  std::vector<ExpansiveStep> all;
  for (auto& f : found) all.insert(all.end(), f.begin(), f.end());
  std::sort(all.begin(), all.end(), [](const ExpansiveStep& x, const ExpansiveStep& y) {
    return x.token != y.token ? x.token < y.token : x.hv < y.hv;
  });
  return all;
}

}  // namespace detail

template <class T, class Observer = NoObserver>
Outputs simulate_as(const Config& c, const Inputs& in, const PrecisionSpec& p, const RunOptions& opt, Observer& obs) {
  validate(c, in);
  const std::vector<SequencePlan> plans = plan_sequences(c, in);
  Outputs out = detail::allocate_outputs(c, in, opt);
  out.expansive = detail::for_each_head(c, plans, [&](const SequencePlan& plan, int64_t n, int64_t hv,
                                                      std::vector<ExpansiveStep>& exp) {
    detail::run_head<T>(c, in, p, opt, plan, n, hv, out, exp, obs);
  });
  return out;
}

// The float64 oracle.
Outputs reference(const Config& config, const Inputs& inputs, const RunOptions& options = {});

// The simulator for a precision policy: arithmetic in spec.arith (float64 or float32).
Outputs simulate(const Config& config, const Inputs& inputs, const PrecisionSpec& spec, const RunOptions& options = {});

}  // namespace gdn
