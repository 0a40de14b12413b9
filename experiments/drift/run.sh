#!/usr/bin/env bash
# Reproduces experiments/drift/drift.png: two long runs (typical Qwen3-Next gates, and
# slow-decay heads) simulated under each precision policy against the float64 oracle.
# Usage: experiments/drift/run.sh [TOKENS]   (needs the gdn build and python3 with matplotlib, pandas)
set -euo pipefail
cd "$(dirname "$0")"
gdn=../../build/cli/gdn
T=${1:-20000}
mkdir -p data
$gdn drift --tokens "$T" --stress none --seed 1 -o data/drift_typical.csv
$gdn drift --tokens "$T" --stress slow-decay --seed 1 -o data/drift_slow_decay.csv
python3 plot.py drift.png data/drift_typical.csv "typical gates (A~U(1,16), dt~logU(1e-3,0.1))" \
                          data/drift_slow_decay.csv "slow-decay heads (|g| ~ 1e-6)"
echo "wrote $(pwd)/drift.png"
