// gdn bench: decode throughput of the kernels, measured as ../shared/PERF.md prescribes:
// CUDA graphs of many launches over rotating input sets larger than the L2, the median of
// >= 10 replays with its spread, the device-to-device copy ceiling measured in the same
// process, and each variant checked against the float64 oracle before it is timed.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "params.hpp"

namespace gdn::gpu {

struct BenchOptions {
  std::vector<int> tp = {2, 4};  // Qwen3-Next tensor parallelism: TP=2 H=8 HV=16, TP=4 H=4 HV=8
  std::vector<int64_t> batches = {1, 8, 32, 64, 128, 256, 512, 1024};
  std::vector<std::string> layouts = {"KV", "VK"};
  std::vector<std::string> states = {"bf16", "fp32"};  // state dtype; inputs are bf16
  std::vector<int> bvs;                                // empty: every compiled tile
  int replays = 15;
  int64_t rotate_bytes = int64_t(256) << 20;  // input sets per graph cover at least this many state bytes
  int min_launches = 32;                      // launches per graph at least
  int64_t copy_bytes = int64_t(1) << 30;      // device-to-device copy for the ceiling
  std::string json_path;                      // also write JSON here
  std::string version;                        // build version, recorded in the JSON
  std::string revision;                       // git revision the numbers belong to
  uint64_t seed = 1;
  // Programmatic dependent launches that allow early state reads (params.hpp), for the
  // kernels and their floors; plain launches otherwise (as PERF.md's FLA figures were measured).
  bool programmatic = false;
  // With programmatic: when the kernels read the slots and the state. The launches allow
  // early reads (each input set has its own slots), and AsChosen leaves it to the kernel
  // (gdn::gpu::takes_early_reads: the family's choice reads after the wait where that is
  // faster); Early and Late make every variant read before, or after, the wait. The floors
  // keep their early reads, still a lower bound; the variant choice is that of programmatic
  // launches.
  enum class StateReads { AsChosen, Early, Late };
  StateReads state_reads = StateReads::AsChosen;
  // Slots: each input set's in random order (state_indices as a serving engine holds them),
  // or ascending (with slot_pool 1, sequence n in row n of its set: the contiguous state of a
  // kernel that takes no indices, FLA's in experiments/fla_peer). On an H100 the random order
  // costs the state round trip 2-3% at B = 1024 (experiments/slot_order).
  bool sequential_slots = false;
  // Pool rows per sequence of an input set: with F > 1 each set's B slots are B distinct rows
  // drawn at random from F * B, in ascending order (sequential_slots: a serving engine that
  // keeps its batch sorted by slot) or shuffled. F = 1: the slots are the set's B rows.
  int slot_pool = 1;
  // Time only the family's choice (the table's variant), not every compiled tile.
  bool chosen_only = false;
  // Which build of the gates' and norms' arithmetic the kernels run (params.hpp): Auto, as
  // in use, or one of the two for every batch (experiments/bv_tile v16 compares them).
  kernels::GateArithmetic arithmetic = kernels::GateArithmetic::Auto;
};

// Prints a table (one line per configuration and tile, the family's choice marked) and
// returns 0, or 1 when a variant failed its correctness check (it is then not timed).
int run_bench(const BenchOptions& options);

}  // namespace gdn::gpu
