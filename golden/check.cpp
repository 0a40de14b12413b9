#include "golden/check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "reference/plan.hpp"
#include "reference/validate.hpp"

namespace gdn {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}
std::string num(double x) {
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (std::isnan(x)) return "nan";
  return fmt("%.3e", x);
}

// A token tensor of the candidate in any accepted leading shape, as [Ttot, tail...].
Tensor token_flat(const char* name, const Tensor& t, int64_t N, int64_t Ttot, bool uniform, const Shape& tail,
                  const std::string& tail_names) {
  Shape flat{Ttot};
  flat.insert(flat.end(), tail.begin(), tail.end());
  auto with = [&](Shape lead) {
    lead.insert(lead.end(), tail.begin(), tail.end());
    return lead;
  };
  const bool ok = t.shape == flat || t.shape == with({1, Ttot}) || (uniform && t.shape == with({N, Ttot / N}));
  if (!ok)
    throw InputError(std::string("candidate ") + name + ": shape " + shape_str(t.shape) + " matches none of " +
                     shape_str(flat) + ", " + shape_str(with({1, Ttot})) +
                     (uniform ? ", " + shape_str(with({N, Ttot / N})) : std::string()) + " ([.., " + tail_names +
                     "] for this trace)");
  Tensor r = t;
  r.shape = flat;
  return r;
}

// Where an element lies, in the words of the problem.
class Locator {
 public:
  Locator(const Config& c, const Inputs& in) : c_(c), cu_(in.cu_seqlens) {
    const int64_t N = in.num_sequences();
    for (int64_t n = 0; n < N; ++n) {
      if (!in.state_indices.present()) {
        owner_[n] = "sequence " + std::to_string(n);
      } else if (!in.speculative()) {
        if (!c.is_pad(in.state_indices[n])) owner_[in.state_indices[n]] = "sequence " + std::to_string(n);
      } else {
        const int64_t Tmax = in.state_indices.dim(1);
        for (int64_t t = 0; t < Tmax; ++t) {
          const int64_t s = in.state_indices[n * Tmax + t];
          if (!c.is_pad(s)) owner_[s] = "sequence " + std::to_string(n) + ", token " + std::to_string(t);
        }
      }
    }
  }

  std::string token(int64_t t) const {
    const int64_t n = std::upper_bound(cu_.data.begin(), cu_.data.end(), t) - cu_.data.begin() - 1;
    return "sequence " + std::to_string(n) + ", token " + std::to_string(t - cu_[n]) + " (flat token " + std::to_string(t) + ")";
  }
  // [Ttot, HV, V]
  std::string output(int64_t i) const {
    const int64_t j = i % c_.V, hv = (i / c_.V) % c_.HV, t = i / (c_.V * c_.HV);
    return token(t) + ", value head " + std::to_string(hv) + ", v " + std::to_string(j);
  }
  // [.., HV, K, V] or [.., HV, V, K] in the golden layout: (outer index, hv, k, v)
  std::string state_tail(int64_t i, int64_t& outer) const {
    const int64_t inner = c_.K * c_.V;
    const int64_t hv = (i / inner) % c_.HV;
    outer = i / (inner * c_.HV);
    const int64_t e = i % inner;
    const int64_t k = c_.layout == Layout::KV ? e / c_.V : e % c_.K;
    const int64_t v = c_.layout == Layout::KV ? e % c_.V : e / c_.K;
    return "value head " + std::to_string(hv) + ", k " + std::to_string(k) + ", v " + std::to_string(v);
  }
  std::string pool(int64_t i) const {
    int64_t slot = 0;
    const std::string tail = state_tail(i, slot);
    auto it = owner_.find(slot);
    return "slot " + std::to_string(slot) + " (" + (it == owner_.end() ? "not used by the call" : it->second) + "), " + tail;
  }
  std::string token_state(int64_t i) const {
    int64_t t = 0;
    const std::string tail = state_tail(i, t);
    return token(t) + ", " + tail;
  }

 private:
  const Config& c_;
  const IndexTensor& cu_;
  std::map<int64_t, std::string> owner_;
};

struct Allclose {
  double atol, rtol;
  int64_t violations = 0;
  double worst = 0;
  void add(double c, double g) {
    if (!std::isfinite(c) || !std::isfinite(g)) {
      if (!(std::isinf(c) && c == g)) {
        ++violations;
        worst = kInf;
      }
      return;
    }
    const double tol = atol + rtol * std::abs(g);
    const double r = std::abs(c - g) / tol;
    worst = std::max(worst, r);
    violations += r > 1.0;
  }
};

