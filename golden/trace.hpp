// Golden traces and candidate files: the project's interface to kernels written anywhere.
// A trace is one HDF5 file holding one case: the config as attributes, the inputs exactly as
// a kernel receives them, and the float64 golden outputs. A candidate file holds what a
// kernel produced for a trace. The format is documented in golden/TRACE_FORMAT.md.
//
// In memory everything uses gdn::Inputs / gdn::Outputs' flat token axis [Ttot, ...]; on disk
// token tensors carry the kernel's leading dims: [N, T, ...] when all sequences have the
// same length, else [1, Ttot, ...] with cu_seqlens (FLA's varlen convention).
//
// Every failure (missing file, foreign HDF5 file, wrong schema, missing dataset, wrong shape,
// checksum mismatch, value off its declared dtype's grid) throws InputError with one line:
// "<path>: <dataset>: <what is wrong>".
#pragma once
#include <cstdint>
#include <string>

#include "golden/compression.hpp"
#include "reference/config.hpp"
#include "reference/precision.hpp"
#include "reference/problem.hpp"

namespace gdn {

constexpr int64_t kTraceSchemaVersion = 1;
constexpr int64_t kCandidateSchemaVersion = 1;
constexpr const char* kTraceSchema = "gdn-trace";
constexpr const char* kCandidateSchema = "gdn-candidate";

// The dtypes in which a kernel receives the inputs. Every stored value lies on its dtype's
// grid (the reader verifies it), so the oracle and the kernel see the same numbers.
struct TraceDtypes {
  Dtype input = Dtype::BF16;  // q, k, v, a, b, beta
  Dtype params = Dtype::F32;  // A_log, dt_bias, g
  Dtype state = Dtype::F32;   // the initial state pool
};

struct Provenance {
  int64_t schema_version = kTraceSchemaVersion;
  std::string generator;      // "gdn <git describe>" of the build that wrote the trace
  uint64_t seed = 0;
  std::string command_line;   // the full command that produced the trace
  std::string preset;         // "qwen3-next-tp4", ... or "custom"
  std::string stress = "none";
  std::string input_profile;  // profile whose input dtypes the inputs were drawn for ("" if custom)
  std::string inputs_digest;  // 16 hex digits over every input value; written by write_trace
};

struct Trace {
  Config config;
  Inputs inputs;     // flat [Ttot, ...] shapes
  TraceDtypes dtypes;
  Outputs golden;    // float64 reference: o, state (the pool after the call), token_states on request
  Provenance provenance;
};

struct TraceReadOptions {
  bool golden = true;        // read the golden outputs (a kernel runner needs only the inputs)
  bool token_states = true;  // read golden per-token states when present
};

struct TraceWriteOptions {
  Compression compression = Compression::Auto;
};

// Writes atomically: "<path>.tmp.<pid>" in the same directory, then rename(2).
void write_trace(const std::string& path, const Trace& trace, const TraceWriteOptions& options = {});
Trace read_trace(const std::string& path, const TraceReadOptions& options = {});

// A digest of the config's conventions and every input value and index: ties a candidate
// to the trace it answers.
std::string inputs_digest(const Trace& trace);

// What a kernel produced for a trace. Tensors hold double; on disk they are stored in the
// given dtype (bfloat16 and float16 as float32 with a dtype attribute, see TRACE_FORMAT.md).
struct Candidate {
  std::string kernel;        // name of the kernel (or "simulator:<profile>")
  std::string profile;       // the precision profile the kernel claims ("" if none)
  Layout layout = Layout::VK;  // of state and token_states; the checker transposes if needed
  std::string trace_digest;  // inputs_digest of the trace it answers ("" if unknown)
  std::string command_line;  // provenance
  Tensor o;                  // [Ttot, HV, V], [1, Ttot, HV, V] or [N, T, HV, V]
  Tensor state;              // [P, HV, K, V] (KV) or [P, HV, V, K] (VK): the pool after the call
  Tensor token_states;       // optional: o's leading dims, then [HV, K, V] or [HV, V, K]
  Dtype o_dtype = Dtype::F32;
  Dtype state_dtype = Dtype::F32;
  Dtype token_states_dtype = Dtype::F32;
};

// A candidate holding a simulator's (or any Outputs') results for `trace`, with o and
// token_states in the trace's on-disk shape and dtypes taken from `spec`.
Candidate make_candidate(const Trace& trace, const Outputs& outputs, const PrecisionSpec& spec,
                         const std::string& kernel, const std::string& profile);

// Writes atomically, as write_trace. Values must lie on their dtype's grid (InputError otherwise).
void write_candidate(const std::string& path, const Candidate& candidate, const TraceWriteOptions& options = {});
Candidate read_candidate(const std::string& path);

// The version string recorded as the generator ("gdn <git describe>").
std::string generator_version();

}  // namespace gdn
