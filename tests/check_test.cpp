// The checker: an exact copy passes, one perturbed element fails and is named, every
// simulator profile passes its own profile, a bf16-state run fails the fp32-state profile,
// an fp64 candidate passes everything; layouts, shapes, padding, NaN/Inf and the peers'
// verdicts follow their rules.
#include <unistd.h>

#include <filesystem>

#include "golden/check.hpp"
#include "golden/presets.hpp"
#include "test_util.hpp"

using namespace gdn;
using namespace gdn::test;

namespace {

struct Shape4 {
  int64_t H = 2, HV = 4, K = 16, V = 8, N = 3, T = 8;
};

Trace small_trace(Layout layout, uint64_t seed, const TraceDtypes& dt = profile_dtypes(Profile::Bf16Fp32State),
                  const Shape4& s = {}, bool token_states = false, int64_t pad_rows = 0) {
  TraceRequest rq;
  GenerateOptions& g = rq.generate;
  g.config = small_config(s.H, s.HV, s.K, s.V, layout);
  g.N = s.N;
  g.T = s.T;
  g.input_dtype = dt.input;
  g.params_dtype = dt.params;
  g.state_dtype = dt.state;
  g.pad_rows = pad_rows;
  g.state_indices = pad_rows > 0;
  g.extra_slots = 2;
  g.seed = seed;
  rq.token_states = token_states;
  return build_trace(rq);
}

// The golden outputs themselves, as a float64 candidate.
Candidate copy_of(const Trace& tr) {
  return make_candidate(tr, tr.golden, profile_spec(Profile::Fp64), "copy", "");
}

Candidate simulated(const Trace& tr, Profile p, bool token_states = false) {
  RunOptions ro;
  ro.token_states = token_states;
  return make_candidate(tr, simulate(tr.config, tr.inputs, profile_spec(p), ro), profile_spec(p), "sim", to_string(p));
}

CheckReport run(const Trace& tr, const Candidate& c, Profile p, bool ignore_padded = false) {
  CheckOptions o;
  o.profile = p;
  o.ignore_padded_outputs = ignore_padded;
  return check(tr, c, o);
}

const TensorCheck& tensor(const CheckReport& r, const std::string& name) {
  for (const TensorCheck& t : r.tensors)
    if (t.name == name) return t;
  FAIL("no tensor " << name << " in the report");
  return r.tensors.front();
}

void print(const std::string& what, const CheckReport& r) {
  std::printf("%-58s", what.c_str());
  for (const TensorCheck& t : r.tensors)
    std::printf(" | %s max|d| %.2e max d/bound %.3g >bound %lld", t.name.c_str(), t.max_abs_err, t.max_err_over_bound,
                static_cast<long long>(t.above_bound));
  std::printf(" | %s\n", r.pass ? "PASS" : "FAIL");
}

}  // namespace

TEST_CASE("an exact copy of the golden outputs passes every profile with zero error", "[check]") {
  const Layout layout = GENERATE(Layout::KV, Layout::VK);
  const Trace tr = small_trace(layout, seed_for("exact copy", static_cast<uint64_t>(layout)), profile_dtypes(Profile::Bf16Fp32State),
                               {}, true);
  Candidate c = copy_of(tr);
  for (Profile p : all_profiles()) {
    const CheckReport r = run(tr, c, p);
    print("exact copy, " + to_string(layout) + ", " + to_string(p), r);
    CHECK(r.pass);
    REQUIRE(r.tensors.size() == 3);  // o, state, token_states
    for (const TensorCheck& t : r.tensors) {
      CHECK(t.max_abs_err == 0.0);
      CHECK(t.above_bound == 0);
      CHECK(t.first.index == -1);
      for (const PeerVerdict& pv : t.peers) CHECK(pv.pass);
    }
  }
}