template <class Where>
TensorCheck compare(const std::string& name, const Tensor& cand, const Tensor& gold, const Tensor& bound, double safety,
                    const std::vector<char>& skip, Where where) {
  TensorCheck tc;
  tc.name = name;
  Allclose fi{kFlashInferAtol, kFlashInferRtol}, fib{kFlashInferBenchAtol, kFlashInferBenchRtol};
  double sum_d2 = 0, sum_g2 = 0;
  int64_t finite = 0;
  bool any_nan = false;
  auto note = [&](ElementReport& e, int64_t i) {
    e.index = i;
    e.candidate = cand[i];
    e.golden = gold[i];
    e.bound = bound[i];
  };
  for (int64_t i = 0; i < gold.size(); ++i) {
    if (!skip.empty() && skip[static_cast<size_t>(i)]) {
      ++tc.skipped;
      continue;
    }
    ++tc.compared;
    const double c = cand[i], g = gold[i], b = bound[i];
    tc.max_bound = std::max(tc.max_bound, b);
    fi.add(c, g);
    fib.add(c, g);
    if (!std::isfinite(c)) {
      (std::isnan(c) ? tc.nan : tc.inf)++;
      any_nan |= std::isnan(c);
      ++tc.above_bound;
      if (tc.first.index < 0) note(tc.first, i);
      if (tc.max_err_over_bound < kInf) {
        tc.max_err_over_bound = kInf;
        note(tc.worst, i);
      }
      continue;
    }
    const double d = std::abs(c - g);
    ++finite;
    sum_d2 += d * d;
    sum_g2 += g * g;
    tc.max_abs_err = std::max(tc.max_abs_err, d);
    const double ratio = b > 0 ? d / b : (d > 0 ? kInf : 0.0);
    if (ratio > tc.max_err_over_bound) {
      tc.max_err_over_bound = ratio;
      note(tc.worst, i);
    }
    if (d > safety * b) {
      ++tc.above_bound;
      if (tc.first.index < 0) note(tc.first, i);
    }
  }
  if (tc.first.index >= 0) tc.first.where = where(tc.first.index);
  if (tc.worst.index >= 0) tc.worst.where = where(tc.worst.index);
  tc.pass = tc.above_bound == 0;
  const double rms_d = finite ? std::sqrt(sum_d2 / static_cast<double>(finite)) : 0.0;
  const double rms_g = finite ? std::sqrt(sum_g2 / static_cast<double>(finite)) : 0.0;
  tc.rms_rel = rms_g > 0 ? rms_d / rms_g : (rms_d > 0 ? kInf : 0.0);

  // FLA assert_close: max |d| <= err_atol passes outright; a NaN fails; else the RMS ratio.
  const bool nonfinite = tc.nan + tc.inf > 0;
  const double fla_ratio = nonfinite ? kInf : rms_d / (rms_g + kFlaRatioEps);
  for (auto [label, limit] : {std::pair{"FLA fused_recurrent", kFlaRecurrentRatio}, {"FLA chunk", kFlaChunkRatio}}) {
    PeerVerdict p;
    p.name = label;
    p.rule = "rms(d)/rms(ref) < " + fmt("%g", limit) + " unless max|d| <= 1e-6";
    p.value = fla_ratio;
    p.pass = !any_nan && !nonfinite && (tc.max_abs_err <= kFlaErrAtol || fla_ratio < limit);
    tc.peers.push_back(p);
  }
  for (auto [label, a] : {std::pair{"FlashInfer tests", &fi}, {"flashinfer-bench", &fib}}) {
    PeerVerdict p;
    p.name = label;
    p.rule = "|d| <= " + fmt("%g", a->atol) + " + " + fmt("%g", a->rtol) + " |ref|";
    p.value = a->worst;
    p.violations = a->violations;
    p.pass = a->violations == 0;
    tc.peers.push_back(p);
  }
  return tc;
}

std::string json_escape(const std::string& s) {
  std::string r;
  for (char ch : s) {
    switch (ch) {
      case '"': r += "\\\""; break;
      case '\\': r += "\\\\"; break;
      case '\n': r += "\\n"; break;
      case '\t': r += "\\t"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(ch)));
          r += buf;
        } else {
          r += ch;
        }
    }
  }
  return r;
}
std::string jstr(const std::string& s) { return "\"" + json_escape(s) + "\""; }
// JSON has no infinity: non-finite numbers are written as null.
std::string jnum(double x) { return std::isfinite(x) ? fmt("%.9g", x) : "null"; }
std::string jbool(bool b) { return b ? "true" : "false"; }

