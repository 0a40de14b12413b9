// The host API of this project's CUDA kernels, in terms of gdn::Config / Inputs / Outputs:
// the named variants, their precision profiles, and running one call on the device or on
// the CPU emulation of the device. Used by `gdn run`, `gdn bench` and the tests.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cuda/params.hpp"
#include "reference/config.hpp"
#include "reference/precision.hpp"
#include "reference/problem.hpp"

namespace gdn::gpu {

// One compiled instantiation. Its name is "<layout>-<profile>-bv<BV>", e.g.
// "vk-bf16-bf16state-bv32", with "-t<threads>" and "-o<min blocks>" appended for a launch
// shape other than the default (tuning candidates), "-sh" for a tile in shared memory,
// "-ks<n>" for a K split over clusters of n blocks, "-wv<n>" for KV warps split over the
// columns, "-v<V>" for a build that takes one value head dimension V only and "-sr" for the
// stochastic-rounding build of a tile; the family "<layout>-<profile>" picks a variant per
// call (choose_variant). Runs with KernelOptions::stochastic_rounding use the "-sr" twin of
// the variant.
struct Variant {
  std::string name;
  std::string family;
  Layout layout = Layout::VK;
  Dtype state = Dtype::BF16;  // the pool's storage type
  Dtype input = Dtype::BF16;  // q, k, v, a, b, beta and the output
  Profile profile = Profile::Bf16Bf16State;
  int bv = 32;
  int threads = 128;
  int min_blocks = 1;  // __launch_bounds__ occupancy hint
  int K = 128;
  bool stochastic = false;  // the bf16 stochastic-rounding build ("-sr"), used for --stochastic-rounding
  bool shared_tile = false;  // the tile in shared memory between passes ("-sh", cuda/state_tile.cuh)
  int split_k = 1;           // KV: the tile's K rows over a cluster of this many blocks ("-ks<n>", sm_90+)
  int warps_v = 1;           // KV: the block's warps split its columns into this many groups ("-wv<n>")
  int V = 0;                 // the one value head dimension the build takes ("-v<V>"); 0: any multiple of bv
  bool tuning = false;      // a launch shape other than its tile's default, or the "-sr" build
};

const std::vector<Variant>& variants();
std::vector<std::string> family_names();
// Whether the variant's tile takes the config's value head dimension: a multiple of its BV,
// and its compiled V where it has one.
bool takes_columns(const Variant& variant, const Config& config);

struct KernelOptions {
  bool stochastic_rounding = false;  // bf16 state only: stochastic instead of nearest-even
  uint64_t seed = 0;
  bool beta_bf16 = false;   // beta rounded to bf16 before use
  bool decay_bf16 = false;  // exp(g) rounded to bf16 before use
  bool packed_qkv = false;  // q|k|v in one [Ttot, 2 H K + HV V + packed_row_pad] buffer
  int64_t packed_row_pad = 0;
  // How run_device launches (the emulation computes the same bits either way):
  // launch_per_token: the serving decode loop, a call of T tokens per sequence (the same T
  // for all, no speculative slots) as T one-token launches chained in one stream on one pool
  // with no host synchronisation between them;
  bool launch_per_token = false;
  // programmatic_launch: programmatic dependent launches (sm_90+; kernels/params.hpp), which
  // may begin before the previous launch ends and wait for it before reading its results;
  bool programmatic_launch = false;
  // early_state_reads: with programmatic_launch, the slots and the state may be read before
  // that wait (the family's choice reads after it where that is faster: takes_early_reads);
  // refused with launch_per_token, where it would read a state not yet written.
  bool early_state_reads = false;
  // arithmetic: the build of the gates' and norms' arithmetic the device runs (params.hpp;
  // the same results, so the emulation ignores it); Auto: choose_arithmetic's.
  kernels::GateArithmetic arithmetic = kernels::GateArithmetic::Auto;
};

// The variant a family uses for N sequences of this config on a GPU with `sms`
// multiprocessors, launched plainly or as programmatic dependent launches (nullptr: the
// family has no compiled tile that divides V).
const Variant* choose_variant(const std::string& family, const Config& config, int64_t num_sequences, int sms,
                              bool programmatic_launch = false);
// The build of the variant's gate and norm arithmetic for such a call (params.hpp): the
// family's choice where the variant is the family's choice for it, BranchFree otherwise.
kernels::GateArithmetic choose_arithmetic(const Variant& variant, const Config& config, int64_t num_sequences, int sms,
                                          bool programmatic_launch = false);
// Whether a programmatic launch of the variant that allows early state reads
// (KernelOptions::early_state_reads) takes them: the family's choice reads after the wait
// where its table says that measured faster (runner.cpp); every other variant takes them.
bool takes_early_reads(const Variant& variant, const Config& config, int64_t num_sequences, int sms);
// A variant by name, or a family's variant for this call's shape and options (with
// stochastic_rounding, the family's "-sr" build where it has one; with programmatic_launch,
// the choice for programmatic launches). Throws InputError listing the names when there is
// no such kernel.
const Variant& find_variant(const std::string& name, const Config& config, int64_t num_sequences, int sms = 132,
                            const KernelOptions& options = {});

// What the variant computes under these options (the profile, plus the options).
PrecisionSpec precision_of(const Variant& variant, const KernelOptions& options);
// One line naming the profile and the options, e.g. "bf16-bf16state + stochastic rounding (seed 7)".
std::string describe_precision(const Variant& variant, const KernelOptions& options);

// Refuses, with InputError naming what is wrong, a call the variant cannot take: invalid
// inputs (gdn::validate), another layout or K, V not a multiple of BV, values not
// representable in the variant's dtypes, options the variant does not have.
void check_launchable(const Variant& variant, const Config& config, const Inputs& inputs, const KernelOptions& options);

// One call on the GPU: inputs converted to the variant's dtypes, the kernel launched, o and
// the pool read back (o and state only; no token states). Throws std::runtime_error when no
// usable GPU is present or a CUDA call fails.
Outputs run_device(const Variant& variant, const Config& config, const Inputs& inputs, const KernelOptions& options = {});
// The same call on the CPU emulation of the kernel (no GPU needed): bit for bit the device's result.
Outputs run_emulation(const Variant& variant, const Config& config, const Inputs& inputs,
                      const KernelOptions& options = {});

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;
  int sms = 0;
  int64_t l2_bytes = 0;
  int64_t memory_bytes = 0;
};
// The current GPU; throws std::runtime_error when there is none or it is older than sm_80.
DeviceInfo require_device();
// Whether that GPU can run the variant: a K split ("-ks") needs thread block clusters (sm_90+).
bool runs_on(const Variant& variant, const DeviceInfo& device);
bool device_available();

}  // namespace gdn::gpu
