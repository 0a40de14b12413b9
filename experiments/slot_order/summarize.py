#!/usr/bin/env python3
"""Tables of `gdn bench --chosen-only` runs that differ only in slot order and pool size.

    python3 experiments/slot_order/summarize.py RESULTS.json ...

One markdown table per launch mode: a row per (B, layout, state), a column per slot setting
(ascending / random order, pool rows per sequence), each cell the family's choice in us per
launch and, in brackets, the bench's slot + state round trip of the same run; then the cost
of each setting over slots in sequence order (pool 1, ascending), kernel and round trip.
"""
import json
import sys


def load(paths):
    runs = {}
    for path in paths:
        with open(path) as f:
            d = json.load(f)
        key = (d["launch"], d.get("slot_pool", 1), d["slots"])
        cells = runs.setdefault(key, {})
        floors = {(r["tp"], r["batch"], r["layout"], r["state"]): r["round_trip_us"] for r in d["floors"]}
        for r in d["results"]:
            if r["chosen"]:
                at = (r["tp"], r["batch"], r["layout"], r["state"])
                cells[at] = (r["us_median"], floors.get(at, float("nan")), r["variant"])
    return runs


def setting(pool, slots):
    return f"pool {pool}, {'ascending' if slots == 'sequential' else 'random'}"


def table(title, columns, configs, cell):
    """A markdown table: a row per (TP, B, layout, state), a column per setting."""
    print(f"\n{title}\n")
    print("| TP | B | layout | state | " + " | ".join(setting(k[1], k[2]) for k in columns) + " |")
    print("|---" * (4 + len(columns)) + "|")
    for c in configs:
        print(f"| {c[0]} | {c[1]} | {c[2]} | {c[3]} | " + " | ".join(cell(k, c) for k in columns) + " |")


def main(paths):
    runs = load(paths)
    for launch in sorted({k[0] for k in runs}):
        keys = sorted((k for k in runs if k[0] == launch), key=lambda k: (k[1], k[2] != "sequential"))
        configs = sorted({c for k in keys for c in runs[k]})

        def times(k, c):
            return f"{runs[k][c][0]:.2f} [{runs[k][c][1]:.2f}]" if c in runs[k] else "-"

        table(f"{launch} launches: us per launch, kernel [round trip]", keys, configs, times)
        base = runs.get((launch, 1, "sequential"))
        if base:

            def cost(k, c):
                if c not in runs[k] or c not in base:
                    return "-"
                (us, rt, _), (us0, rt0, _) = runs[k][c], base[c]
                return f"{100 * (us / us0 - 1):+.1f}% / {100 * (rt / rt0 - 1):+.1f}%"

            others = [k for k in keys if k != (launch, 1, "sequential")]
            table(f"{launch} launches: cost over pool 1 ascending (sequence n in slot n), kernel / round trip",
                  others, [c for c in configs if c in base], cost)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: summarize.py RESULTS.json ...")
    main(sys.argv[1:])
