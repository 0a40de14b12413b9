#include "error_model.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "recurrent.hpp"

namespace gdn {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// True where every value of dtype `small` is a value of dtype `big`.
bool holds(Dtype big, Dtype small) {
  return big == small || big == Dtype::F64 || (big == Dtype::F32 && small != Dtype::F64);
}

// Absolute error floor of one rounding to d: half the subnormal spacing, where a relative
// bound fails. Only float16 has one that matters (2^-25, next to values near 6e-5).
double absolute_roundoff(Dtype d) {
  switch (d) {
    case Dtype::F16: return 0x1p-25;
    case Dtype::BF16: return 0x1p-134;
    case Dtype::F32: return 0x1p-150;
    case Dtype::F64: return 0.0;
  }
  return 0.0;
}

// Largest finite value of d: past it the kernel overflows and no bound is promised.
double largest(Dtype d) {
  switch (d) {
    case Dtype::F64: return std::numeric_limits<double>::max();
    case Dtype::F32: return std::numeric_limits<float>::max();
    case Dtype::BF16: return 0x1.fep127;
    case Dtype::F16: return 65504.0;
  }
  return 0.0;
}

// The constants of one call: every rounding the policy performs, as a multiple of what it
// multiplies (error_model.md, "Local terms").
struct Constants {
  double u = 0;      // arithmetic unit roundoff
  double gamma = 0;  // one dot product of length K, relative to |x|^T |y|
  double nu_k = 0;   // relative error of each element of the normalised key
  double nu_q = 0;   // ... of the scaled normalised query
  double f = 0;      // kFunctionUlps * u
  double u_s = 0, s_abs = 0;  // state storage rounding per token: relative, absolute per element
  double u_o = 0, o_abs = 0;  // output rounding
  double state_max = 0, output_max = 0;  // ranges of the state and the output as computed
  double tiny = 0;     // smallest normal number of the arithmetic: below it exp underflows
  double exp_max = 0;  // largest x whose exp the arithmetic holds
  bool rss = false;

  Constants(const Config& c, const ErrorModelOptions& opt) {
    const PrecisionSpec& p = opt.precision;
    const double K = static_cast<double>(c.K);
    u = unit_roundoff(p.arith);
    tiny = p.arith == Dtype::F32 ? std::numeric_limits<float>::min() : std::numeric_limits<double>::min();
    exp_max = std::log(largest(p.arith));
    f = kFunctionUlps * u;
    rss = opt.kind == BoundKind::Probabilistic;
    const double gamma_wc = K * u / (1.0 - K * u);
    gamma = rss ? std::min(gamma_wc, kProbabilisticLambda * std::sqrt(K) * u) : gamma_wc;
    // k / sqrt(sum k^2 + eps): the sum of squares (gamma), + eps (u), sqrt halves both and adds
    // u, the division adds u.
    nu_k = c.qk_norm == QkNorm::None ? 0.0 : 0.5 * (gamma + u) + 2.0 * u;
    nu_q = nu_k + 2.0 * u;  // the scale rounded to the arithmetic type, and the product
    const Dtype sd = state_dtype(p);
    state_max = std::min(largest(p.arith), largest(sd));
    output_max = std::min(largest(p.arith), largest(p.output));
    if (!holds(sd, p.arith)) {
      u_s = state_storage_roundoff(p);
      s_abs = (p.state == StateStorage::BF16Stochastic ? 2.0 : 1.0) * absolute_roundoff(sd);
    }
    if (!holds(p.output, p.arith)) {
      u_o = unit_roundoff(p.output);
      o_abs = absolute_roundoff(p.output);
    }
  }

