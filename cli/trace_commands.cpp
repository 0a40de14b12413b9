// gdn golden, gdn simulate, gdn inspect, gdn check: golden traces and the checker.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli/commands.hpp"
#include "golden/check.hpp"
#include "golden/h5.hpp"
#include "golden/presets.hpp"
#include "reference/recurrent.hpp"

namespace gdn::cli {
namespace {

// The full command line of this process (provenance), from /proc where there is one.
std::string command_line() {
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::string out, arg;
  auto flush = [&] {
    const bool quote = arg.empty() || arg.find_first_of(" \t\"'\\$") != std::string::npos;
    out += (out.empty() ? "" : " ") + (quote ? "'" + arg + "'" : arg);
    arg.clear();
  };
  for (char ch : raw) {
    if (ch == '\0') flush();
    else arg += ch;
  }
  if (!arg.empty()) flush();
  return out;
}

void make_parent_dirs(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) throw InputError(path + ": cannot create directory " + parent.string() + " (" + ec.message() + ")");
  }
}

Compression parse_compression(const std::string& s) {
  if (s == "auto") return Compression::Auto;
  if (s == "always") return Compression::Always;
  if (s == "never") return Compression::Never;
  throw InputError("compression: unknown value '" + s + "' (expected auto, always or never)");
}

const char* kCompressionHelp =
    "deflate: auto (where the first chunk shrinks by a fifth: bf16 data, not random float mantissas), always, never";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// ---- gdn golden ---------------------------------------------------------------------------

struct GoldenArgs {
  std::string preset = "qwen3-next-tp4";
  int64_t H = 0, HV = 0, K = 0, V = 0;  // 0: the preset's
  int64_t batch = 1, tokens = 1;
  std::vector<int64_t> seq_lens;
  std::string layout = "VK";
  std::string profile = "bf16-fp32state";
  std::string input_dtype, params_dtype, state_dtype;  // "": the profile's
  std::string gate_form = "raw", qk_norm = "l2eps", pad_sentinel = "-1", stress = "none";
  double scale = 0.0, state_std = 0.5;
  int64_t pad_rows = 0, extra_slots = 0;
  bool state_indices = false, speculative = false, token_states = false, quiet = false;
  uint64_t seed = 0;
  std::string output, compression = "auto";
};

void run_golden(const GoldenArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  TraceRequest rq;
  GenerateOptions& g = rq.generate;
  Config& c = g.config;
  const Preset& p = find_preset(a.preset);
  c.H = a.H ? a.H : p.H;
  c.HV = a.HV ? a.HV : p.HV;
  c.K = a.K ? a.K : p.K;
  c.V = a.V ? a.V : p.V;
  rq.preset = (c.H == p.H && c.HV == p.HV && c.K == p.K && c.V == p.V) ? p.name : "custom";
  c.layout = parse_layout(a.layout);
  c.gate_form = parse_gate_form(a.gate_form);
  c.qk_norm = parse_qk_norm(a.qk_norm);
  c.pad_sentinel = a.pad_sentinel == "-1" || a.pad_sentinel == "minus-one" ? PadSentinel::MinusOne
                   : a.pad_sentinel == "0" || a.pad_sentinel == "<=0" || a.pad_sentinel == "nonpositive"
                       ? PadSentinel::NonPositive
                       : throw InputError("pad sentinel: unknown value '" + a.pad_sentinel + "' (expected -1 or 0, meaning <= 0)");
  c.scale = a.scale;
  const Profile prof = parse_profile(a.profile);
  const TraceDtypes dt = profile_dtypes(prof);
  rq.input_profile = to_string(prof);
  g.input_dtype = a.input_dtype.empty() ? dt.input : parse_dtype(a.input_dtype);
  g.params_dtype = a.params_dtype.empty() ? dt.params : parse_dtype(a.params_dtype);
  g.state_dtype = a.state_dtype.empty() ? dt.state : parse_dtype(a.state_dtype);
  if (!a.input_dtype.empty() || !a.params_dtype.empty() || !a.state_dtype.empty()) rq.input_profile.clear();
  g.N = a.batch;
  g.T = a.tokens;
  g.seq_lens = a.seq_lens;
  g.state_std = a.state_std;
  g.extra_slots = a.extra_slots;
  g.state_indices = a.state_indices;
  g.pad_rows = a.pad_rows;
  g.speculative = a.speculative;
  g.stress = parse_stress(a.stress);
  g.seed = a.seed;
  rq.token_states = a.token_states;
  rq.command_line = command_line();
  const Trace tr = build_trace(rq);
  const double t_build = seconds_since(t0);
  make_parent_dirs(a.output);
  TraceWriteOptions wo;
  wo.compression = parse_compression(a.compression);
  write_trace(a.output, tr, wo);
  const double t_all = seconds_since(t0);
  if (!a.quiet)
    std::printf("wrote %s: %s, N=%lld Ttot=%lld H=%lld HV=%lld K=%lld V=%lld, %s, inputs %s (seed %llu) in %.3f s "
                "(inputs + oracle %.3f s, HDF5 %.3f s)\n",
                a.output.c_str(), rq.preset.c_str(), static_cast<long long>(tr.inputs.num_sequences()),
                static_cast<long long>(tr.inputs.num_tokens()), static_cast<long long>(c.H), static_cast<long long>(c.HV),
                static_cast<long long>(c.K), static_cast<long long>(c.V), to_string(c.layout).c_str(),
                to_string(g.input_dtype).c_str(), static_cast<unsigned long long>(g.seed), t_all, t_build, t_all - t_build);
}