TEST_CASE("one perturbed element fails and is named by sequence, token, head and element", "[check]") {
  const Layout layout = GENERATE(Layout::KV, Layout::VK);
  const int which = GENERATE(0, 1, 2);  // output, touched state, per-token state
  const uint64_t seed = seed_for("perturb", static_cast<uint64_t>(which * 2 + (layout == Layout::KV)));
  const Shape4 s;
  const Trace tr = small_trace(layout, seed, profile_dtypes(Profile::Bf16Fp32State), s, true);
  const Config& c = tr.config;
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  const int64_t n = pick(s.N), t = pick(s.T), hv = pick(c.HV), i = pick(c.K), j = pick(c.V);
  const int64_t flat_t = n * s.T + t;  // uniform lengths: sequence n starts at n T
  Candidate cand = copy_of(tr);
  CheckOptions opt;
  opt.profile = Profile::Bf16Fp32State;
  ErrorModelOptions eo;
  eo.precision = profile_spec(opt.profile);
  eo.token_states = true;
  const ErrorBounds b = error_bounds(c, tr.inputs, eo);
  // Forward maps from coordinates to flat indices (the checker implements the inverse).
  const int64_t in_head = layout == Layout::KV ? i * c.V + j : j * c.K + i;
  std::string name, where;
  int64_t index = 0;
  Tensor* target = nullptr;
  const Tensor* bound = nullptr;
  const std::string token_words = "sequence " + std::to_string(n) + ", token " + std::to_string(t) + " (flat token " +
                                  std::to_string(flat_t) + "), value head " + std::to_string(hv);
  const std::string kv_words = ", k " + std::to_string(i) + ", v " + std::to_string(j);
  if (which == 0) {
    name = "o";
    index = (flat_t * c.HV + hv) * c.V + j;
    target = &cand.o;
    bound = &b.output;
    where = token_words + ", v " + std::to_string(j);
  } else if (which == 1) {
    name = "state";
    const int64_t slot = n;  // no state_indices: slot n holds sequence n
    index = (slot * c.HV + hv) * c.K * c.V + in_head;
    target = &cand.state;
    bound = &b.state;
    where = "slot " + std::to_string(slot) + " (sequence " + std::to_string(n) + "), value head " + std::to_string(hv) + kv_words;
  } else {
    name = "token_states";
    index = (flat_t * c.HV + hv) * c.K * c.V + in_head;
    target = &cand.token_states;
    bound = &b.token_states;
    where = token_words + kv_words;
  }
  // Just beyond what the checker allows.
  const double allowed = opt.safety_factor * (*bound)[index];
  (*target)[index] += std::max(1.5 * allowed, 1e-9);
  INFO("layout " << to_string(layout) << " tensor " << name << " index " << index << " bound " << (*bound)[index]);
  const CheckReport r = check(tr, cand, opt);
  print("one element of " + name + " moved past its bound, " + to_string(layout), r);
  CHECK(!r.pass);
  for (const TensorCheck& tc : r.tensors) {
    if (tc.name != name) {
      CHECK(tc.pass);
      continue;
    }
    CHECK(!tc.pass);
    CHECK(tc.above_bound == 1);
    CHECK(tc.first.index == index);
    CHECK(tc.first.where == where);
    CHECK(tc.first.candidate == (*target)[index]);
  }
  const std::string table = format_table(r);
  CHECK(table.find(where) != std::string::npos);
  CHECK(table.find("verdict: FAIL") != std::string::npos);
  const std::string json = format_json(r);
  CHECK(json.find("\"pass\": false") != std::string::npos);
  CHECK(json.find("\"where\": \"" + where + "\"") != std::string::npos);
}

TEST_CASE("slots the call does not touch must come back bit for bit", "[check]") {
  const Trace tr = small_trace(Layout::VK, seed_for("untouched"), profile_dtypes(Profile::Bf16Fp32State), {}, false, 1);
  Candidate cand = copy_of(tr);
  // A slot no sequence uses (the pool has extra slots, and the padded row's): one ulp there fails.
  const int64_t P = tr.inputs.state.dim(0), per_slot = tr.inputs.state.size() / P;
  std::vector<char> used(static_cast<size_t>(P), 0);
  for (int64_t s : tr.inputs.state_indices.data)
    if (s >= 0) used[static_cast<size_t>(s)] = 1;
  const int64_t unused = std::find(used.begin(), used.end(), 0) - used.begin();
  REQUIRE(unused < P);
  const int64_t index = unused * per_slot + 7;
  cand.state[index] = std::nextafter(cand.state[index], 10.0);
  const CheckReport r = run(tr, cand, Profile::Bf16Bf16State, true);
  print("one ulp in an untouched slot", r);
  CHECK(!r.pass);
  CHECK(tensor(r, "state").first.index == index);
  CHECK(tensor(r, "state").first.bound == 0.0);
  CHECK(tensor(r, "state").first.where.find("not used by the call") != std::string::npos);
}