std::string element_json(const ElementReport& e) {
  if (e.index < 0) return "null";
  return "{\"index\": " + std::to_string(e.index) + ", \"where\": " + jstr(e.where) + ", \"candidate\": " +
         jnum(e.candidate) + ", \"golden\": " + jnum(e.golden) + ", \"bound\": " + jnum(e.bound) + "}";
}

}  // namespace

CheckReport check(const Trace& tr, const Candidate& cand, const CheckOptions& opt) {
  const Config& c = tr.config;
  const Inputs& in = tr.inputs;
  CheckReport rep;
  rep.kernel = cand.kernel;
  rep.claimed_profile = cand.profile;
  rep.profile = opt.profile;
  rep.kind = opt.kind;
  rep.safety_factor = opt.safety_factor;
  rep.config = c;
  rep.N = in.num_sequences();
  rep.Ttot = in.num_tokens();
  if (!tr.golden.o.present() || !tr.golden.state.present()) throw InputError("golden trace: read without its golden outputs");
  const std::string digest = tr.provenance.inputs_digest.empty() ? inputs_digest(tr) : tr.provenance.inputs_digest;
  if (!cand.trace_digest.empty() && cand.trace_digest != digest)
    throw InputError("candidate answers another trace (its trace_digest " + cand.trace_digest + " is not the golden's " +
                     digest + ")");
  if (!cand.profile.empty() && cand.profile != to_string(opt.profile))
    rep.notes.push_back("the candidate claims profile " + cand.profile + "; judged against " + to_string(opt.profile));

  // The candidate in the golden's shapes and layout.
  const int64_t N = rep.N, Tt = rep.Ttot;
  bool uniform = true;
  for (int64_t n = 0; n < N; ++n) uniform &= in.cu_seqlens[n + 1] - in.cu_seqlens[n] == in.cu_seqlens[1];
  const Tensor o = token_flat("o", cand.o, N, Tt, uniform, {c.HV, c.V}, "HV, V");
  Tensor state = cand.state;
  const bool transpose = cand.layout != c.layout;
  if (transpose) {
    if (state.shape.size() != 4)
      throw InputError("candidate state: shape " + shape_str(state.shape) + " is not a pool [P, HV, ., .]");
    state = transpose_last2(state);
    rep.notes.push_back("candidate states are in the " + to_string(cand.layout) + " layout; transposed to the golden's " +
                        to_string(c.layout));
  }
  if (state.shape != tr.golden.state.shape) {
    Shape declared = tr.golden.state.shape;
    if (transpose) std::swap(declared[2], declared[3]);
    throw InputError("candidate state: shape " + shape_str(cand.state.shape) + " does not match " + shape_str(declared) +
                     " (the pool in the candidate's declared " + to_string(cand.layout) + " layout)");
  }
  const bool golden_ts = tr.golden.token_states.present();
  const bool want_ts = golden_ts && cand.token_states.present();
  Tensor ts;
  if (want_ts) {
    const Shape tail = cand.layout == Layout::KV ? Shape{c.HV, c.K, c.V} : Shape{c.HV, c.V, c.K};
    ts = token_flat("token_states", cand.token_states, N, Tt, uniform, tail,
                    cand.layout == Layout::KV ? "HV, K, V" : "HV, V, K");
    if (transpose) ts = transpose_last2(ts);
  } else if (golden_ts) {
    rep.notes.push_back("the golden trace has per-token states, the candidate none: token_states not checked");
  } else if (cand.token_states.present()) {
    rep.notes.push_back("the candidate has per-token states, the golden trace none: token_states not checked");
  }

  ErrorModelOptions eo;
  eo.precision = profile_spec(opt.profile);
  eo.kind = opt.kind;
  eo.token_states = want_ts;
  ErrorBounds eb;
  try {
    eb = error_bounds(c, in, eo);
  } catch (const InputError& e) {
    throw InputError(std::string("error model: ") + e.what());
  }

  // Padded rows: their outputs are zero in the golden; their per-token states are undefined.
  std::vector<char> padded_rows(static_cast<size_t>(Tt), 0);
  for (const SequencePlan& p : plan_sequences(c, in))
    if (p.padded) std::fill(padded_rows.begin() + p.begin, padded_rows.begin() + p.end, 1);
  auto row_mask = [&](int64_t per_token) {
    std::vector<char> m(static_cast<size_t>(Tt * per_token), 0);
    for (int64_t t = 0; t < Tt; ++t)
      if (padded_rows[static_cast<size_t>(t)]) std::fill_n(m.begin() + t * per_token, per_token, 1);
    return m;
  };
  const bool any_padded = std::find(padded_rows.begin(), padded_rows.end(), 1) != padded_rows.end();

  const Locator loc(c, in);
  const double sf = opt.safety_factor;
  rep.tensors.push_back(compare("o", o, tr.golden.o, eb.output, sf,
                                opt.ignore_padded_outputs ? row_mask(c.HV * c.V) : std::vector<char>{},
                                [&](int64_t i) { return loc.output(i); }));
  if (opt.ignore_padded_outputs && any_padded) rep.notes.push_back("padded rows' outputs ignored (--ignore-padded-outputs)");
  rep.tensors.push_back(compare("state", state, tr.golden.state, eb.state, sf, {}, [&](int64_t i) { return loc.pool(i); }));
  if (want_ts) {
    rep.tensors.push_back(compare("token_states", ts, tr.golden.token_states, eb.token_states, sf,
                                  any_padded ? row_mask(c.HV * c.K * c.V) : std::vector<char>{},
                                  [&](int64_t i) { return loc.token_state(i); }));
    if (any_padded) rep.notes.push_back("padded rows' per-token states are undefined: not compared");
  }
  if (!eb.expansive.empty())
    rep.notes.push_back(std::to_string(eb.expansive.size()) +
                        " expansive steps (||I - beta k k^T|| > 1, unnormalised keys): errors may grow through them");
  rep.pass = std::all_of(rep.tensors.begin(), rep.tensors.end(), [](const TensorCheck& t) { return t.pass; });
  return rep;
}

