// The CUDA kernels on a GPU: every compiled variant bit for bit equal to its CPU emulation
// (which emulation_test holds to the oracle), within the error model of its profile at
// Qwen3-Next shapes, the float64 kernel within 1e-13 of the reference, long runs and
// per-token storage, speculative decode. Exits 77 (skipped) without a GPU.
#include <cmath>

#include "cuda/api.hpp"
#include "gpu/kernel_cases.hpp"

using namespace gdn;
using namespace gdn::test;

namespace {

const gpu::Variant& by_name(const std::string& name) {
  for (const gpu::Variant& v : gpu::variants())
    if (v.name == name) return v;
  FAIL("no variant " << name);
  throw;
}

void require_device_equals_emulation(const gpu::Variant& v, const KernelCase& kc, const std::string& what) {
  const Outputs dev = gpu::run_device(v, kc.config, kc.inputs, kc.options);
  const Outputs emu = gpu::run_emulation(v, kc.config, kc.inputs, kc.options);
  const bool o_same = same_bits(dev.o, emu.o), s_same = same_bits(dev.state, emu.state);
  std::printf("%-50s device == emulation: o %s, state %s (max |d| o %.3g state %.3g)\n", what.c_str(),
              o_same ? "yes" : "NO", s_same ? "yes" : "NO", max_diff_nan_inf(dev.o, emu.o),
              max_diff_nan_inf(dev.state, emu.state));
  INFO(what);
  CHECK(o_same);
  CHECK(s_same);
}

// A K-split variant on a GPU without thread block clusters (older than sm_90): said, not run.
bool cannot_run_here(const gpu::Variant& v) {
  if (gpu::runs_on(v, gpu::require_device())) return false;
  WARN(v.name << ": skipped, needs thread block clusters (sm_90+)");
  return true;
}

}  // namespace

// Both arithmetic builds of every variant (cuda/numeric.hpp): the family tables pick one per
// band, so each is asked for by name here.
TEST_CASE("device equals the emulation bit for bit: every variant, every scenario, both arithmetic builds", "[gpu]") {
  const size_t count = gpu::variants().size();
  const size_t vi = GENERATE_COPY(range(size_t(0), count));
  const auto& all = gpu::variants();
  const Scenario sc = GENERATE(Scenario::Decode, Scenario::NullBlock, Scenario::Speculative, Scenario::Varlen,
                               Scenario::Packed);
  const kernels::GateArithmetic arithmetic =
      GENERATE(kernels::GateArithmetic::BranchFree, kernels::GateArithmetic::Intrinsic);
  const gpu::Variant& v = all[vi];
  if (cannot_run_here(v)) return;
  KernelCase kc = make_case(v, sc, seed_for("device-emulation " + v.name, static_cast<uint64_t>(sc)));
  kc.options.arithmetic = arithmetic;
  require_device_equals_emulation(v, kc, v.name + " " + name(sc) + " " + kernels::to_string(arithmetic));
}

