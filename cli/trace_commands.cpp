// gdn golden, gdn inspect, gdn check. STUB: being written (issue 3).
#include "cli/commands.hpp"

namespace gdn::cli {

void add_trace_commands(CLI::App&, int&) {}

}  // namespace gdn::cli