  // Accumulates an independent contribution: summed (worst case) or root-sum-square.
  double add(double a, double b) const { return rss ? std::hypot(a, b) : a + b; }
};

// The error of one initial state element as the kernel holds it: loaded into the arithmetic
// type and rounded to the storage type (0 when the pool is on that grid, as golden pools are).
double initial_error(const PrecisionSpec& p, double x) {
  const double a = p.arith == Dtype::F32 ? static_cast<double>(static_cast<float>(x)) : x;
  const Dtype sd = state_dtype(p);
  const double rne = round_to(sd, a);
  if (p.state == StateStorage::BF16Stochastic && rne != a)
    return std::abs(a - x) + state_storage_roundoff(p) * std::abs(a) + absolute_roundoff(sd);
  return std::abs(rne - x);
}

void require_on_grid(const Tensor& t, Dtype d, const char* name) {
  const int64_t i = first_off_grid(t, d);
  if (i < 0) return;
  std::ostringstream msg;
  msg.precision(17);
  msg << "error model: " << name << index_str(t.shape, i) << " = " << t[i] << " is not on the " << to_string(d)
      << " grid of the precision policy (the kernel would see another number than the oracle)";
  throw InputError(msg.str());
}

// Relative error of the computed log decay g in the raw form -exp(A_log) softplus(a + dt_bias)
// (error_model.md, "Local terms"); 0 for precomputed g, which the kernel reads as is.
double gate_relative_error(const Constants& k, double A_log, double a, double dt_bias) {
  const double x = a + dt_bias;  // rounded once: |dx| <= u |x|
  double softplus_err;
  if (x > kSoftplusThreshold) {
    softplus_err = k.u;
  } else if (std::log1p(std::exp(x)) < k.tiny) {
    softplus_err = 1.0;  // exp(x) underflows in the arithmetic: softplus may come out 0
  } else {
    const double y = std::exp(x), sp = std::log1p(y);
    const double w = y / ((1.0 + y) * sp);       // sensitivity of log1p(y) to y, relative, <= 1
    const double cond = std::abs(x) * w;         // |x| sigmoid(x) / softplus(x)
    softplus_err = k.f + w * k.f + 2.0 * cond * k.u;  // log1p, exp, argument rounding and exp2 scaling
  }
  return (k.f + std::abs(A_log) * k.u) + softplus_err + k.u;  // exp(A_log), softplus, the product
}

// a - b where a > b, else 0: also 0 when a reference that diverged makes both infinite.
double excess(double a, double b) { return a > b ? a - b : 0.0; }

// Observes the float64 reference and carries, for every (sequence, value head), the bound on
// each state column's error.
class BoundObserver {
 public:
  static constexpr bool kWantsPrevState = true;

  BoundObserver(const Config& c, const Inputs& in, const ErrorModelOptions& opt, const std::vector<SequencePlan>& plans,
                ErrorBounds& out)
      : c_(c), in_(in), opt_(opt), plans_(plans), k_(c, opt), out_(out),
        heads_(static_cast<size_t>(in.num_sequences() * c.HV)) {}

