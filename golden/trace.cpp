#include "golden/trace.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "golden/h5.hpp"
#include "reference/rounding.hpp"
#include "reference/validate.hpp"
#include "gdn_version.hpp"  // GDN_VERSION (generated at build time)

namespace gdn {
namespace {

// The kernel's leading dims of token tensors: [N, T] when all sequences have one length,
// else [1, Ttot] with cu_seqlens (FLA's varlen convention).
struct TokenAxis {
  int64_t N = 0, T = 0, Ttot = 0;
  bool varlen = false;

  explicit TokenAxis(const IndexTensor& cu) {
    N = cu.size() - 1;
    Ttot = cu.data.empty() ? 0 : cu.data.back();
    T = N > 0 ? cu[1] - cu[0] : 0;
    for (int64_t n = 0; n < N; ++n) varlen |= cu[n + 1] - cu[n] != T;
    if (varlen) T = 0;
  }
  Shape lead() const { return varlen ? Shape{1, Ttot} : Shape{N, T}; }
  std::string lead_dims() const { return varlen ? "1,Ttot" : "N,T"; }
  Shape with(std::initializer_list<int64_t> rest) const {
    Shape s = lead();
    s.insert(s.end(), rest);
    return s;
  }
};

Shape flat_with(int64_t Ttot, std::initializer_list<int64_t> rest) {
  Shape s{Ttot};
  s.insert(s.end(), rest);
  return s;
}

std::string state_dims(Layout l, const char* lead) {
  return std::string(lead) + (l == Layout::KV ? ",HV,K,V" : ",HV,V,K");
}

// The narrowest of our dtypes that holds every value of both.
Dtype holding(Dtype a, Dtype b) {
  if (a == b) return a;
  if (a == Dtype::F64 || b == Dtype::F64) return Dtype::F64;
  return Dtype::F32;  // F32 holds BF16 and F16, and any mix of them
}

void require_on_grid(const std::string& path, const std::string& name, const Tensor& t, Dtype d) {
  const int64_t i = first_off_grid(t, d);
  if (i < 0) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", t[i]);
  throw InputError(path + ": " + name + index_str(t.shape, i) + " = " + buf + " is not a " + to_string(d) +
                   " value (the declared dtype); round the values or declare a wider dtype");
}

// Four independent SplitMix64 lanes over the words, combined at the end: a fast 64-bit
// digest (not cryptographic) that detects a trace/candidate mix-up.
class Digest {
 public:
  void add(uint64_t w) {
    lanes_[n_ & 3] = splitmix64(lanes_[n_ & 3] ^ w);
    ++n_;
  }
  void add(const std::string& s) {
    add(static_cast<uint64_t>(s.size()));
    for (unsigned char ch : s) add(static_cast<uint64_t>(ch));
  }
  void add(const Tensor& t) {
    add(static_cast<uint64_t>(t.shape.size()));
    for (int64_t d : t.shape) add(static_cast<uint64_t>(d));
    for (double x : t.data) {
      uint64_t u;
      std::memcpy(&u, &x, sizeof u);
      add(u);
    }
  }
  void add(const IndexTensor& t) {
    add(static_cast<uint64_t>(t.shape.size()));
    for (int64_t d : t.shape) add(static_cast<uint64_t>(d));
    for (int64_t x : t.data) add(static_cast<uint64_t>(x));
  }
  std::string hex() const {
    uint64_t h = n_;
    for (uint64_t l : lanes_) h = splitmix64(h ^ l);
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }

 private:
  uint64_t lanes_[4] = {1, 2, 3, 4};
  uint64_t n_ = 0;
};

// ---- reading helpers ----------------------------------------------------------------------

Tensor read_tensor(const h5::Object& g, const std::string& name, const Shape& disk, const Shape& flat,
                   const std::string& meaning, Dtype* declared) {
  h5::FloatData f = h5::read_floats(g, name);
  if (f.shape != disk)
    h5::fail({g.id, g.file, "dataset " + g.name + "/" + name},
             "shape " + shape_str(f.shape) + " does not match " + shape_str(disk) + " (" + meaning + " from the file's attributes)");
  if (declared) *declared = f.declared;
  Tensor t;
  t.shape = flat;
  t.data = std::move(f.data);
  return t;
}

IndexTensor read_index(const h5::Object& g, const std::string& name) {
  IndexTensor t;
  t.data = h5::read_ints(g, name, t.shape);
  return t;
}

void same_dtype(const std::string& path, const char* name, Dtype got, const char* ref, Dtype want, const char* group) {
  if (got != want)
    throw InputError(path + ": dataset inputs/" + name + ": declared dtype " + to_string(got) + " differs from " + ref +
                     "'s " + to_string(want) + " (" + group + " share one dtype)");
}

void check_schema(const h5::Object& root, const char* want, const char* other, int64_t version) {
  if (!h5::has_attr(root, "schema"))
    h5::fail(root, std::string("not a ") + (want == std::string(kTraceSchema) ? "gdn trace" : "gdn candidate file") +
                       " (no root attribute 'schema'; a foreign HDF5 file?)");
  const std::string schema = h5::read_attr_string(root, "schema");
  if (schema == other)
    h5::fail(root, std::string("is a ") + (schema == kTraceSchema ? "trace" : "candidate file") + " (schema '" + schema +
                       "'), expected a " + (want == std::string(kTraceSchema) ? "trace" : "candidate file"));
  if (schema != want) h5::fail(root, "schema '" + schema + "' is not '" + want + "'");
  const int64_t v = h5::read_attr_int(root, "schema_version");
  if (v != version)
    h5::fail(root, "schema version " + std::to_string(v) + " is not supported (this build of gdn reads version " +
                       std::to_string(version) + ")");
}

}  // namespace

std::string generator_version() { return std::string("gdn ") + GDN_VERSION; }

std::string inputs_digest(const Trace& tr) {
  const Config& c = tr.config;
  const Inputs& in = tr.inputs;
  Digest d;
  for (int64_t x : {c.H, c.HV, c.K, c.V}) d.add(static_cast<uint64_t>(x));
  d.add(to_string(c.layout));
  d.add(to_string(c.gate_form));
  d.add(to_string(c.qk_norm));
  d.add(to_string(c.pad_sentinel));
  uint64_t scale_bits;
  std::memcpy(&scale_bits, &c.scale, sizeof scale_bits);
  d.add(scale_bits);
  d.add(in.cu_seqlens);
  for (const Tensor* t : {&in.q, &in.k, &in.v, &in.a, &in.b, &in.A_log, &in.dt_bias, &in.g, &in.beta, &in.state}) d.add(*t);
  d.add(in.state_indices);
  d.add(in.num_accepted);
  return d.hex();
}

// ---- traces -------------------------------------------------------------------------------

void write_trace(const std::string& path, const Trace& tr, const TraceWriteOptions& wo) {
  const Compression cm = wo.compression;
  const Config& c = tr.config;
  const Inputs& in = tr.inputs;
  try {
    validate(c, in);
  } catch (const InputError& e) {
    throw InputError(path + ": refusing to write an invalid trace: " + e.what());
  }
  const TokenAxis ax(in.cu_seqlens);
  const Outputs& g = tr.golden;
  if (g.o.shape != Shape{ax.Ttot, c.HV, c.V})
    throw InputError(path + ": golden o has shape " + shape_str(g.o.shape) + ", expected " + shape_str({ax.Ttot, c.HV, c.V}));
  if (g.state.shape != in.state.shape)
    throw InputError(path + ": golden state has shape " + shape_str(g.state.shape) + ", expected the pool's " + shape_str(in.state.shape));
  const bool raw = c.gate_form == GateForm::Raw;
  const TraceDtypes& dt = tr.dtypes;
  for (auto [name, t] : {std::pair{"q", &in.q}, {"k", &in.k}, {"v", &in.v}, {"a", &in.a}, {"b", &in.b}, {"beta", &in.beta}})
    require_on_grid(path, name, *t, dt.input);
  for (auto [name, t] : {std::pair{"A_log", &in.A_log}, {"dt_bias", &in.dt_bias}, {"g", &in.g}}) require_on_grid(path, name, *t, dt.params);
  require_on_grid(path, "initial_state", in.state, dt.state);

  h5::Writer w(path);
  const h5::Object root = w.root();
  const Provenance& p = tr.provenance;
  h5::write_attr(root, "schema", kTraceSchema);
  h5::write_attr(root, "schema_version", kTraceSchemaVersion);
  h5::write_attr(root, "generator", p.generator.empty() ? generator_version() : p.generator);
  h5::write_attr(root, "seed", p.seed);
  h5::write_attr(root, "command_line", p.command_line);
  h5::write_attr(root, "preset", p.preset.empty() ? std::string("custom") : p.preset);
  h5::write_attr(root, "stress", p.stress);
  h5::write_attr(root, "input_profile", p.input_profile);
  h5::write_attr(root, "inputs_digest", inputs_digest(tr));
  // Config (SPEC.md): shapes, conventions, dtypes.
  h5::write_attr(root, "H", c.H);
  h5::write_attr(root, "HV", c.HV);
  h5::write_attr(root, "K", c.K);
  h5::write_attr(root, "V", c.V);
  h5::write_attr(root, "N", ax.N);
  h5::write_attr(root, "T", ax.T);
  h5::write_attr(root, "Ttot", ax.Ttot);
  h5::write_attr(root, "P", in.state.dim(0));
  h5::write_attr(root, "varlen", static_cast<int64_t>(ax.varlen));
  h5::write_attr(root, "speculative", static_cast<int64_t>(in.speculative()));
  h5::write_attr(root, "layout", to_string(c.layout));
  h5::write_attr(root, "gate_form", to_string(c.gate_form));
  h5::write_attr(root, "qk_norm", to_string(c.qk_norm));
  h5::write_attr(root, "scale", c.scale);
  h5::write_attr(root, "effective_scale", c.effective_scale());
  h5::write_attr(root, "pad_sentinel", to_string(c.pad_sentinel));
  h5::write_attr(root, "allow_nonfinite", static_cast<int64_t>(c.allow_nonfinite));
  h5::write_attr(root, "input_dtype", to_string(dt.input));
  h5::write_attr(root, "params_dtype", to_string(dt.params));
  h5::write_attr(root, "state_dtype", to_string(dt.state));
  h5::write_attr(root, "token_states", static_cast<int64_t>(g.token_states.present()));
  h5::write_attr(root, "expansive_steps", static_cast<int64_t>(g.expansive.size()));

  const std::string lead = ax.lead_dims();
  const h5::Object gi = w.group("inputs");
  h5::write_dataset(gi, "cu_seqlens", in.cu_seqlens.shape, in.cu_seqlens.data, "N+1", cm);
  h5::write_dataset(gi, "q", ax.with({c.H, c.K}), in.q.data, dt.input, lead + ",H,K", cm);
  h5::write_dataset(gi, "k", ax.with({c.H, c.K}), in.k.data, dt.input, lead + ",H,K", cm);
  h5::write_dataset(gi, "v", ax.with({c.HV, c.V}), in.v.data, dt.input, lead + ",HV,V", cm);
  if (raw) {
    h5::write_dataset(gi, "a", ax.with({c.HV}), in.a.data, dt.input, lead + ",HV", cm);
    h5::write_dataset(gi, "b", ax.with({c.HV}), in.b.data, dt.input, lead + ",HV", cm);
    h5::write_dataset(gi, "A_log", in.A_log.shape, in.A_log.data, dt.params, "HV", cm);
    h5::write_dataset(gi, "dt_bias", in.dt_bias.shape, in.dt_bias.data, dt.params, "HV", cm);
  } else {
    h5::write_dataset(gi, "g", ax.with({c.HV}), in.g.data, dt.params, lead + ",HV", cm);
    h5::write_dataset(gi, "beta", ax.with({c.HV}), in.beta.data, dt.input, lead + ",HV", cm);
  }
  h5::write_dataset(gi, "initial_state", in.state.shape, in.state.data, dt.state, state_dims(c.layout, "P"), cm);
  if (in.state_indices.present())
    h5::write_dataset(gi, "state_indices", in.state_indices.shape, in.state_indices.data, in.speculative() ? "N,Tmax" : "N", cm);
  if (in.num_accepted.present()) h5::write_dataset(gi, "num_accepted", in.num_accepted.shape, in.num_accepted.data, "N", cm);

  const h5::Object go = w.group("golden");
  h5::write_dataset(go, "o", ax.with({c.HV, c.V}), g.o.data, Dtype::F64, lead + ",HV,V", cm);
  h5::write_dataset(go, "final_state", g.state.shape, g.state.data, Dtype::F64, state_dims(c.layout, "P"), cm);
  if (g.token_states.present()) {
    const Shape s = c.layout == Layout::KV ? ax.with({c.HV, c.K, c.V}) : ax.with({c.HV, c.V, c.K});
    h5::write_dataset(go, "token_states", s, g.token_states.data, Dtype::F64, state_dims(c.layout, lead.c_str()), cm);
  }
  w.commit();
}

Trace read_trace(const std::string& path, const TraceReadOptions& opt) {
  h5::Reader r(path);
  const h5::Object root = r.root();
  check_schema(root, kTraceSchema, kCandidateSchema, kTraceSchemaVersion);
  Trace tr;
  Provenance& p = tr.provenance;
  p.schema_version = kTraceSchemaVersion;
  p.generator = h5::read_attr_string_or(root, "generator", "");
  p.seed = h5::has_attr(root, "seed") ? h5::read_attr_uint(root, "seed") : 0;
  p.command_line = h5::read_attr_string_or(root, "command_line", "");
  p.preset = h5::read_attr_string_or(root, "preset", "");
  p.stress = h5::read_attr_string_or(root, "stress", "none");
  p.input_profile = h5::read_attr_string_or(root, "input_profile", "");
  p.inputs_digest = h5::read_attr_string_or(root, "inputs_digest", "");

  Config& c = tr.config;
  c.H = h5::read_attr_int(root, "H");
  c.HV = h5::read_attr_int(root, "HV");
  c.K = h5::read_attr_int(root, "K");
  c.V = h5::read_attr_int(root, "V");
  auto parse = [&](const char* attr, auto parser) {
    const std::string s = h5::read_attr_string(root, attr);
    try {
      return parser(s);
    } catch (const InputError& e) {
      h5::fail(root, std::string("attribute '") + attr + "': " + e.what());
    }
  };
  c.layout = parse("layout", parse_layout);
  c.gate_form = parse("gate_form", parse_gate_form);
  c.qk_norm = parse("qk_norm", parse_qk_norm);
  c.pad_sentinel = parse("pad_sentinel", parse_pad_sentinel);
  c.scale = h5::read_attr_double(root, "scale");
  c.allow_nonfinite = h5::has_attr(root, "allow_nonfinite") && h5::read_attr_int(root, "allow_nonfinite") != 0;
  if (c.H <= 0 || c.HV <= 0 || c.K <= 0 || c.V <= 0 || c.HV % c.H != 0)
    h5::fail(root, "attributes H=" + std::to_string(c.H) + " HV=" + std::to_string(c.HV) + " K=" + std::to_string(c.K) +
                       " V=" + std::to_string(c.V) + " are not positive with HV % H == 0");

  Inputs& in = tr.inputs;
  const h5::Object gi = r.group("inputs");
  in.cu_seqlens = read_index(gi, "cu_seqlens");
  const int64_t N = h5::read_attr_int(root, "N");
  if (in.cu_seqlens.shape != Shape{N + 1})
    h5::fail({gi.id, path, "dataset inputs/cu_seqlens"},
             "shape " + shape_str(in.cu_seqlens.shape) + " does not match [N + 1] = [" + std::to_string(N + 1) + "]");
  if (N < 1) h5::fail(root, "attribute 'N' = " + std::to_string(N) + ", expected at least one sequence");
  try {
    for (int64_t i = 0; i < in.cu_seqlens.size(); ++i)
      if ((i == 0 && in.cu_seqlens[0] != 0) || (i > 0 && in.cu_seqlens[i] <= in.cu_seqlens[i - 1]))
        throw InputError("cu_seqlens" + index_str(in.cu_seqlens.shape, i) + " = " + std::to_string(in.cu_seqlens[i]) +
                         " (cu_seqlens must start at 0 and increase)");
  } catch (const InputError& e) {
    throw InputError(path + ": dataset inputs/" + e.what());
  }
  const TokenAxis ax(in.cu_seqlens);
  const bool raw = c.gate_form == GateForm::Raw;
  TraceDtypes& dt = tr.dtypes;
  Dtype d = Dtype::F64;
  in.q = read_tensor(gi, "q", ax.with({c.H, c.K}), flat_with(ax.Ttot, {c.H, c.K}), "[" + ax.lead_dims() + ", H, K]", &dt.input);
  in.k = read_tensor(gi, "k", ax.with({c.H, c.K}), flat_with(ax.Ttot, {c.H, c.K}), "[" + ax.lead_dims() + ", H, K]", &d);
  same_dtype(path, "k", d, "q", dt.input, "q, k, v, a, b and beta");
  in.v = read_tensor(gi, "v", ax.with({c.HV, c.V}), flat_with(ax.Ttot, {c.HV, c.V}), "[" + ax.lead_dims() + ", HV, V]", &d);
  same_dtype(path, "v", d, "q", dt.input, "q, k, v, a, b and beta");
  const std::string gate_meaning = "[" + ax.lead_dims() + ", HV]";
  if (raw) {
    in.a = read_tensor(gi, "a", ax.with({c.HV}), {ax.Ttot, c.HV}, gate_meaning, &d);
    same_dtype(path, "a", d, "q", dt.input, "q, k, v, a, b and beta");
    in.b = read_tensor(gi, "b", ax.with({c.HV}), {ax.Ttot, c.HV}, gate_meaning, &d);
    same_dtype(path, "b", d, "q", dt.input, "q, k, v, a, b and beta");
    in.A_log = read_tensor(gi, "A_log", {c.HV}, {c.HV}, "[HV]", &dt.params);
    in.dt_bias = read_tensor(gi, "dt_bias", {c.HV}, {c.HV}, "[HV]", &d);
    same_dtype(path, "dt_bias", d, "A_log", dt.params, "A_log, dt_bias and g");
  } else {
    in.g = read_tensor(gi, "g", ax.with({c.HV}), {ax.Ttot, c.HV}, gate_meaning, &dt.params);
    in.beta = read_tensor(gi, "beta", ax.with({c.HV}), {ax.Ttot, c.HV}, gate_meaning, &d);
    same_dtype(path, "beta", d, "q", dt.input, "q, k, v, a, b and beta");
  }
  const int64_t P = h5::read_attr_int(root, "P");
  const Shape pool = state_shape(c, P);
  const std::string pool_meaning = c.layout == Layout::KV ? "[P, HV, K, V] for the KV layout" : "[P, HV, V, K] for the VK layout";
  in.state = read_tensor(gi, "initial_state", pool, pool, pool_meaning, &dt.state);
  if (r.has("inputs/state_indices")) in.state_indices = read_index(gi, "state_indices");
  if (r.has("inputs/num_accepted")) in.num_accepted = read_index(gi, "num_accepted");
  try {
    validate(c, in);
  } catch (const InputError& e) {
    throw InputError(path + ": inputs: " + e.what());
  }

  if (opt.golden) {
    const h5::Object go = r.group("golden");
    tr.golden.o = read_tensor(go, "o", ax.with({c.HV, c.V}), flat_with(ax.Ttot, {c.HV, c.V}), "[" + ax.lead_dims() + ", HV, V]", nullptr);
    tr.golden.state = read_tensor(go, "final_state", pool, pool, pool_meaning, nullptr);
    if (opt.token_states && r.has("golden/token_states")) {
      const Shape disk = c.layout == Layout::KV ? ax.with({c.HV, c.K, c.V}) : ax.with({c.HV, c.V, c.K});
      const Shape flat = c.layout == Layout::KV ? flat_with(ax.Ttot, {c.HV, c.K, c.V}) : flat_with(ax.Ttot, {c.HV, c.V, c.K});
      tr.golden.token_states = read_tensor(go, "token_states", disk, flat, "[" + ax.lead_dims() + ", HV, ..] in the trace's layout", nullptr);
    }
  }
  return tr;
}

// ---- candidates ---------------------------------------------------------------------------

Candidate make_candidate(const Trace& tr, const Outputs& out, const PrecisionSpec& spec, const std::string& kernel,
                         const std::string& profile) {
  const Config& c = tr.config;
  const TokenAxis ax(tr.inputs.cu_seqlens);
  Candidate cand;
  cand.kernel = kernel;
  cand.profile = profile;
  cand.layout = c.layout;
  cand.trace_digest = tr.provenance.inputs_digest.empty() ? inputs_digest(tr) : tr.provenance.inputs_digest;
  cand.o = out.o;
  cand.o.shape = ax.with({c.HV, c.V});
  cand.state = out.state;
  if (out.token_states.present()) {
    cand.token_states = out.token_states;
    cand.token_states.shape = c.layout == Layout::KV ? ax.with({c.HV, c.K, c.V}) : ax.with({c.HV, c.V, c.K});
  }
  cand.o_dtype = spec.output;
  // Slots the call does not touch keep the trace's initial values, which may be wider than
  // the kernel's storage type (a bf16-state simulation of a trace with an fp32 pool).
  cand.state_dtype = holding(state_dtype(spec), tr.dtypes.state);
  cand.token_states_dtype = state_dtype(spec);
  return cand;
}

void write_candidate(const std::string& path, const Candidate& cand, const TraceWriteOptions& wo) {
  const Compression cm = wo.compression;
  if (!cand.o.present()) throw InputError(path + ": candidate has no o");
  if (!cand.state.present()) throw InputError(path + ": candidate has no state");
  require_on_grid(path, "o", cand.o, cand.o_dtype);
  require_on_grid(path, "state", cand.state, cand.state_dtype);
  if (cand.token_states.present()) require_on_grid(path, "token_states", cand.token_states, cand.token_states_dtype);
  h5::Writer w(path);
  const h5::Object root = w.root();
  h5::write_attr(root, "schema", kCandidateSchema);
  h5::write_attr(root, "schema_version", kCandidateSchemaVersion);
  h5::write_attr(root, "kernel", cand.kernel);
  h5::write_attr(root, "profile", cand.profile);
  h5::write_attr(root, "layout", to_string(cand.layout));
  h5::write_attr(root, "trace_digest", cand.trace_digest);
  h5::write_attr(root, "command_line", cand.command_line);
  h5::write_attr(root, "generator", generator_version());
  const char* sd = cand.layout == Layout::KV ? "P,HV,K,V" : "P,HV,V,K";
  h5::write_dataset(root, "o", cand.o.shape, cand.o.data, cand.o_dtype, "", cm);
  h5::write_dataset(root, "state", cand.state.shape, cand.state.data, cand.state_dtype, sd, cm);
  if (cand.token_states.present())
    h5::write_dataset(root, "token_states", cand.token_states.shape, cand.token_states.data, cand.token_states_dtype, "", cm);
  w.commit();
}

Candidate read_candidate(const std::string& path) {
  h5::Reader r(path);
  const h5::Object root = r.root();
  check_schema(root, kCandidateSchema, kTraceSchema, kCandidateSchemaVersion);
  Candidate cand;
  cand.kernel = h5::read_attr_string_or(root, "kernel", "");
  cand.profile = h5::read_attr_string_or(root, "profile", "");
  cand.trace_digest = h5::read_attr_string_or(root, "trace_digest", "");
  cand.command_line = h5::read_attr_string_or(root, "command_line", "");
  try {
    cand.layout = parse_layout(h5::read_attr_string(root, "layout"));
  } catch (const InputError& e) {
    throw InputError(path + ": attribute 'layout': " + e.what());
  }
  h5::FloatData o = h5::read_floats(root, "o");
  cand.o.shape = o.shape;
  cand.o.data = std::move(o.data);
  cand.o_dtype = o.declared;
  h5::FloatData s = h5::read_floats(root, "state");
  cand.state.shape = s.shape;
  cand.state.data = std::move(s.data);
  cand.state_dtype = s.declared;
  if (r.has("token_states")) {
    h5::FloatData t = h5::read_floats(root, "token_states");
    cand.token_states.shape = t.shape;
    cand.token_states.data = std::move(t.data);
    cand.token_states_dtype = t.declared;
  }
  return cand;
}

}  // namespace gdn