void add_golden(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<GoldenArgs>();
  CLI::App* sub = app.add_subcommand("golden", "Write a golden trace: inputs as a kernel receives them and float64 outputs (HDF5)");
  std::string preset_names;
  for (const Preset& p : presets()) preset_names += (preset_names.empty() ? "" : ", ") + p.name;
  sub->add_option("--preset", a->preset, "shapes: " + preset_names + " (the explicit shape options override it)")->capture_default_str();
  sub->add_option("--heads", a->H, "query/key heads H")->check(CLI::PositiveNumber);
  sub->add_option("--value-heads", a->HV, "value heads HV")->check(CLI::PositiveNumber);
  sub->add_option("--key-dim", a->K, "key head dim K")->check(CLI::PositiveNumber);
  sub->add_option("--value-dim", a->V, "value head dim V")->check(CLI::PositiveNumber);
  sub->add_option("--batch,-N", a->batch, "sequences N")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--tokens,-T", a->tokens, "tokens per sequence T")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--seq-lens", a->seq_lens, "varlen: tokens of each sequence (replaces --batch and --tokens)")->delimiter(',');
  sub->add_option("--layout", a->layout, "state layout")->capture_default_str()->check(CLI::IsMember({"KV", "VK"}));
  sub->add_option("--profile", a->profile, "precision profile whose input dtypes the inputs are drawn on")->capture_default_str();
  sub->add_option("--input-dtype", a->input_dtype, "override: dtype of q, k, v, a, b, beta");
  sub->add_option("--params-dtype", a->params_dtype, "override: dtype of A_log, dt_bias, g");
  sub->add_option("--state-dtype", a->state_dtype, "override: dtype of the initial state pool");
  sub->add_option("--gate-form", a->gate_form, "raw (a, b, A_log, dt_bias) or precomputed (g, beta)")->capture_default_str()
      ->check(CLI::IsMember({"raw", "precomputed"}));
  sub->add_option("--qk-norm", a->qk_norm, "q/k normalisation: l2eps, fnormalize or none")->capture_default_str()
      ->check(CLI::IsMember({"l2eps", "fnormalize", "none"}));
  sub->add_option("--scale", a->scale, "query scale (0: K^-1/2)")->capture_default_str();
  sub->add_option("--pad-rows", a->pad_rows, "sequences marked as padding")->capture_default_str()->check(CLI::NonNegativeNumber);
  sub->add_option("--pad-sentinel", a->pad_sentinel, "pad sentinel: -1 (older vLLM, FLA) or 0 (any index <= 0 pads)")->capture_default_str();
  sub->add_flag("--state-indices", a->state_indices, "random distinct pool slots instead of slot n for sequence n");
  sub->add_option("--extra-slots", a->extra_slots, "pool slots beyond those the sequences use")->capture_default_str()->check(CLI::NonNegativeNumber);
  sub->add_flag("--speculative", a->speculative, "speculative decode: per-token slots [N, T] and num_accepted");
  sub->add_option("--stress", a->stress, "none, slow-decay, near-cancellation or large-keys")->capture_default_str();
  sub->add_option("--state-std", a->state_std, "standard deviation of the initial states")->capture_default_str();
  sub->add_flag("--token-states", a->token_states, "also record golden per-token states");
  sub->add_option("--seed", a->seed, "random seed")->capture_default_str();
  sub->add_flag("--quiet,-q", a->quiet, "print nothing on success");
  sub->add_option("--compression", a->compression, kCompressionHelp)->capture_default_str();
  sub->add_option("-o,--output", a->output, "trace file to write (.h5)")->required();
  sub->callback([a, &exit_code] {
    run_golden(*a);
    exit_code = 0;
  });
}

// ---- gdn simulate -------------------------------------------------------------------------