  template <class T>
  void step(const StepView<T>& view) {
    static_assert(std::is_same_v<T, double>, "the error model observes the float64 reference");
    const SequencePlan& plan = plans_[static_cast<size_t>(view.seq)];
    Head& head = heads_[static_cast<size_t>(view.seq * c_.HV + view.hv)];
    if (view.token == plan.begin) start(head, plan, view.seq, view.hv);

    const TokenHead<double>& th = view.in;
    const StateMatrix<double>& prev = *view.prev;
    const int64_t t = view.token, hv = view.hv;
    const double e = th.decay, beta = th.beta;
    const double knorm = th.k_hat.norm(), qnorm = th.q.norm();
    const double rho = std::max(1.0, std::abs(1.0 - beta * th.k_hat.squaredNorm()));
    const Vec<double> kabs = th.k_hat.cwiseAbs(), qabs = th.q.cwiseAbs();
    const double qk_abs = qabs.dot(kabs);  // |q~|^T |k|, the same for every column
    const double de = decay_error(t, hv, th), db = beta_error(t, hv, beta);

    // The slowest the computed state can decay: once e(1 + u)(1 + u_s) >= 1, e x rounds back to
    // x and a state that gets no update stays where it was while the reference decays.
    const double m = std::min(1.0, (e + de) * (1.0 + k_.u) * (1.0 + k_.u_s));

    HeadStats& st = head.stats;
    st.max_decay = std::max(st.max_decay, e);
    if (rho > 1.0) ++st.expansive_steps;
    for (int64_t j = 0; j < c_.V; ++j) {
      const auto s = prev.col(j), snew = view.next.col(j);
      const double ns = s.norm(), nn = snew.norm();
      double& B = head.B[static_cast<size_t>(j)];
      double& M = head.M[static_cast<size_t>(j)];
      const double M_prev = M;
      M = std::max(nn, m * M_prev);
      // |k|^T |s'| and |q~|^T |s_t| of the computed state: the reference's, plus what the
      // computed state may hold beyond it.
      const double a1 = e * (kabs.dot(s.cwiseAbs()) + knorm * excess(M_prev, ns));
      const double r = std::abs(view.r[static_cast<Eigen::Index>(j)]);
      // |q~|^T |s_t| for o = q~ . s_t; a kernel may also take o = e (q~ . s') + (q~ . k) u from
      // sums over the state before the update (cuda/step.hpp, output_from_sums), whose
      // magnitudes are e |q~|^T |s'| + |q~|^T |k| |u| (>= |q~|^T |s_t|, more where s' and u k
      // cancel): the larger of the two covers either order.
      const double a2_after = qabs.dot(snew.cwiseAbs()) + qnorm * excess(M, nn);
      const double a2_before = e * (qabs.dot(s.cwiseAbs()) + qnorm * excess(M_prev, ns)) + qk_abs * beta * r;
      const double a2 = std::max(a2_after, a2_before);
      // delta: decay and its rounding through the transition; beta; the dot product k.s' and
      // the key's normalisation (both through beta k); r = v - d, u = beta r, u k; s' + u k.
      const double delta = rho * (de + k_.u * e) * M_prev + knorm * (r * db + beta * (k_.nu_k + 3.0 * k_.u) * r) +
                           knorm * beta * (k_.gamma + k_.nu_k) * a1 + k_.u * M;
      double pre = k_.add(rho * e * B, delta);
      const double storage = k_.u_s * M + std::sqrt(static_cast<double>(c_.K)) * k_.s_abs;
      B = k_.add(pre, storage);
      // Past the range of the computed values the kernel may overflow: no bound, for the state
      // and the output computed from it. The values are the state, the partial sums of k . s'
      // (<= a1) and u k (<= beta (|v| + a1) ||k||, larger than the state where s' and u k
      // cancel, as in expansive steps).
      const double u_max = beta * (std::abs(th.v[static_cast<Eigen::Index>(j)]) + a1) * knorm;
      if (!(std::max({M + B, a1 + r, u_max}) <= k_.state_max)) pre = B = kInf;

      const double o = std::abs(view.o[static_cast<Eigen::Index>(j)]);
      double po = qnorm * pre + (k_.nu_q + k_.gamma) * a2;
      if (k_.u_o > 0.0) po += k_.u_o * (o + po) + k_.o_abs;  // (0 * inf would be NaN)
      if (!(a2 + po <= k_.output_max)) po = kInf;  // |o| <= a2 bounds the partial sums of q . s too
      out_.output[(t * c_.HV + hv) * c_.V + j] = po;

      st.max_local = std::max(st.max_local, delta + storage);
      st.max_bound = std::max(st.max_bound, B);
      st.max_state_norm = std::max(st.max_state_norm, nn);
    }
    if (opt_.token_states) write_state(head, out_.token_states, t, hv);
    if (!plan.token_slots.empty()) {
      if (const int64_t slot = plan.token_slots[static_cast<size_t>(t - plan.begin)]; slot >= 0)
        write_state(head, out_.state, slot, hv);
    } else if (t == plan.end - 1) {
      write_state(head, out_.state, plan.read_slot, hv);
    }
  }

  // The statistics of every non-padded (sequence, head), in (seq, hv) order.
  std::vector<HeadStats> stats() const {
    std::vector<HeadStats> all;
    for (const Head& h : heads_)
      if (h.started) {
        HeadStats s = h.stats;
        const double gap = k_.rss ? std::sqrt(1.0 - s.max_decay * s.max_decay) : 1.0 - s.max_decay;
        s.plateau = gap > 0.0 ? s.max_local / gap : kInf;
        all.push_back(s);
      }
    return all;
  }

 private:
  struct Head {
    bool started = false;
    std::vector<double> B;  // [V]: bound on ||E_{t,j}||_2 after storage rounding
    std::vector<double> M;  // [V]: bound on the norm of the computed state column
    HeadStats stats;
  };

  // B_0: the rounding of the initial state into the storage type (0 for pools on its grid).
  void start(Head& head, const SequencePlan& plan, int64_t seq, int64_t hv) {
    head.started = true;
    head.stats.seq = seq;
    head.stats.hv = hv;
    head.B.assign(static_cast<size_t>(c_.V), 0.0);
    head.M.assign(static_cast<size_t>(c_.V), 0.0);
    for (int64_t j = 0; j < c_.V; ++j) {
      double sum = 0.0, norm0 = 0.0;
      for (int64_t i = 0; i < c_.K; ++i) {
        const double x = in_.state[state_offset(c_, plan.read_slot, hv, i, j)], err = initial_error(opt_.precision, x);
        sum += err * err;
        norm0 += x * x;
      }
      norm0 = std::sqrt(norm0);
      head.B[static_cast<size_t>(j)] = std::sqrt(sum);
      head.M[static_cast<size_t>(j)] = norm0 + head.B[static_cast<size_t>(j)];
    }
  }

