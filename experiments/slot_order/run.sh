#!/usr/bin/env bash
# Builds and runs a probe of this experiment on a GPU host, for sm_90a:
#   experiments/slot_order/run.sh [B=1024] [HV=8] [head KB: 32 (bf16 state) | 64 (fp32)]   slot_probe.cu
#   experiments/slot_order/run.sh --ceiling                                                ceiling_probe.cu
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
probe=slot_probe
if [ "${1:-}" = "--ceiling" ]; then probe=ceiling_probe; shift; fi
# The probes time with the bench's own code: cuda/graph_timer.cpp and cuda/copy_ceiling.cpp.
cuda="$here/../../cuda"
"${NVCC:-nvcc}" -O3 -std=c++17 "-gencode=arch=compute_90a,code=sm_90a" -I"$cuda" -o "$work/$probe" \
  "$here/$probe.cu" "$cuda/graph_timer.cpp" "$cuda/copy_ceiling.cpp"
"$work/$probe" "$@"
