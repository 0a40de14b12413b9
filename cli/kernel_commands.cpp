// gdn kernels, gdn run, gdn bench. STUB: being written (issue 4).
#include "cli/commands.hpp"

namespace gdn::cli {

void add_kernel_commands(CLI::App&, int&) {}

}  // namespace gdn::cli