  // |e_computed - e|: exp of a computed g, its own rounding, then the bf16 rounding if any.
  double decay_error(int64_t t, int64_t hv, const TokenHead<double>& th) const {
    const double g = std::abs(th.g), e = th.decay;
    double rel_g = 0.0;
    if (c_.gate_form == GateForm::Raw)
      rel_g = gate_relative_error(k_, in_.A_log[hv], in_.a[t * c_.HV + hv], in_.dt_bias[hv]);
    double de = e * (k_.f + g * k_.u + g * rel_g);
    if (e < k_.tiny) de += e;  // exp(g) may underflow to 0
    if (opt_.precision.decay_bf16) de += (e + de) * unit_roundoff(Dtype::BF16);
    return de;
  }

  // |beta_computed - beta|: sigmoid(b) = 1 / (1 + exp(-b)) (exp, the sum, the division), then
  // the bf16 rounding if any. A precomputed beta is read as is.
  double beta_error(int64_t t, int64_t hv, double beta) const {
    double db = 0.0;
    if (c_.gate_form == GateForm::Raw) {
      const double b = in_.b[t * c_.HV + hv];
      // exp(-b) overflows for -b past exp_max: beta comes out 0.
      db = -b > k_.exp_max ? beta : beta * ((1.0 - beta) * (k_.f + std::abs(b) * k_.u) + 2.0 * k_.u);
    }
    if (opt_.precision.beta_bf16) db += (beta + db) * unit_roundoff(Dtype::BF16);
    return db;
  }

  // Every element of column j of head hv in slot (or token) `slot` gets B_j.
  void write_state(const Head& head, Tensor& dst, int64_t slot, int64_t hv) const {
    for (int64_t j = 0; j < c_.V; ++j)
      for (int64_t i = 0; i < c_.K; ++i) dst[state_offset(c_, slot, hv, i, j)] = head.B[static_cast<size_t>(j)];
  }

  const Config& c_;
  const Inputs& in_;
  const ErrorModelOptions& opt_;
  const std::vector<SequencePlan>& plans_;
  const Constants k_;
  ErrorBounds& out_;
  std::vector<Head> heads_;  // [N * HV]; each touched by one thread only
};

}  // namespace

ErrorBounds error_bounds(const Config& c, const Inputs& in, const ErrorModelOptions& opt) {
  const PrecisionSpec& p = opt.precision;
  if (p.arith != Dtype::F64 && p.arith != Dtype::F32)
    throw InputError("error model: arithmetic must be float64 or float32, not " + to_string(p.arith));
  validate(c, in);
  require_on_grid(in.q, p.input, "q");
  require_on_grid(in.k, p.input, "k");
  require_on_grid(in.v, p.input, "v");
  if (c.gate_form == GateForm::Raw) {
    require_on_grid(in.a, p.input, "a");
    require_on_grid(in.b, p.input, "b");
    require_on_grid(in.A_log, p.params, "A_log");
    require_on_grid(in.dt_bias, p.params, "dt_bias");
  } else {
    require_on_grid(in.g, p.params, "g");
    require_on_grid(in.beta, p.input, "beta");
  }

  const std::vector<SequencePlan> plans = plan_sequences(c, in);
  ErrorBounds out;
  out.output = Tensor({in.num_tokens(), c.HV, c.V});
  out.state = Tensor(in.state.shape);
  if (opt.token_states) out.token_states = Tensor(state_shape(c, in.num_tokens()));
  BoundObserver observer(c, in, opt, plans, out);
  out.expansive = simulate_as<double>(c, in, profile_spec(Profile::Fp64), RunOptions{}, observer).expansive;
  out.heads = observer.stats();
  return out;
}

std::string to_string(BoundKind k) { return k == BoundKind::WorstCase ? "worst-case" : "probabilistic"; }

BoundKind parse_bound_kind(const std::string& s) {
  for (BoundKind k : {BoundKind::WorstCase, BoundKind::Probabilistic})
    if (to_string(k) == s) return k;
  throw InputError("bound kind: unknown value '" + s + "' (expected worst-case or probabilistic)");
}

}  // namespace gdn