struct SimulateArgs {
  std::string trace, output, profile, kernel, compression = "auto";
  bool token_states = false, quiet = false;
};

void add_simulate(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<SimulateArgs>();
  CLI::App* sub = app.add_subcommand("simulate", "Write a candidate file computed by the precision simulator (no GPU needed)");
  sub->add_option("trace", a->trace, "golden trace (.h5)")->required();
  sub->add_option("--profile", a->profile, "precision profile to simulate")->required();
  sub->add_option("-o,--output", a->output, "candidate file to write (.h5)")->required();
  sub->add_option("--kernel-name", a->kernel, "name recorded as the kernel (default simulator:<profile>)");
  sub->add_flag("--token-states", a->token_states, "also write per-token states");
  sub->add_option("--compression", a->compression, kCompressionHelp)->capture_default_str();
  sub->add_flag("--quiet,-q", a->quiet, "print nothing on success");
  sub->callback([a, &exit_code] {
    const auto t0 = std::chrono::steady_clock::now();
    const Profile p = parse_profile(a->profile);
    TraceReadOptions ro;
    ro.golden = false;
    const Trace tr = read_trace(a->trace, ro);
    RunOptions run;
    run.token_states = a->token_states;
    const PrecisionSpec spec = profile_spec(p);
    const Outputs out = simulate(tr.config, tr.inputs, spec, run);
    Candidate cand = make_candidate(tr, out, spec, a->kernel.empty() ? "simulator:" + to_string(p) : a->kernel, to_string(p));
    cand.command_line = command_line();
    make_parent_dirs(a->output);
    TraceWriteOptions wo;
    wo.compression = parse_compression(a->compression);
    write_candidate(a->output, cand, wo);
    if (!a->quiet) std::printf("wrote %s: %s simulation of %s in %.3f s\n", a->output.c_str(), to_string(p).c_str(), a->trace.c_str(), seconds_since(t0));
    exit_code = 0;
  });
}

// ---- gdn inspect --------------------------------------------------------------------------

struct Norms {
  double max_abs = 0, sum2 = 0;
  int64_t nonfinite = 0, n = 0;
};

bool run_inspect(const std::string& path) {
  h5::Reader r(path);
  const h5::Object root = r.root();
  std::printf("%s\n", path.c_str());
  const std::string schema = h5::has_attr(root, "schema") ? h5::read_attr_string(root, "schema") : "";
  std::printf("  kind: %s\n", schema == kTraceSchema       ? "gdn golden trace"
                              : schema == kCandidateSchema ? "gdn candidate file"
                                                           : "not a gdn file (no schema attribute)");
  std::printf("attributes:\n");
  for (const auto& [name, value] : h5::list_attrs(root)) std::printf("  %-16s %s\n", name.c_str(), value.c_str());
  std::printf("datasets:\n");
  std::printf("  %-22s %-22s %-9s %-9s %-27s %-10s %11s %11s %11s\n", "name", "shape", "storage", "dtype", "filters", "checksum",
              "max|x|", "rms", "l2 norm");
  bool all_ok = true;
  for (const std::string& name : h5::list_datasets(root)) {
    std::string shape = "?", storage = "?", dtype = "", filters, status = "ok", a = "", b = "", c = "";
    try {
      const h5::DatasetInfo info = h5::dataset_info(root, name);
      shape = shape_str(info.shape);
      storage = info.type_name();
      dtype = info.dtype_attr;
      filters = std::string(info.shuffle ? "shuffle+" : "") + (info.deflate ? "deflate+" : "") + (info.fletcher32 ? "fletcher32" : "");
      if (!info.fletcher32) filters += "none";
      Shape s;
      const std::vector<double> v = h5::read_numbers(root, name, s);
      Norms nm;
      for (double x : v) {
        if (!std::isfinite(x)) {
          ++nm.nonfinite;
          continue;
        }
        nm.max_abs = std::max(nm.max_abs, std::abs(x));
        nm.sum2 += x * x;
        ++nm.n;
      }
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.4g", nm.max_abs);
      a = buf;
      std::snprintf(buf, sizeof buf, "%.4g", nm.n ? std::sqrt(nm.sum2 / static_cast<double>(nm.n)) : 0.0);
      b = buf;
      std::snprintf(buf, sizeof buf, "%.4g", std::sqrt(nm.sum2));
      c = buf;
      if (!info.fletcher32) status = "none";
      if (nm.nonfinite) status += " (" + std::to_string(nm.nonfinite) + " non-finite)";
    } catch (const InputError& e) {
      all_ok = false;
      const std::string msg = e.what();
      status = msg.find("checksum mismatch") != std::string::npos ? "MISMATCH" : "ERROR";
      std::printf("  %-22s %s\n", name.c_str(), msg.c_str());
      continue;
    }
    std::printf("  %-22s %-22s %-9s %-9s %-27s %-10s %11s %11s %11s\n", name.c_str(), shape.c_str(), storage.c_str(),
                dtype.c_str(), filters.c_str(), status.c_str(), a.c_str(), b.c_str(), c.c_str());
  }
  // A full read also checks shapes against the config and every value against its dtype.
  if (all_ok && (schema == kTraceSchema || schema == kCandidateSchema)) {
    try {
      if (schema == kTraceSchema) {
        const Trace tr = read_trace(path);
        std::printf("trace: valid (shapes match the config, every input on its dtype's grid, inputs digest %s)\n",
                    tr.provenance.inputs_digest.c_str());
      } else {
        read_candidate(path);
        std::printf("candidate: valid\n");
      }
    } catch (const InputError& e) {
      std::printf("INVALID: %s\n", e.what());
      all_ok = false;
    }
  }
  return all_ok;
}

