#!/usr/bin/env bash
# Builds and runs the decode timeline probe (timeline.cu) on a GPU host, for sm_90a:
#   experiments/bv_tile/timeline/run.sh [plain|early|programmatic][,...] [B ...]
# prints the plain timing (kernel as in cuda/) and the marked timeline (mark.py's points).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nvcc=${NVCC:-nvcc}
flags=(-O3 -DNDEBUG --fmad=false -std=c++17 "-gencode=arch=compute_90a,code=sm_90a")
python3 "$here/mark.py" "$root/cuda" "$work/cuda"
"$nvcc" "${flags[@]}" -I"$root/cuda" -I"$root" -DNO_MARKS -o "$work/plain" "$here/timeline.cu" &
plain_build=$!
"$nvcc" "${flags[@]}" -I"$work/cuda" -I"$root" -o "$work/marked" "$here/timeline.cu" &
marked_build=$!
wait "$plain_build"
wait "$marked_build"
echo "== kernel as built (no marks)"
"$work/plain" "$@"
echo "== with timeline points (adds ~0.4 us per launch: one atomic and one record per block)"
"$work/marked" "$@"