TEST_CASE("padded rows: outputs must be zero unless ignored; their slots stay untouched", "[check][padding]") {
  const Trace tr = small_trace(Layout::KV, seed_for("padding"), profile_dtypes(Profile::Bf16Fp32State), {}, false, 1);
  std::vector<int64_t> padded_tokens;
  for (const SequencePlan& p : plan_sequences(tr.config, tr.inputs))
    if (p.padded)
      for (int64_t t = p.begin; t < p.end; ++t) padded_tokens.push_back(t);
  REQUIRE(!padded_tokens.empty());
  Candidate cand = copy_of(tr);
  const int64_t row = tr.config.HV * tr.config.V;
  for (int64_t t : padded_tokens)
    for (int64_t e = 0; e < row; ++e) cand.o[t * row + e] = 12345.0;  // never written by the kernel
  const CheckReport strict = run(tr, cand, Profile::Bf16Fp32State);
  const CheckReport lenient = run(tr, cand, Profile::Bf16Fp32State, true);
  print("garbage in padded rows' outputs, strict", strict);
  print("garbage in padded rows' outputs, --ignore-padded-outputs", lenient);
  CHECK(!strict.pass);
  CHECK(tensor(strict, "o").above_bound == static_cast<int64_t>(padded_tokens.size()) * row);
  CHECK(lenient.pass);
  CHECK(tensor(lenient, "o").skipped == static_cast<int64_t>(padded_tokens.size()) * row);
}

TEST_CASE("each simulator profile passes its own profile", "[check][profiles]") {
  const Profile p = GENERATE(Profile::Fp64, Profile::Fp32, Profile::Bf16Fp32State, Profile::Bf16Bf16State);
  const Layout layout = GENERATE(Layout::KV, Layout::VK);
  Shape4 s;
  s.T = 48;
  const Trace tr = small_trace(layout, seed_for("own profile", static_cast<uint64_t>(p) * 2 + (layout == Layout::KV)),
                               profile_dtypes(p), s, true);
  const CheckReport r = run(tr, simulated(tr, p, true), p);
  print("simulator " + to_string(p) + " judged as " + to_string(p) + ", " + to_string(layout), r);
  CHECK(r.pass);
  for (const TensorCheck& t : r.tensors) {
    CHECK(t.nan + t.inf == 0);
    CHECK(t.compared > 0);
  }
}

TEST_CASE("a bf16-state simulation fails the fp32-state profile over a long run", "[check][profiles]") {
  Shape4 s;
  s.K = s.V = 16;
  s.N = 2;
  s.T = 256;
  const Trace tr = small_trace(Layout::VK, seed_for("bf16 state long"), profile_dtypes(Profile::Bf16Fp32State), s);
  const Candidate cand = simulated(tr, Profile::Bf16Bf16State);
  const CheckReport own = run(tr, cand, Profile::Bf16Bf16State);
  const CheckReport strict = run(tr, cand, Profile::Bf16Fp32State);
  print("bf16-state run judged as bf16-bf16state, T=256", own);
  print("bf16-state run judged as bf16-fp32state, T=256", strict);
  CHECK(own.pass);
  CHECK(!strict.pass);
  CHECK(!tensor(strict, "state").pass);
  CHECK(!strict.notes.empty());  // says the candidate claims another profile
}

TEST_CASE("an fp64 candidate passes every profile", "[check][profiles]") {
  Shape4 s;
  s.T = 32;
  const Trace tr = small_trace(Layout::KV, seed_for("fp64 everything"), profile_dtypes(Profile::Bf16Bf16State), s, true);
  const Candidate cand = simulated(tr, Profile::Fp64, true);
  for (Profile p : all_profiles()) {
    const CheckReport r = run(tr, cand, p);
    print("fp64 simulation judged as " + to_string(p), r);
    CHECK(r.pass);
  }
}

