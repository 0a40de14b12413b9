// gdn drift: how far lower-precision states drift from the float64 oracle over a long run,
// and where the error model's bounds sit. One sequence of T tokens, several precision
// policies simulated over the same inputs; per window of tokens, the RMS and maximum output
// error of each policy against the oracle and the median and maximum per-element bound of the
// error model for the bf16-state and fp32-state profiles. Writes CSV (experiments/drift/).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/commands.hpp"
#include "golden/atomic_file.hpp"
#include "golden/generate.hpp"
#include "reference/error_model.hpp"
#include "reference/recurrent.hpp"

namespace gdn::cli {
namespace {

struct DriftArgs {
  int64_t tokens = 20000;
  int64_t H = 2, HV = 4, K = 128, V = 128;
  std::string stress = "none";
  int64_t window = 200;
  uint64_t seed = 1;
  std::string output;
};

struct Series {
  std::string name;
  PrecisionSpec spec;
  Tensor o;
};

PrecisionSpec variant(Profile p, StateStorage state, bool beta_bf16, bool decay_bf16) {
  PrecisionSpec s = profile_spec(p);
  s.state = state;
  s.beta_bf16 = beta_bf16;
  s.decay_bf16 = decay_bf16;
  s.stochastic_seed = 0x5eed;
  return s;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

void run(const DriftArgs& a) {
  Config c;
  c.H = a.H;
  c.HV = a.HV;
  c.K = a.K;
  c.V = a.V;
  if (c.HV % c.H != 0) throw InputError("drift: --value-heads must be a multiple of --heads");
  GenerateOptions g;
  g.config = c;
  g.N = 1;
  g.T = a.tokens;
  g.input_dtype = Dtype::BF16;
  g.params_dtype = Dtype::F32;
  g.state_dtype = Dtype::BF16;  // on every profile's grid
  g.stress = parse_stress(a.stress);
  g.seed = a.seed;
  const Inputs in = generate_inputs(g);

  std::fprintf(stderr, "drift: T=%lld HV=%lld K=%lld V=%lld stress=%s: reference...\n",
               static_cast<long long>(a.tokens), static_cast<long long>(c.HV), static_cast<long long>(c.K),
               static_cast<long long>(c.V), a.stress.c_str());
  const Outputs ref = reference(c, in);
  std::vector<Series> series = {
      {"fp32", profile_spec(Profile::Fp32), {}},
      {"bf16-fp32state", profile_spec(Profile::Bf16Fp32State), {}},
      {"bf16-bf16state", profile_spec(Profile::Bf16Bf16State), {}},
      {"bf16-bf16state-stochastic", variant(Profile::Bf16Bf16State, StateStorage::BF16Stochastic, false, false), {}},
      {"bf16-bf16state-beta-decay-bf16", variant(Profile::Bf16Bf16State, StateStorage::BF16, true, true), {}},
  };
  for (Series& s : series) {
    std::fprintf(stderr, "drift: simulating %s...\n", s.name.c_str());
    s.o = simulate(c, in, s.spec).o;
  }
  struct BoundSeries {
    std::string name;
    Tensor bound;
  };
  std::vector<BoundSeries> bounds;
  for (Profile p : {Profile::Bf16Fp32State, Profile::Bf16Bf16State})
    for (BoundKind k : {BoundKind::WorstCase, BoundKind::Probabilistic}) {
      std::fprintf(stderr, "drift: error model %s %s...\n", to_string(p).c_str(), to_string(k).c_str());
      ErrorModelOptions eo;
      eo.precision = profile_spec(p);
      eo.kind = k;
      bounds.push_back({"bound-" + to_string(k) + "-" + to_string(p), error_bounds(c, in, eo).output});
    }

  const int64_t row = c.HV * c.V;
  std::string csv = "token_end,rms_ref";
  for (const Series& s : series) csv += ",rms_err_" + s.name + ",max_err_" + s.name;
  for (const BoundSeries& b : bounds) csv += ",median_" + b.name + ",max_" + b.name;
  csv += "\n";
  for (int64_t t0 = 0; t0 < a.tokens; t0 += a.window) {
    const int64_t t1 = std::min(a.tokens, t0 + a.window);
    const int64_t b = t0 * row, e = t1 * row;
    double ref2 = 0.0;
    for (int64_t i = b; i < e; ++i) ref2 += ref.o[i] * ref.o[i];
    char buf[64];
    std::snprintf(buf, sizeof buf, "%lld,%.6e", static_cast<long long>(t1), std::sqrt(ref2 / double(e - b)));
    csv += buf;
    for (const Series& s : series) {
      double err2 = 0.0, mx = 0.0;
      for (int64_t i = b; i < e; ++i) {
        const double d = std::abs(s.o[i] - ref.o[i]);
        err2 += d * d;
        mx = std::max(mx, d);
      }
      std::snprintf(buf, sizeof buf, ",%.6e,%.6e", std::sqrt(err2 / double(e - b)), mx);
      csv += buf;
    }
    for (const BoundSeries& bs : bounds) {
      std::vector<double> w(bs.bound.data.begin() + b, bs.bound.data.begin() + e);
      const double mx = *std::max_element(w.begin(), w.end());
      std::snprintf(buf, sizeof buf, ",%.6e,%.6e", median(std::move(w)), mx);
      csv += buf;
    }
    csv += "\n";
  }
  if (a.output.empty()) {
    std::fputs(csv.c_str(), stdout);
  } else {
    write_file_atomically(a.output, csv);
    std::fprintf(stderr, "drift: wrote %s\n", a.output.c_str());
  }
}

}  // namespace

void add_drift(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DriftArgs>();
  CLI::App* sub = app.add_subcommand("drift", "Long-run drift of lower-precision states against the float64 oracle (CSV)");
  sub->add_option("--tokens", args->tokens, "tokens T of the one sequence")->check(CLI::PositiveNumber);
  sub->add_option("--heads", args->H, "query/key heads H")->check(CLI::PositiveNumber);
  sub->add_option("--value-heads", args->HV, "value heads HV")->check(CLI::PositiveNumber);
  sub->add_option("--key-dim", args->K, "key head dim K")->check(CLI::PositiveNumber);
  sub->add_option("--value-dim", args->V, "value head dim V")->check(CLI::PositiveNumber);
  sub->add_option("--stress", args->stress, "input distribution")
      ->check(CLI::IsMember({"none", "slow-decay", "near-cancellation"}));
  sub->add_option("--window", args->window, "tokens per CSV row")->check(CLI::PositiveNumber);
  sub->add_option("--seed", args->seed, "random seed");
  sub->add_option("-o,--output", args->output, "CSV file (written atomically); stdout if absent");
  sub->callback([args, &exit_code] {
    run(*args);
    exit_code = 0;
  });
}

}  // namespace gdn::cli
