#include "golden/presets.hpp"

#include "reference/recurrent.hpp"

namespace gdn {

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = {
      {"qwen3-next-tp1", 16, 32, 128, 128, "Qwen3-Next-80B, tensor parallel 1"},
      {"qwen3-next-tp2", 8, 16, 128, 128, "Qwen3-Next-80B, tensor parallel 2"},
      {"qwen3-next-tp4", 4, 8, 128, 128, "Qwen3-Next-80B, tensor parallel 4"},
  };
  return all;
}

const Preset& find_preset(const std::string& name) {
  std::string names;
  for (const Preset& p : presets()) {
    if (p.name == name) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  throw InputError("preset: unknown value '" + name + "' (expected one of: " + names + ", or custom shapes)");
}

TraceDtypes profile_dtypes(Profile p) {
  const PrecisionSpec s = profile_spec(p);
  TraceDtypes d;
  d.input = s.input;
  d.params = s.params;
  switch (s.state) {
    case StateStorage::Arith: d.state = s.arith; break;
    case StateStorage::F32: d.state = Dtype::F32; break;
    case StateStorage::BF16:
    case StateStorage::BF16Stochastic: d.state = Dtype::BF16; break;
    case StateStorage::F16: d.state = Dtype::F16; break;
  }
  return d;
}

Trace build_trace(const TraceRequest& rq) {
  Trace tr;
  tr.config = rq.generate.config;
  tr.inputs = generate_inputs(rq.generate);
  tr.dtypes.input = rq.generate.input_dtype;
  tr.dtypes.params = rq.generate.params_dtype;
  tr.dtypes.state = rq.generate.state_dtype;
  RunOptions ro;
  ro.token_states = rq.token_states;
  tr.golden = reference(tr.config, tr.inputs, ro);
  Provenance& p = tr.provenance;
  p.generator = generator_version();
  p.seed = rq.generate.seed;
  p.command_line = rq.command_line;
  p.preset = rq.preset;
  p.stress = to_string(rq.generate.stress);
  p.input_profile = rq.input_profile;  // write_trace records the inputs digest
  return tr;
}

}  // namespace gdn
