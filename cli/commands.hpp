// The subcommands of the gdn executable. Each add_* registers one subcommand whose callback
// stores the process exit code in `exit_code` (0 success, 1 a failed verdict, 2 usage or
// I/O error); errors the user can fix are thrown as gdn::InputError and printed by main.
#pragma once
#include <CLI/CLI.hpp>

namespace gdn::cli {

void add_bench_reference(CLI::App& app, int& exit_code);

}  // namespace gdn::cli