std::string format_table(const CheckReport& r) {
  const Config& c = r.config;
  std::string s;
  s += "candidate " + r.candidate_path + " (kernel " + (r.kernel.empty() ? "?" : r.kernel) + ", claims " +
       (r.claimed_profile.empty() ? "no profile" : r.claimed_profile) + ")\n";
  s += "golden    " + r.golden_path + " (N=" + std::to_string(r.N) + " Ttot=" + std::to_string(r.Ttot) +
       " H=" + std::to_string(c.H) + " HV=" + std::to_string(c.HV) + " K=" + std::to_string(c.K) +
       " V=" + std::to_string(c.V) + ", " + to_string(c.layout) + ")\n";
  s += "bound     error model, profile " + to_string(r.profile) + ", " + to_string(r.kind) +
       ", element fails if |d| > " + fmt("%g", r.safety_factor) + " x bound (safety factor), or NaN/Inf\n\n";
  char line[512];
  std::snprintf(line, sizeof line, "%-13s %10s %11s %11s %12s %11s %9s %8s  %s\n", "tensor", "elements", "max|d|",
                "max bound", "max d/bound", "rms-rel", ">bound", "NaN/Inf", "verdict");
  s += line;
  for (const TensorCheck& t : r.tensors) {
    std::snprintf(line, sizeof line, "%-13s %10lld %11s %11s %12s %11s %9lld %8lld  %s\n", t.name.c_str(),
                  static_cast<long long>(t.compared), num(t.max_abs_err).c_str(), num(t.max_bound).c_str(),
                  num(t.max_err_over_bound).c_str(), num(t.rms_rel).c_str(), static_cast<long long>(t.above_bound),
                  static_cast<long long>(t.nan + t.inf), t.pass ? "PASS" : "FAIL");
    s += line;
  }
  s += "\nwhat the peers' tests would conclude on the same elements:\n";
  std::snprintf(line, sizeof line, "%-13s %-22s %-22s %-26s %-26s\n", "tensor", "FLA fused_rec <0.002", "FLA chunk <0.005",
                "FlashInfer 0.016+5e-3|r|", "fi-bench 1e-2+1e-2|r|");
  s += line;
  for (const TensorCheck& t : r.tensors) {
    std::string cols[4];
    for (size_t k = 0; k < 4 && k < t.peers.size(); ++k) {
      const PeerVerdict& p = t.peers[k];
      cols[k] = std::string(p.pass ? "PASS" : "FAIL") +
                (k < 2 ? " (ratio " + num(p.value) + ")" : " (" + std::to_string(p.violations) + " out)");
    }
    std::snprintf(line, sizeof line, "%-13s %-22s %-22s %-26s %-26s\n", t.name.c_str(), cols[0].c_str(), cols[1].c_str(),
                  cols[2].c_str(), cols[3].c_str());
    s += line;
  }
  for (const TensorCheck& t : r.tensors) {
    if (t.first.index >= 0)
      s += "\n" + t.name + ": first failing element: " + t.first.where + ": candidate " + fmt("%.9g", t.first.candidate) +
           ", golden " + fmt("%.9g", t.first.golden) + ", |d| " + num(std::abs(t.first.candidate - t.first.golden)) +
           ", bound " + num(t.first.bound) + " x " + fmt("%g", r.safety_factor);
    if (t.worst.index >= 0 && t.worst.index != t.first.index && t.max_err_over_bound > 0)
      s += "\n" + t.name + ": largest |d|/bound: " + t.worst.where + ": candidate " + fmt("%.9g", t.worst.candidate) +
           ", golden " + fmt("%.9g", t.worst.golden) + ", bound " + num(t.worst.bound);
  }
  if (!r.notes.empty()) {
    s += "\n\nnotes:";
    for (const std::string& n : r.notes) s += "\n  - " + n;
  }
  bool peers_all[4] = {true, true, true, true};
  for (const TensorCheck& t : r.tensors)
    for (size_t k = 0; k < 4 && k < t.peers.size(); ++k) peers_all[k] &= t.peers[k].pass;
  s += std::string("\n\nverdict: ") + (r.pass ? "PASS" : "FAIL") + "  (FLA fused_recurrent " +
       (peers_all[0] ? "PASS" : "FAIL") + ", FLA chunk " + (peers_all[1] ? "PASS" : "FAIL") + ", FlashInfer tests " +
       (peers_all[2] ? "PASS" : "FAIL") + ", flashinfer-bench " + (peers_all[3] ? "PASS" : "FAIL") + ")\n";
  return s;
}