void add_inspect(CLI::App& app, int& exit_code) {
  auto path = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("inspect", "Show a trace or candidate file: config, datasets, checksums, norms");
  sub->add_option("file", *path, "HDF5 file")->required();
  sub->callback([path, &exit_code] { exit_code = run_inspect(*path) ? 0 : 2; });
}

// ---- gdn check ----------------------------------------------------------------------------

struct CheckArgs {
  std::string golden, candidate, profile, kind, report;
  double safety = kSafetyFactor;
  bool json = false, ignore_padded = false, timing = false;
};

void add_check(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<CheckArgs>();
  CLI::App* sub = app.add_subcommand(
      "check", "Judge a candidate against a golden trace with the error model's bound (exit 0 pass, 1 fail, 2 error)");
  sub->add_option("golden", a->golden, "golden trace (.h5)")->required();
  sub->add_option("candidate", a->candidate, "candidate file (.h5)")->required();
  sub->add_option("--profile", a->profile, "precision profile to judge against (default: the one the candidate claims)");
  sub->add_option("--bound", a->kind, "worst-case or probabilistic (default " + to_string(kDefaultBoundKind) + ")");
  sub->add_option("--safety-factor", a->safety, "element fails if |d| > factor x bound")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_flag("--ignore-padded-outputs", a->ignore_padded, "do not compare padded rows' outputs (kernels that leave them unwritten)");
  sub->add_flag("--json", a->json, "machine-readable output");
  sub->add_option("--report", a->report, "also write the report to this file");
  sub->add_flag("--timing", a->timing, "print the time taken to stderr");
  sub->callback([a, &exit_code] {
    const auto t0 = std::chrono::steady_clock::now();
    const Candidate cand = read_candidate(a->candidate);
    const std::string profile = !a->profile.empty() ? a->profile : cand.profile;
    if (profile.empty())
      throw InputError("check: the candidate claims no profile; give --profile (one of fp64, fp32, bf16-fp32state, bf16-bf16state)");
    CheckOptions opt;
    opt.profile = parse_profile(profile);
    opt.kind = a->kind.empty() ? kDefaultBoundKind : parse_bound_kind(a->kind);
    opt.safety_factor = a->safety;
    opt.ignore_padded_outputs = a->ignore_padded;
    const double t_cand = seconds_since(t0);
    const Trace tr = read_trace(a->golden);
    const double t_trace = seconds_since(t0);
    CheckReport rep;
    try {
      rep = check(tr, cand, opt);
    } catch (const InputError& e) {
      throw InputError(a->candidate + " against " + a->golden + ": " + e.what());
    }
    const double t_check = seconds_since(t0);
    rep.golden_path = a->golden;
    rep.candidate_path = a->candidate;
    const std::string text = a->json ? format_json(rep) : format_table(rep);
    std::fputs(text.c_str(), stdout);
    if (!a->report.empty()) {
      make_parent_dirs(a->report);
      std::ofstream f(a->report);
      f << text;
      if (!f) throw InputError(a->report + ": cannot write the report");
    }
    if (a->timing)
      std::fprintf(stderr, "gdn check: %.3f s (read candidate %.3f s, read golden %.3f s, error model + compare %.3f s)\n",
                   seconds_since(t0), t_cand, t_trace - t_cand, t_check - t_trace);
    exit_code = rep.pass ? 0 : 1;
  });
}

}  // namespace

void add_trace_commands(CLI::App& app, int& exit_code) {
  add_golden(app, exit_code);
  add_simulate(app, exit_code);
  add_inspect(app, exit_code);
  add_check(app, exit_code);
}

}  // namespace gdn::cli
