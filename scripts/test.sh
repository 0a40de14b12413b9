#!/usr/bin/env bash
# The test command: installs what is missing, builds (with CUDA where nvcc exists), and runs
# every test through CTest. GPU tests report "Skipped" when no GPU is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh "$@"
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 900