std::string format_json(const CheckReport& r) {
  const Config& c = r.config;
  std::string s = "{";
  s += "\"golden\": " + jstr(r.golden_path) + ", \"candidate\": " + jstr(r.candidate_path);
  s += ", \"kernel\": " + jstr(r.kernel) + ", \"claimed_profile\": " + jstr(r.claimed_profile);
  s += ", \"profile\": " + jstr(to_string(r.profile)) + ", \"bound_kind\": " + jstr(to_string(r.kind));
  s += ", \"safety_factor\": " + jnum(r.safety_factor);
  s += ", \"config\": {\"N\": " + std::to_string(r.N) + ", \"Ttot\": " + std::to_string(r.Ttot) + ", \"H\": " +
       std::to_string(c.H) + ", \"HV\": " + std::to_string(c.HV) + ", \"K\": " + std::to_string(c.K) + ", \"V\": " +
       std::to_string(c.V) + ", \"layout\": " + jstr(to_string(c.layout)) + "}";
  s += ", \"pass\": " + jbool(r.pass) + ", \"tensors\": [";
  for (size_t i = 0; i < r.tensors.size(); ++i) {
    const TensorCheck& t = r.tensors[i];
    s += i ? ", " : "";
    s += "{\"name\": " + jstr(t.name) + ", \"pass\": " + jbool(t.pass) + ", \"compared\": " + std::to_string(t.compared) +
         ", \"skipped\": " + std::to_string(t.skipped) + ", \"max_abs_err\": " + jnum(t.max_abs_err) +
         ", \"max_bound\": " + jnum(t.max_bound) + ", \"max_err_over_bound\": " + jnum(t.max_err_over_bound) +
         ", \"rms_rel\": " + jnum(t.rms_rel) + ", \"above_bound\": " + std::to_string(t.above_bound) +
         ", \"nan\": " + std::to_string(t.nan) + ", \"inf\": " + std::to_string(t.inf) +
         ", \"first_failure\": " + element_json(t.first) + ", \"worst\": " + element_json(t.worst) + ", \"peers\": [";
    for (size_t k = 0; k < t.peers.size(); ++k) {
      const PeerVerdict& p = t.peers[k];
      s += (k ? ", " : "") + std::string("{\"name\": ") + jstr(p.name) + ", \"rule\": " + jstr(p.rule) +
           ", \"pass\": " + jbool(p.pass) + ", \"value\": " + jnum(p.value) + ", \"violations\": " +
           std::to_string(p.violations) + "}";
    }
    s += "]}";
  }
  s += "], \"notes\": [";
  for (size_t i = 0; i < r.notes.size(); ++i) s += (i ? ", " : "") + jstr(r.notes[i]);
  s += "]}\n";
  return s;
}

}  // namespace gdn