TEST_CASE("a candidate in the other layout is transposed: same verdict, same numbers", "[check][layout]") {
  const Layout layout = GENERATE(Layout::KV, Layout::VK);
  const Trace tr = small_trace(layout, seed_for("other layout", static_cast<uint64_t>(layout)),
                               profile_dtypes(Profile::Bf16Fp32State), {}, true);
  const Candidate same = simulated(tr, Profile::Bf16Fp32State, true);
  Candidate other = same;
  other.layout = layout == Layout::KV ? Layout::VK : Layout::KV;
  other.state = transpose_last2(same.state);
  other.token_states = transpose_last2(same.token_states);
  const CheckReport a = run(tr, same, Profile::Bf16Fp32State), b = run(tr, other, Profile::Bf16Fp32State);
  print("candidate in the trace's layout " + to_string(layout), a);
  print("candidate in the other layout", b);
  CHECK(a.pass == b.pass);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    CHECK(a.tensors[i].max_abs_err == b.tensors[i].max_abs_err);
    CHECK(a.tensors[i].max_err_over_bound == b.tensors[i].max_err_over_bound);
    CHECK(a.tensors[i].worst.index == b.tensors[i].worst.index);
  }
  // A pool that is neither layout's shape is refused.
  Candidate wrong = same;
  wrong.state.shape = {wrong.state.dim(0) * 2, wrong.state.dim(1) / 2, wrong.state.dim(2), wrong.state.dim(3)};
  CHECK_THROWS_WITH(run(tr, wrong, Profile::Bf16Fp32State), Catch::Contains("candidate state: shape"));
}

TEST_CASE("outputs are accepted as [Ttot, HV, V], [1, Ttot, HV, V] or [N, T, HV, V] and nothing else", "[check][shapes]") {
  const Trace tr = small_trace(Layout::VK, seed_for("shapes"));
  const Candidate base = copy_of(tr);
  const int64_t N = tr.inputs.num_sequences(), Tt = tr.inputs.num_tokens(), HV = tr.config.HV, V = tr.config.V;
  for (Shape shape : {Shape{Tt, HV, V}, Shape{1, Tt, HV, V}, Shape{N, Tt / N, HV, V}}) {
    Candidate c = base;
    c.o.shape = shape;
    CHECK(run(tr, c, Profile::Fp32).pass);
  }
  for (Shape shape : {Shape{Tt / N, N, HV, V}, Shape{Tt * HV * V}, Shape{Tt, V, HV}}) {
    Candidate c = base;
    c.o.shape = shape;
    CHECK_THROWS_WITH(run(tr, c, Profile::Fp32), Catch::Contains("candidate o: shape " + shape_str(shape)));
  }
}

TEST_CASE("NaN and Inf always fail, whatever the bound", "[check]") {
  const Trace tr = small_trace(Layout::KV, seed_for("nonfinite"));
  Candidate c = copy_of(tr);
  c.o[5] = std::nan("");
  c.state[9] = -std::numeric_limits<double>::infinity();
  CheckOptions o;
  o.profile = Profile::Bf16Bf16State;
  o.safety_factor = 1e300;
  const CheckReport r = check(tr, c, o);
  print("one NaN in o, one -Inf in the state, safety factor 1e300", r);
  CHECK(!r.pass);
  CHECK(tensor(r, "o").nan == 1);
  CHECK(tensor(r, "o").first.index == 5);
  CHECK(tensor(r, "state").inf == 1);
  CHECK(tensor(r, "state").first.index == 9);
  for (const PeerVerdict& p : tensor(r, "o").peers) CHECK(!p.pass);  // every peer refuses a NaN too
}

TEST_CASE("a candidate of another trace is refused", "[check]") {
  const Trace a = small_trace(Layout::KV, seed_for("digest a")), b = small_trace(Layout::KV, seed_for("digest b"));
  CHECK_THROWS_WITH(run(a, copy_of(b), Profile::Fp32), Catch::Contains("candidate answers another trace"));
  Candidate anonymous = copy_of(b);
  anonymous.trace_digest.clear();  // without a digest the shapes decide, and the values fail
  CHECK(!run(a, anonymous, Profile::Fp32).pass);
}

