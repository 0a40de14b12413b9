// gdn kernels, gdn run, gdn bench: this project's CUDA kernels (issue 4). Without CUDA the
// subcommands exist and fail with "built without CUDA" (exit 2).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "gdn_version.hpp"  // GDN_VERSION (generated at build time)
#include "reference/tensor.hpp"

#ifdef GDN_HAVE_CUDA
#include "cuda/api.hpp"
#include "cuda/bench.hpp"
#include "golden/trace.hpp"
#endif

namespace gdn::cli {

#ifdef GDN_HAVE_CUDA
namespace {

struct RunArgs {
  std::string kernel, trace, output;
  bool emulate = false;
  bool stochastic = false;
  uint64_t seed = 0;
  bool beta_bf16 = false, decay_bf16 = false;
  bool packed = false;
  int64_t packed_row_pad = 0;
};

void list_kernels(bool names_only) {
  if (names_only) {  // for scripts: name, profile, layout
    for (const gpu::Variant& v : gpu::variants())
      std::printf("%s %s %s\n", v.name.c_str(), to_string(v.profile).c_str(), to_string(v.layout).c_str());
    return;
  }
  std::printf("%-40s %-6s %-16s %-8s %-8s %4s %7s %9s %4s %4s %7s %7s\n", "name", "layout", "profile", "state", "inputs",
              "BV", "threads", "minblocks", "K", "V", "K-split", "V-warps");
  for (const gpu::Variant& v : gpu::variants())
    std::printf("%-40s %-6s %-16s %-8s %-8s %4d %7d %9d %4d %4s %7d %7d\n", v.name.c_str(), to_string(v.layout).c_str(),
                to_string(v.profile).c_str(), to_string(v.state).c_str(), to_string(v.input).c_str(), v.bv, v.threads,
                v.min_blocks, v.K, v.V > 0 ? std::to_string(v.V).c_str() : "any", v.split_k, v.warps_v);
  std::printf("\nfamilies (the variant chosen per call from the batch and the GPU; `gdn kernels --choices`):");
  for (const std::string& f : gpu::family_names()) std::printf(" %s", f.c_str());
  std::printf("\noptions of gdn run: --stochastic-rounding SEED (bf16 state), --beta-bf16, --decay-bf16 (float kernels), "
              "--packed (q|k|v in one buffer)\n");
}

// The variant each bench family picks on the bench grid (Qwen3-Next TP=2 and 4, K = V = 128)
// for plain or programmatic launches, and its arithmetic build, for
// experiments/bv_tile/summarize.py --choices.
void list_choices(bool programmatic_launch) {
  gpu::KernelOptions launch;
  launch.programmatic_launch = programmatic_launch;
  int sms = 132;  // an H100 when no GPU is present
  if (gpu::device_available()) sms = gpu::require_device().sms;
  for (int tp : {2, 4})
    for (int64_t B : {1, 8, 32, 64, 128, 256, 512, 1024})
      for (const char* family : {"kv-bf16-bf16state", "kv-bf16-fp32state", "vk-bf16-bf16state", "vk-bf16-fp32state"}) {
        Config c;
        c.H = 16 / tp;
        c.HV = 32 / tp;
        c.K = 128;
        c.V = 128;
        c.layout = family[0] == 'k' ? Layout::KV : Layout::VK;
        const gpu::Variant& v = gpu::find_variant(family, c, B, sms, launch);
        std::printf("%d %lld %s %s %s%s\n", tp, static_cast<long long>(B), family, v.name.c_str(),
                    kernels::to_string(gpu::choose_arithmetic(v, c, B, sms, programmatic_launch)),
                    programmatic_launch && !gpu::takes_early_reads(v, c, B, sms) ? " reads-after-wait" : "");
      }
}

void run_kernel(const RunArgs& a) {
  TraceReadOptions ro;
  ro.golden = false;
  ro.token_states = false;
  const Trace trace = read_trace(a.trace, ro);
  gpu::KernelOptions opt;
  opt.stochastic_rounding = a.stochastic;
  opt.seed = a.seed;
  opt.beta_bf16 = a.beta_bf16;
  opt.decay_bf16 = a.decay_bf16;
  opt.packed_qkv = a.packed;
  opt.packed_row_pad = a.packed_row_pad;
  std::string device = "CPU emulation";
  int sms = 132;
  if (!a.emulate) {
    const gpu::DeviceInfo info = gpu::require_device();
    device = info.name;
    sms = info.sms;
  }
  const gpu::Variant& v = gpu::find_variant(a.kernel, trace.config, trace.inputs.num_sequences(), sms, opt);
  const Outputs out = a.emulate ? gpu::run_emulation(v, trace.config, trace.inputs, opt)
                                : gpu::run_device(v, trace.config, trace.inputs, opt);
  std::string kernel = v.name;
  if (a.stochastic) kernel += "+sr" + std::to_string(a.seed);
  if (a.beta_bf16) kernel += "+beta-bf16";
  if (a.decay_bf16) kernel += "+decay-bf16";
  if (a.packed) kernel += "+packed";
  if (a.emulate) kernel = "emulation:" + kernel;
  Candidate cand = make_candidate(trace, out, gpu::precision_of(v, opt), kernel, to_string(v.profile));
  cand.command_line = "gdn run --kernel " + a.kernel + " " + a.trace + " -o " + a.output +
                      (a.emulate ? " --emulate" : "") + (a.stochastic ? " --stochastic-rounding " + std::to_string(a.seed) : "") +
                      (a.beta_bf16 ? " --beta-bf16" : "") + (a.decay_bf16 ? " --decay-bf16" : "") +
                      (a.packed ? " --packed --packed-row-pad " + std::to_string(a.packed_row_pad) : "");
  write_candidate(a.output, cand);
  std::printf("%s (%s) on %s: N=%lld, Ttot=%lld -> %s\n", kernel.c_str(), gpu::describe_precision(v, opt).c_str(),
              device.c_str(), static_cast<long long>(trace.inputs.num_sequences()),
              static_cast<long long>(trace.inputs.num_tokens()), a.output.c_str());
}

}  // namespace

void add_kernel_commands(CLI::App& app, int& exit_code) {
  CLI::App* kernels = app.add_subcommand("kernels", "List this project's CUDA kernel variants and their profiles");
  auto names_only = std::make_shared<bool>(false), choices = std::make_shared<bool>(false);
  kernels->add_flag("--names", *names_only, "one line per variant: name, profile, layout (for scripts)");
  kernels->add_flag("--choices", *choices, "the variant each family picks on the bench grid: TP, B, family, variant");
  auto choices_launch = std::make_shared<std::string>("plain");
  kernels->add_option("--launch", *choices_launch, "with --choices: the choice for plain or programmatic launches")
      ->check(CLI::IsMember({"plain", "programmatic"}));
  kernels->callback([names_only, choices, choices_launch, &exit_code] {
    if (*choices) {
      list_choices(*choices_launch == "programmatic");
      exit_code = 0;
      return;
    }
    list_kernels(*names_only);
    exit_code = 0;
  });

  auto ra = std::make_shared<RunArgs>();
  CLI::App* run = app.add_subcommand("run", "Run a CUDA kernel over a golden trace and write a candidate for gdn check");
  run->add_option("--kernel", ra->kernel, "variant or family name (gdn kernels)")->required();
  run->add_option("trace", ra->trace, "golden trace (HDF5)")->required();
  run->add_option("-o,--output", ra->output, "candidate file to write")->required();
  run->add_flag("--emulate", ra->emulate, "run the CPU emulation of the kernel instead of the GPU");
  CLI::Option* sr = run->add_option("--stochastic-rounding", ra->seed, "bf16 stochastic rounding of the state with this seed");
  run->add_flag("--beta-bf16", ra->beta_bf16, "round beta to bf16 before use");
  run->add_flag("--decay-bf16", ra->decay_bf16, "round exp(g) to bf16 before use");
  run->add_flag("--packed", ra->packed, "pass q|k|v in one [Ttot, 2HK + HV V] buffer (vLLM's packed decode)");
  run->add_option("--packed-row-pad", ra->packed_row_pad, "extra elements per packed row (a strided view)");
  run->callback([ra, sr, &exit_code] {
    ra->stochastic = sr->count() > 0;
    run_kernel(*ra);
    exit_code = 0;
  });

  auto ba = std::make_shared<gpu::BenchOptions>();
  CLI::App* bench = app.add_subcommand("bench", "Decode throughput of the CUDA kernels against the copy ceiling (PERF.md)");
  bench->add_option("--tp", ba->tp, "tensor-parallel degrees (Qwen3-Next heads / TP)")->delimiter(',');
  bench->add_option("--batch", ba->batches, "batch sizes B")->delimiter(',');
  bench->add_option("--layout", ba->layouts, "KV, VK")->delimiter(',');
  bench->add_option("--state", ba->states, "state dtypes: bf16, fp32")->delimiter(',');
  bench->add_option("--bv", ba->bvs, "tiles to measure (default: every compiled tile)")->delimiter(',');
  bench->add_option("--replays", ba->replays, "timed graph replays per variant (>= 10)");
  bench->add_option("--rotate-mb", ba->rotate_bytes, "input sets cover at least this many bytes of state")
      ->transform([](std::string s) { return std::to_string(std::stoll(s) << 20); });
  bench->add_option("--json", ba->json_path, "also write the results as JSON");
  bench->add_option("--revision", ba->revision, "git revision to record (default: the one the binary was built from)");
  bench->add_option("--seed", ba->seed, "seed of the random inputs");
  auto launch_mode = std::make_shared<std::string>("plain");
  bench->add_option("--launch", *launch_mode,
                    "plain; programmatic: programmatic dependent launches that may read the state before the "
                    "previous launch ends (sm_90+), as the family's choice does where that is faster; "
                    "programmatic-early / programmatic-late: every variant reads it before / after that")
      ->check(CLI::IsMember({"plain", "programmatic", "programmatic-early", "programmatic-late"}));
  auto slot_order = std::make_shared<std::string>("random");
  bench->add_option("--slots", *slot_order,
                    "random: each input set's slots in random order (as a serving engine holds them); "
                    "sequential: in ascending order (with --slot-pool 1 sequence n in slot n, the contiguous state "
                    "of a kernel without indices)")
      ->check(CLI::IsMember({"random", "sequential"}));
  bench->add_option("--slot-pool", ba->slot_pool,
                    "pool rows per sequence: each input set's B slots are drawn from F * B rows (a pool larger than "
                    "the batch, as in serving)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  bench->add_flag("--chosen-only", ba->chosen_only, "time only the family's choice for each shape, not every tile");
  auto arithmetic = std::make_shared<std::string>("auto");
  bench->add_option("--arithmetic", *arithmetic,
                    "the build of the gates' and norms' arithmetic: auto (the family table's for its choice, "
                    "branch-free for the other variants), branch-free or intrinsic (the same results; for comparing "
                    "their speed)")
      ->check(CLI::IsMember({"auto", "branch-free", "intrinsic"}));
  bench->callback([ba, launch_mode, slot_order, arithmetic, &exit_code] {
    ba->programmatic = *launch_mode != "plain";
    ba->state_reads = *launch_mode == "programmatic-late"    ? gpu::BenchOptions::StateReads::Late
                      : *launch_mode == "programmatic-early" ? gpu::BenchOptions::StateReads::Early
                                                             : gpu::BenchOptions::StateReads::AsChosen;
    ba->sequential_slots = *slot_order == "sequential";
    for (auto a : {kernels::GateArithmetic::Auto, kernels::GateArithmetic::BranchFree, kernels::GateArithmetic::Intrinsic})
      if (*arithmetic == kernels::to_string(a)) ba->arithmetic = a;
    ba->version = GDN_VERSION;
    if (ba->revision.empty()) ba->revision = GDN_VERSION;
    exit_code = gpu::run_bench(*ba);
  });
}

#else  // no CUDA

void add_kernel_commands(CLI::App& app, int& exit_code) {
  for (const char* name : {"kernels", "run", "bench"}) {
    CLI::App* sub = app.add_subcommand(name, "CUDA kernels (this build has none: built without CUDA)");
    sub->allow_extras();
    sub->callback([&exit_code] {
      exit_code = 2;
      throw std::runtime_error("built without CUDA");
    });
  }
}

#endif

}  // namespace gdn::cli
