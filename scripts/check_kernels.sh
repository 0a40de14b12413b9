#!/usr/bin/env bash
# Every kernel variant through `gdn run` and `gdn check` under its own profile, on the
# default traces (decode with a pool and padding, speculative decode, varlen, the null-block
# sentinel with precomputed gates) and the stress traces (slow decay, near cancellation,
# large unnormalised keys), both layouts (issue 4).
#
#   scripts/check_kernels.sh [--emulate] [GDN]     GDN: the gdn binary (default build-gpu/cli/gdn)
#
# Prints one line per (variant, trace) and a summary; exits 1 if any check fails. --emulate
# runs the CPU emulation of the kernels instead of the GPU (slow; for hosts without one).
# GDN_VARIANTS (an extended regex) restricts the variants.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EMULATE=""
if [ "${1:-}" = "--emulate" ]; then EMULATE=--emulate; shift; fi
GDN=${1:-$ROOT/build-gpu/cli/gdn}
WORK=$(mktemp -d /tmp/gdn-check-kernels.XXXXXX)
JOBS=${GDN_JOBS:-$(nproc)}

# name|gdn golden options (the profile and layout are added per trace)
TRACES=(
  "decode|--preset qwen3-next-tp4 -N 16 --state-indices --pad-rows 2 --extra-slots 4"
  "speculative|--preset qwen3-next-tp4 -N 4 -T 4 --speculative --pad-rows 1"
  "varlen|--preset qwen3-next-tp4 --seq-lens 5 1 12 3 --state-indices"
  "null-block|--preset qwen3-next-tp2 -N 8 --state-indices --pad-rows 2 --pad-sentinel 0 --gate-form precomputed --qk-norm fnormalize"
  "slow-decay|--preset qwen3-next-tp4 -N 2 -T 256 --stress slow-decay"
  "near-cancellation|--preset qwen3-next-tp4 -N 2 -T 64 --stress near-cancellation"
  "large-keys|--preset qwen3-next-tp4 -N 2 -T 16 --stress large-keys --qk-norm none"
)

# The stochastic-rounding builds (-sr) are judged in tests/gpu/kernel_test.cpp, against the
# error model of stochastic rounding; gdn check knows the four named profiles only.
"$GDN" kernels --names | grep -v -- '-sr ' | grep -E -- "${GDN_VARIANTS:-.}" > "$WORK/variants" || exit 2
for profile in $(cut -d' ' -f2 "$WORK/variants" | sort -u); do
  for layout in KV VK; do
    for t in "${TRACES[@]}"; do
      name=${t%%|*}
      # shellcheck disable=SC2086
      "$GDN" golden ${t#*|} --profile "$profile" --layout "$layout" --seed 7 -q \
        -o "$WORK/$profile-$layout-$name.h5" || exit 2
    done
  done
done

while read -r variant profile layout; do
  for t in "${TRACES[@]}"; do
    echo "$variant $WORK/$profile-$layout-${t%%|*}.h5"
  done
done < "$WORK/variants" > "$WORK/jobs"

one() {
  local variant=$1 trace=$2 cand
  cand="${trace%.h5}.$variant.cand.h5"
  if ! out=$("$GDN" run --kernel "$variant" "$trace" -o "$cand" $EMULATE 2>&1); then
    echo "ERROR $variant $(basename "$trace" .h5): $out"
    return
  fi
  if out=$("$GDN" check "$trace" "$cand" 2>&1); then verdict=PASS; else verdict=FAIL; fi
  ratio=$(echo "$out" | awk '($1 == "o" || $1 == "state") && $2 ~ /^[0-9]+$/ { printf "%s d/bound %s  ", $1, $5 }')
  echo "$verdict $variant $(basename "$trace" .h5)  $ratio"
  rm -f "$cand"
}
export -f one
export GDN EMULATE
xargs -P "$JOBS" -L 1 bash -c 'one "$@"' _ < "$WORK/jobs" | sort -k2,2 -k3,3 | tee "$WORK/results"
pass=$(grep -c '^PASS' "$WORK/results"); total=$(wc -l < "$WORK/results")
echo "gdn check: $pass of $total (variant, trace) pairs pass"
rm -rf "$WORK"
[ "$pass" = "$total" ]
