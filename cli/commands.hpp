// The subcommands of the gdn executable. Each add_* registers subcommands whose callbacks
// store the process exit code in `exit_code` (0 success, 1 a failed verdict, 2 usage or
// I/O error); errors the user can fix are thrown as gdn::InputError and printed by main.
#pragma once
#include <CLI/CLI.hpp>

namespace gdn::cli {

void add_bench_reference(CLI::App& app, int& exit_code);  // bench_reference.cpp
void add_trace_commands(CLI::App& app, int& exit_code);   // trace_commands.cpp: golden, inspect, check
void add_kernel_commands(CLI::App& app, int& exit_code);  // kernel_commands.cpp: kernels, run, bench
void add_drift(CLI::App& app, int& exit_code);            // drift_command.cpp

}  // namespace gdn::cli