TEST_CASE("the peers' verdicts follow their rules and can differ from ours", "[check][peers]") {
  const Trace tr = small_trace(Layout::VK, seed_for("peers"), profile_dtypes(Profile::Fp32));
  // A uniform relative error of 1e-3: far beyond an fp32 kernel's rounding, yet within
  // FLA's RMS ratio 0.002 and FlashInfer's atol + rtol |ref|.
  Candidate c = copy_of(tr);
  for (double& x : c.o.data) x *= 1.0 + 1e-3;
  const CheckReport r = run(tr, c, Profile::Fp32);
  print("o scaled by 1 + 1e-3, judged as fp32", r);
  const TensorCheck& o = tensor(r, "o");
  CHECK(!o.pass);
  // Each peer's rule, evaluated here independently on the same elements.
  double sd = 0, sg = 0, maxd = 0;
  int64_t fi = 0, fib = 0;
  for (int64_t i = 0; i < c.o.size(); ++i) {
    const double g = tr.golden.o[i], d = std::abs(c.o[i] - g);
    sd += d * d;
    sg += g * g;
    maxd = std::max(maxd, d);
    fi += d > 0.016 + 5e-3 * std::abs(g);
    fib += d > 1e-2 + 1e-2 * std::abs(g);
  }
  const double n = static_cast<double>(c.o.size());
  const double ratio = std::sqrt(sd / n) / (std::sqrt(sg / n) + 1e-8);
  INFO("FLA ratio " << ratio << " max |d| " << maxd);
  REQUIRE(o.peers.size() == 4);
  CHECK(o.peers[0].value == Approx(ratio).epsilon(1e-12));
  CHECK(o.peers[0].pass == (maxd <= 1e-6 || ratio < 0.002));
  CHECK(o.peers[1].pass == (maxd <= 1e-6 || ratio < 0.005));
  CHECK(o.peers[2].violations == fi);
  CHECK(o.peers[3].violations == fib);
  CHECK(o.peers[0].pass);  // where the verdicts differ: FLA passes what the error model fails
  CHECK(o.peers[2].pass);
}

TEST_CASE("judging from files equals judging in memory", "[check][files]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("gdn_check_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const Trace tr = small_trace(Layout::KV, seed_for("files"), profile_dtypes(Profile::Bf16Bf16State), {}, true);
  const Candidate cand = simulated(tr, Profile::Bf16Bf16State, true);
  write_trace((dir / "t.h5").string(), tr);
  write_candidate((dir / "c.h5").string(), cand);
  const CheckReport mem = run(tr, cand, Profile::Bf16Bf16State);
  const CheckReport file = run(read_trace((dir / "t.h5").string()), read_candidate((dir / "c.h5").string()), Profile::Bf16Bf16State);
  fs::remove_all(dir);
  CHECK(format_json(mem) == format_json(file));
  CHECK(file.pass);
}

TEST_CASE("the stress cases: each simulator profile passes its own profile", "[check][stress]") {
  const Stress stress = GENERATE(Stress::SlowDecay, Stress::NearCancellation, Stress::LargeKeys);
  const Profile p = GENERATE(Profile::Fp32, Profile::Bf16Fp32State, Profile::Bf16Bf16State);
  TraceRequest rq;
  GenerateOptions& g = rq.generate;
  g.config = small_config(2, 4, 16, 16, Layout::VK);
  if (stress == Stress::LargeKeys) {
    g.config.qk_norm = QkNorm::None;  // unnormalised keys: expansive steps
    g.config.scale = 0.25;
  }
  g.N = 2;
  g.T = 64;
  const TraceDtypes dt = profile_dtypes(p);
  g.input_dtype = dt.input;
  g.params_dtype = dt.params;
  g.state_dtype = dt.state;
  g.stress = stress;
  g.seed = seed_for("stress", static_cast<uint64_t>(stress) * 4 + static_cast<uint64_t>(p));
  const Trace tr = build_trace(rq);
  const CheckReport r = run(tr, simulated(tr, p), p);
  print("stress " + to_string(stress) + ", " + to_string(p), r);
  CHECK(r.pass);
  if (stress == Stress::LargeKeys) CHECK(!r.notes.empty());  // the expansive steps are reported
}
