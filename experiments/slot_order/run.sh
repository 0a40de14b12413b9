#!/usr/bin/env bash
# Builds and runs the slot-order probe (slot_probe.cu) on a GPU host, for sm_90a:
#   experiments/slot_order/run.sh [B=1024] [HV=8] [head KB: 32 (bf16 state) | 64 (fp32)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${NVCC:-nvcc}" -O3 -std=c++17 "-gencode=arch=compute_90a,code=sm_90a" -o "$work/slot_probe" "$here/slot_probe.cu"
"$work/slot_probe" "$@"
