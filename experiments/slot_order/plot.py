#!/usr/bin/env python3
"""The figure of experiments/slot_order:
  left:  the slot + state round trip (slot_probe) over sequence order, against the length
         of the contiguous runs of slots in MB; the prefetch rows as markers at the
         random permutation's run length;
  right: the family's choice of `gdn bench --chosen-only` (programmatic launches) over its
         time with sequence n in slot n, per slot setting, TP=4 B=1024.
    python3 experiments/slot_order/plot.py results/h100-2193ff7 slot_order.png
"""
import glob
import json
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def probe_rows(path):
    rows = []
    for line in open(path):
        m = re.match(r"(\w+)\s+run\s+(\d+) ahead\s+(\d+):\s+([\d.]+) us.*x([\d.]+)", line)
        if m:
            rows.append((m.group(1), int(m.group(2)), int(m.group(3)), float(m.group(5))))
    return rows


def main(prefix, out):
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for path in sorted(glob.glob(prefix + "-probe-*.txt")):
        m = re.search(r"B(\d+)-HV(\d+)-head(\d+)KB", path)
        B, HV, head_kb = (int(x) for x in m.groups())
        slot_mb = HV * head_kb / 1024
        rows = probe_rows(path)
        runs = [(r[1] * slot_mb, 100 * (r[3] - 1)) for r in rows if r[0] == "runs"]
        line, = left.plot(*zip(*runs), "o-", label=f"B={B}, {int(slot_mb * 1024)} KB per slot")
        ahead = [100 * (r[3] - 1) for r in rows if r[0] == "random"]
        left.plot([slot_mb] * len(ahead), ahead, "x", color=line.get_color())
    left.axhline(0, color="k", lw=1)
    left.axvline(2, color="gray", ls=":", lw=1)
    left.text(2.1, left.get_ylim()[1] * 0.9, "2 MB page", color="gray", fontsize=8)
    left.set_xscale("log", base=2)
    left.set_xlabel("contiguous run of slots (MB); x: random order with translation prefetch")
    left.set_ylabel("round trip over sequence order (%)")
    left.set_title("Slot + state round trip (H100, TP=4 shapes)")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)

    base, settings = None, []
    for path in sorted(glob.glob(prefix + "-programmatic-*.json")):
        d = json.load(open(path))
        chosen = {(r["layout"], r["state"]): r["us_median"] for r in d["results"] if r["chosen"] and r["batch"] == 1024}
        key = (d["slot_pool"], d["slots"])
        if key == (1, "sequential"):
            base = chosen
        else:
            settings.append((key, chosen))
    families = sorted(base)
    width = 0.8 / len(settings)
    for i, ((pool, slots), chosen) in enumerate(sorted(settings)):
        cost = [100 * (chosen[f] / base[f] - 1) for f in families]
        right.bar([x + i * width for x in range(len(families))], cost, width,
                  label=f"pool {pool}x batch, {'sorted' if slots == 'sequential' else 'random order'}")
    right.set_ylim(0, right.get_ylim()[1] * 1.4)  # room for the legend
    right.set_xticks([x + width * (len(settings) - 1) / 2 for x in range(len(families))])
    right.set_xticklabels([f"{l} {s}" for l, s in families])
    right.set_ylabel("family's choice over sequence n in slot n (%)")
    right.set_title("gdn bench, TP=4 B=1024, programmatic")
    right.grid(True, axis="y", alpha=0.3)
    right.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py RESULTS_PREFIX OUT.png")
    main(sys.argv[1], sys.argv[2])
