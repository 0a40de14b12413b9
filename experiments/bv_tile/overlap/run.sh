#!/usr/bin/env bash
# Builds and runs the programmatic-overlap probe (overlap.cu) on a GPU host, for sm_90a:
#   experiments/bv_tile/overlap/run.sh [B ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"${NVCC:-nvcc}" -O3 -std=c++17 "-gencode=arch=compute_90a,code=sm_90a" -o "$work/overlap" "$here/overlap.cu"
"$work/overlap" "$@"
