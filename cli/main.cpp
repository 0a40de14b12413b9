// gdn: the oracle, the simulator, golden traces and kernels of the gated delta rule.
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "reference/tensor.hpp"
#include "gdn_version.hpp"  // GDN_VERSION (generated at build time)

int main(int argc, char** argv) {
  CLI::App app{"gdn: float64 oracle, precision simulator, golden traces and kernels for the gated delta rule"};
  app.set_version_flag("--version", std::string("gdn ") + GDN_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  gdn::cli::add_bench_reference(app, exit_code);
  gdn::cli::add_trace_commands(app, exit_code);
  gdn::cli::add_kernel_commands(app, exit_code);
  gdn::cli::add_drift(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "gdn: error: %s (see gdn --help)\n", e.what());
    return 2;
  } catch (const gdn::InputError& e) {
    std::fprintf(stderr, "gdn: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gdn: error: %s\n", e.what());
    return 2;
  }
  return exit_code;
}
