// gdn bench-reference: GFLOP/s of the float64 recurrence at Qwen3-Next shapes.
// 7 K V flops per token per value head: decay K V, k.s 2 K V, rank-1 update 2 K V, q.s 2 K V.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/commands.hpp"
#include "golden/generate.hpp"
#include "reference/recurrent.hpp"
#include "gdn_version.hpp"  // GDN_VERSION (generated at build time)

namespace gdn::cli {
namespace {

struct BenchReferenceArgs {
  int64_t batch = 8;
  int64_t tokens = 64;
  int64_t H = 16, HV = 32, K = 128, V = 128;
  std::string layout = "VK";
  std::vector<int> threads;
  int repeats = 5;
  bool json = false;
};

void run(const BenchReferenceArgs& a) {
  Config c;
  c.H = a.H;
  c.HV = a.HV;
  c.K = a.K;
  c.V = a.V;
  c.layout = parse_layout(a.layout);
  GenerateOptions g;
  g.config = c;
  g.N = a.batch;
  g.T = a.tokens;
  g.input_dtype = g.params_dtype = g.state_dtype = Dtype::F64;
  g.seed = 1;
  const Inputs in = generate_inputs(g);
  const double flops = 7.0 * static_cast<double>(c.K * c.V) * static_cast<double>(a.batch * a.tokens * c.HV);
  std::vector<int> threads = a.threads;
  if (threads.empty())
    for (int t = 1; t <= omp_get_num_procs(); t *= 2) threads.push_back(t);
  if (!a.json)
    std::printf("float64 recurrence, N=%lld T=%lld H=%lld HV=%lld K=%lld V=%lld layout=%s, median of %d\n",
                static_cast<long long>(a.batch), static_cast<long long>(a.tokens), static_cast<long long>(c.H),
                static_cast<long long>(c.HV), static_cast<long long>(c.K), static_cast<long long>(c.V),
                a.layout.c_str(), a.repeats);
  else
    std::printf("{\"benchmark\": \"reference\", \"version\": \"%s\", \"results\": [", GDN_VERSION);
  double base = 0.0;
  for (size_t ti = 0; ti < threads.size(); ++ti) {
    omp_set_num_threads(threads[ti]);
    reference(c, in);  // warm-up
    std::vector<double> secs;
    for (int r = 0; r < a.repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const Outputs out = reference(c, in);
      secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(secs.begin(), secs.end());
    const double med = secs[secs.size() / 2];
    const double gflops = flops / med * 1e-9;
    if (ti == 0) base = gflops / threads[0];
    if (!a.json)
      std::printf("threads %2d: %8.2f GFLOP/s  (%.2f per thread, scaling %.2f)  median %.4f s  [min %.4f, max %.4f]\n",
                  threads[ti], gflops, gflops / threads[ti], gflops / (base * threads[ti]), med, secs.front(),
                  secs.back());
    else
      std::printf("%s{\"threads\": %d, \"gflops\": %.3f, \"median_s\": %.6f, \"min_s\": %.6f, \"max_s\": %.6f}",
                  ti ? ", " : "", threads[ti], gflops, med, secs.front(), secs.back());
  }
  if (a.json) std::printf("]}\n");
}

}  // namespace

void add_bench_reference(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<BenchReferenceArgs>();
  CLI::App* sub = app.add_subcommand("bench-reference", "GFLOP/s of the float64 reference recurrence (a benchmark, not a test)");
  sub->add_option("--batch", args->batch, "sequences N")->check(CLI::PositiveNumber);
  sub->add_option("--tokens", args->tokens, "tokens per sequence T")->check(CLI::PositiveNumber);
  sub->add_option("--heads", args->H, "query/key heads H")->check(CLI::PositiveNumber);
  sub->add_option("--value-heads", args->HV, "value heads HV")->check(CLI::PositiveNumber);
  sub->add_option("--key-dim", args->K, "key head dim K")->check(CLI::PositiveNumber);
  sub->add_option("--value-dim", args->V, "value head dim V")->check(CLI::PositiveNumber);
  sub->add_option("--layout", args->layout, "state layout")->check(CLI::IsMember({"KV", "VK"}));
  sub->add_option("--threads", args->threads, "thread counts to measure (default 1, 2, 4 .. cores)");
  sub->add_option("--repeats", args->repeats, "timed repetitions per thread count")->check(CLI::PositiveNumber);
  sub->add_flag("--json", args->json, "machine-readable output");
  sub->callback([args, &exit_code] {
    run(*args);
    exit_code = 0;
  });
}

}  // namespace gdn::cli
