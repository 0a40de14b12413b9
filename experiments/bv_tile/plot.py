#!/usr/bin/env python3
"""Plots one `gdn bench --json` run (plain launches) of the decode kernels, Qwen3-Next TP=4:
  left:  time per launch of each family's choice over the slot + state round trip of the
         same run (the floor of any kernel that reads a slot, then the state), and FLA's best
         figure of PERF.md over the same floor;
  middle: % of the copy ceiling against the BV tile at B = 1024 (default launch shapes), the
         seed PRs' BV 8 -> 32 effect on this project's kernels;
  right (with --peer FLA.json SEQUENTIAL.json): each family's choice measured with slots in
         sequence order over FLA's best shape measured in the same session
         (experiments/fla_peer), < 1 where this project's kernel is faster.
    python3 experiments/bv_tile/plot.py results/h100-v11-53ea00a-plain.json bv_tile.png \
        --peer ../fla_peer/results/h100-fla-bc3b101-tp4-v11.json results/h100-v11-53ea00a-sequential.json
"""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from summarize import fla_best  # noqa: E402  (PERF.md's FLA table lives there, once)

FAMILIES = [("KV", "bf16", "C0"), ("VK", "bf16", "C3"), ("KV", "fp32", "C2"), ("VK", "fp32", "C1")]


def ratio_over_batch(ax, ylabel, title):
    """The axes of a time ratio against the batch: log2 B, a line at 1."""
    ax.axhline(1, color="k", lw=1)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch B (sequences, one token each)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def main(path, out, peer):
    d = json.load(open(path))
    res = [r for r in d["results"] if r["tp"] == 4]
    fig, axes = plt.subplots(1, 3 if peer else 2, figsize=(19.5 if peer else 13, 5))
    left, right = axes[0], axes[1]

    floor = {(f["batch"], f["layout"], f["state"]): f["round_trip_us"] for f in d["floors"] if f["tp"] == 4}
    for layout, state, color in FAMILIES:
        chosen = sorted((r["batch"], r["us_median"] / floor[(r["batch"], layout, state)]) for r in res
                        if r["chosen"] and r["layout"] == layout and r["state"] == state)
        left.plot(*zip(*chosen), color=color, marker="o", lw=1.5, label=f"{layout} {state} state (family's choice)")
        fla = sorted((b, fla_best(4, state, b) / floor[(b, layout, state)]) for b, _ in chosen
                     if fla_best(4, state, b) is not None)
        left.plot(*zip(*fla), color=color, ls="none", marker="x", ms=8,
                  label=f"FLA best (PERF.md), {state}" if layout == "KV" else None)
    ratio_over_batch(left, "time per launch / slot + state round trip of the same run",
                     "TP=4 decode: time over the floor (1 = the floor)")

    for layout, state, color in FAMILIES:
        sweep = sorted((r["bv"], r["pct_copy"]) for r in res
                       if r["batch"] == 1024 and r["layout"] == layout and r["state"] == state
                       and r["variant"].endswith(f"-bv{r['bv']}"))
        right.plot(*zip(*sweep), color=color, marker="o", lw=1.5, label=f"{layout} {state} state")
    right.axhline(92, color="C3", ls=":", lw=1, label="target, bf16 state (92%)")
    right.axhline(95, color="C1", ls=":", lw=1, label="target, fp32 state (95%)")
    right.set_xscale("log", base=2)
    right.set_xticks([8, 16, 32, 64, 128], ["8", "16", "32", "64", "128"])
    right.set_xlabel("BV (value columns per block), default launch shape, registers")
    right.set_ylabel(f"% of copy ceiling ({d['copy_gbps']:.0f} GB/s)")
    right.set_title("TP=4, B=1024: the BV tile")
    right.grid(True, alpha=0.3)
    right.legend(fontsize=8)

    if peer:
        plot_peer(axes[2], *peer)

    fig.suptitle(f"{d['device']['name']}, revision {d['revision']}, plain launches", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def plot_peer(ax, fla_path, seq_path):
    fla, seq = json.load(open(fla_path)), json.load(open(seq_path))
    best = {}
    for r in fla["results"]:
        k = (r["tp"], r["batch"], r["layout"], r["state"])
        if "us_median" in r and (k not in best or r["us_median"] < best[k]):
            best[k] = r["us_median"]
    for layout, state, color in FAMILIES:
        pts = sorted((r["batch"], r["us_median"] / best[(4, r["batch"], layout, state)]) for r in seq["results"]
                     if r["tp"] == 4 and r["chosen"] and r["layout"] == layout and r["state"] == state
                     and (4, r["batch"], layout, state) in best)
        ax.plot(*zip(*pts), color=color, marker="o", lw=1.5, label=f"{layout} {state} state")
    ratio_over_batch(ax, "time per launch / FLA's best shape, same session",
                     "TP=4: against FLA measured here (slots in order for both)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="plots one gdn bench --json run")
    ap.add_argument("bench")
    ap.add_argument("out")
    ap.add_argument("--peer", nargs=2, metavar=("FLA_JSON", "SEQUENTIAL_JSON"))
    a = ap.parse_args()
    main(a.bench, a.out, a.peer)
