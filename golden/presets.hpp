// Named shapes (Qwen3-Next at tensor-parallel degrees 1, 2, 4) and building a golden trace:
// draw the inputs (generate.hpp), run the float64 oracle, record the provenance.
#pragma once
#include <string>
#include <vector>

#include "golden/generate.hpp"
#include "golden/trace.hpp"

namespace gdn {

struct Preset {
  std::string name;
  int64_t H, HV, K, V;
  std::string description;
};

// qwen3-next-tp1 (H=16, HV=32), -tp2 (8, 16), -tp4 (4, 8); K = V = 128 (SPEC.md).
const std::vector<Preset>& presets();
const Preset& find_preset(const std::string& name);  // InputError naming the presets otherwise

// The dtypes in which a kernel of profile p receives its inputs and keeps its state pool.
TraceDtypes profile_dtypes(Profile p);

struct TraceRequest {
  GenerateOptions generate;   // config, shapes, stress, seed; input/params/state dtypes
  bool token_states = false;  // record golden per-token states
  std::string preset = "custom";
  std::string input_profile;  // the profile whose dtypes generate uses ("" when set by hand)
  std::string command_line;
};

Trace build_trace(const TraceRequest& request);

}  // namespace gdn