TEST_CASE("sanitizer set: representative variants on small shapes", "[gpu][sanitize]") {
  // Covers: VK and KV, bf16 / fp32 / fp64 state, shared-memory reductions over 4 and 16
  // warps (KV BV 32, KV fp32 BV 128), one-warp blocks (BV 8), tiles in shared memory
  // (cp.async copies, read back by the thread that copied them; bf16 and fp32), every
  // scenario, the two arithmetic builds in turn; a K split over a cluster (distributed
  // shared memory, cluster barriers), in registers and in shared memory; KV warps split
  // over the columns (sums over K within each warp); a register cap that spills to local
  // memory (KV fp32 BV 128 -o2, 128 registers); a build for V = 128 alone, whose state offsets
  // are compile-time constants (the KV bf16 whole-state shared tile, -v128).
  for (const char* name : {"vk-bf16-bf16state-bv32", "kv-bf16-bf16state-bv32", "kv-bf16-fp32state-bv128",
                           "kv-bf16-fp32state-bv128-o2", "vk-bf16-fp32state-bv8", "kv-bf16-bf16state-bv8",
                           "kv-fp64-bv32", "vk-fp32-bv32",
                           "kv-bf16-bf16state-bv32-sr", "kv-bf16-bf16state-bv16", "vk-bf16-bf16state-bv16-sh",
                           "kv-bf16-bf16state-bv128-t128-sh", "kv-bf16-bf16state-bv128-t128-sh-v128",
                           "kv-bf16-fp32state-bv64-t64-o6-sh",
                           "kv-bf16-fp32state-bv64-ks2", "kv-bf16-bf16state-bv128-sh-ks2",
                           "kv-bf16-fp32state-bv64-wv4"}) {
    const gpu::Variant& v = by_name(name);
    if (cannot_run_here(v)) continue;
    for (Scenario sc : {Scenario::Decode, Scenario::NullBlock, Scenario::Speculative, Scenario::Varlen, Scenario::Packed}) {
      KernelCase kc = make_case(v, sc, seed_for("sanitize", static_cast<uint64_t>(sc)), 1, 2);
      kc.options.arithmetic =
          static_cast<int>(sc) % 2 ? kernels::GateArithmetic::Intrinsic : kernels::GateArithmetic::BranchFree;
      const Outputs dev = gpu::run_device(v, kc.config, kc.inputs, kc.options);
      const Outputs emu = gpu::run_emulation(v, kc.config, kc.inputs, kc.options);
      INFO(v.name << " " << gdn::test::name(sc));
      CHECK(same_bits(dev.o, emu.o));
      CHECK(same_bits(dev.state, emu.state));
    }
  }
}

TEST_CASE("device kernels at Qwen3-Next TP=4 stay within the error model of their profile", "[gpu]") {
  const size_t count = gpu::variants().size();
  const size_t vi = GENERATE_COPY(range(size_t(0), count));
  const auto& all = gpu::variants();
  const gpu::Variant& v = all[vi];
  if (cannot_run_here(v)) return;
  for (Scenario sc : {Scenario::Decode, Scenario::Speculative}) {
    // H = 4, HV = 8, K = V = 128: the whole head, every tile.
    const KernelCase kc = make_case(v, sc, seed_for("tp4 " + v.name, static_cast<uint64_t>(sc)), 4, 8, 128);
    const Outputs out = gpu::run_device(v, kc.config, kc.inputs, kc.options);
    require_within_error_model(kc.config, kc.inputs, gpu::precision_of(v, kc.options), out,
                               v.name + " TP4 " + name(sc));
  }
}

TEST_CASE("float64 kernel agrees with the reference within 1e-13, decode and a long run", "[gpu][fp64]") {
  for (const gpu::Variant& v : gpu::variants()) {
    if (v.profile != Profile::Fp64) continue;
    const KernelCase decode = make_case(v, Scenario::Decode, seed_for("fp64-decode"), 4, 8, 128);
    const KernelCase long_run = plain_case(v, 1, 2, 32, 1, 20000, seed_for("fp64-long"));
    for (const auto& [cfg, in, what] : {std::tuple<Config, Inputs, const char*>{decode.config, decode.inputs, "decode"},
                                        std::tuple<Config, Inputs, const char*>{long_run.config, long_run.inputs, "T=20000"}}) {
      const Outputs out = gpu::run_device(v, cfg, in);
      const Outputs ref = reference(cfg, in);
      const double eo = rel_diff(out.o, ref.o), es = rel_diff(out.state, ref.state);
      std::printf("%s %s: relative difference output %.3g state %.3g\n", v.name.c_str(), what, eo, es);
      INFO(v.name << " " << what);
      CHECK(eo < 1e-13);
      CHECK(es < 1e-13);
    }
  }
}

TEST_CASE("long run: T = 100000 on chip with bf16 stochastic rounding, beta and decay bf16", "[gpu][long]") {
  // The drift kernel's configuration: one sequence of 10^5 tokens per launch. The device must
  // equal the emulation bit for bit through every stochastic rounding, and the output stay
  // within the error model along the whole trajectory.
  for (const char* name : {"vk-bf16-bf16state-bv32", "kv-bf16-bf16state-bv32"}) {
    const gpu::Variant& v = by_name(name);
    KernelCase kc = plain_case(v, 1, 1, 32, 1, 100000, seed_for("long-run"));
    kc.options.stochastic_rounding = true;
    kc.options.seed = 2024;
    kc.options.beta_bf16 = true;
    kc.options.decay_bf16 = true;
    require_device_equals_emulation(v, kc, v.name + " T=100000 SR");
    const Outputs out = gpu::run_device(v, kc.config, kc.inputs, kc.options);
    require_within_error_model(kc.config, kc.inputs, gpu::precision_of(v, kc.options), out, v.name + " T=100000 SR");
  }
}

TEST_CASE("device: one call of T tokens equals T calls of one token", "[gpu]") {
  for (const char* name : {"vk-bf16-bf16state-bv16", "kv-bf16-bf16state-bv64", "vk-bf16-fp32state-bv32"}) {
    const gpu::Variant& v = by_name(name);
    const int64_t N = 3, T = 9;
    const KernelCase kc = plain_case(v, 2, 4, 64, N, T, seed_for("device-steps"));
    const StepwiseEquality eq = stepwise_equals_whole(kc.config, kc.inputs, N, T,
                                                      [&](const Inputs& x) { return gpu::run_device(v, kc.config, x); });
    std::printf("%s: %lld tokens in one call vs one call per token: o %s, state %s\n", v.name.c_str(),
                static_cast<long long>(T), eq.outputs ? "equal" : "DIFFERENT", eq.state ? "equal" : "DIFFERENT");
    INFO(v.name);
    CHECK(eq.outputs);
    CHECK(eq.state);
  }
}

TEST_CASE("device: chained one-token launches, plain and programmatic, equal one T-token launch", "[gpu][sanitize]") {
  // The serving loop: T launches back to back on one pool, no host synchronisation. A
  // programmatic launch starts before its predecessor ends and must wait for it before it
  // reads the state that predecessor writes: a missing wait reads a stale state here.
  // Early state reads are checked on one launch (they are refused for chained ones).
  for (const char* name : {"vk-bf16-bf16state-bv8", "vk-bf16-bf16state-bv16-sh", "kv-bf16-bf16state-bv32",
                           "kv-bf16-bf16state-bv128-t128-sh", "vk-bf16-fp32state-bv16", "kv-bf16-fp32state-bv8"}) {
    const gpu::Variant& v = by_name(name);
    const int64_t N = 48, T = 8;
    const KernelCase kc = plain_case(v, 4, 8, 128, N, T, seed_for("chained", N));
    const Outputs whole = gpu::run_device(v, kc.config, kc.inputs);
    for (const bool programmatic : {false, true}) {
      gpu::KernelOptions chained;
      chained.launch_per_token = true;
      chained.programmatic_launch = programmatic;
      const Outputs out = gpu::run_device(v, kc.config, kc.inputs, chained);
      const bool o_same = same_bits(out.o, whole.o), s_same = same_bits(out.state, whole.state);
      std::printf("%s: %lld chained %s launches vs one: o %s, state %s\n", v.name.c_str(), static_cast<long long>(T),
                  programmatic ? "programmatic" : "plain", o_same ? "equal" : "DIFFERENT", s_same ? "equal" : "DIFFERENT");
      INFO(v.name << (programmatic ? " programmatic" : " plain"));
      CHECK(o_same);
      CHECK(s_same);
    }
    gpu::KernelOptions early;
    early.programmatic_launch = early.early_state_reads = true;
    const Outputs out = gpu::run_device(v, kc.config, kc.inputs, early);
    INFO(v.name << " early state reads");
    CHECK(same_bits(out.o, whole.o));
    CHECK(same_bits(out.state, whole.state));
  }
}

TEST_CASE("every family, with the tile it picks for TP=2 decode, within the error model", "[gpu]") {
  for (const std::string& family : gpu::family_names()) {
    Config shape;
    shape.H = 8;
    shape.HV = 16;
    shape.K = 128;
    shape.V = 128;
    const gpu::Variant v = gpu::find_variant(family, shape, 64, gpu::require_device().sms);
    const KernelCase kc = make_case(v, Scenario::Decode, seed_for("tp2", 64), 8, 16, 128);
    const Outputs out = gpu::run_device(v, kc.config, kc.inputs, kc.options);
    require_within_error_model(kc.config, kc.inputs, gpu::precision_of(v, kc.options), out, v.name + " TP2 decode");
  }
}
