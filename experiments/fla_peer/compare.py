#!/usr/bin/env python3
"""Compares `gdn bench` runs with FLA's kernel measured on the same machine (bench_fla.py).

    python3 experiments/fla_peer/compare.py FLA.json GDN.json [GDN.json ...]

For each configuration that FLA's run holds: FLA's best shape (BV x num_warps) and its time,
then for each gdn run the family's choice, its time and its ratio to FLA's best (< 1: faster
than FLA). Each gdn run is labelled by its launch mode and slot order (`gdn bench --launch`,
`--slots`); FLA reads its state in sequence order, so `--slots sequential` is the like-for-like
comparison. Prints markdown.
"""
import argparse
import json
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"compare: {path}: {e}")


def key(r):
    return (r["tp"], r["batch"], r["layout"], r["state"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("fla", help="JSON written by bench_fla.py --json")
    ap.add_argument("gdn", nargs="+", help="JSON written by gdn bench --json")
    args = ap.parse_args()
    fla = load(args.fla)
    if fla.get("benchmark") != "fla_fused_recurrent":
        sys.exit(f"compare: {args.fla} is not a bench_fla.py result")
    best = {}
    for r in fla["results"]:
        if "us_median" in r and (key(r) not in best or r["us_median"] < best[key(r)]["us_median"]):
            best[key(r)] = r
    runs = []
    for path in args.gdn:
        d = load(path)
        if d.get("benchmark") != "gdn-decode":
            sys.exit(f"compare: {path} is not a gdn bench result")
        chosen = {key(r): r for r in d["results"] if r.get("chosen") and r.get("check_ok")}
        runs.append((f"{d.get('launch', 'plain')}, {d.get('slots', 'random')} slots", d, chosen))

    end = fla.get("copy_gbps_end")
    end = "run cut off" if end is None else f"end {end:.0f}"
    print(f"FLA: {fla['device']}, copy ceiling {fla['copy_gbps']:.0f} GB/s ({end}); "
          + "; ".join(f"gdn {label}: revision {d['revision']}, copy {d['copy_gbps']:.0f} GB/s" for label, d, _ in runs))
    print()
    head = "| TP | B | layout | state | FLA best (shape) |"
    rule = "|---|---|---|---|---|"
    for label, _, _ in runs:
        head += f" gdn, {label} | / FLA |"
        rule += "---|---|"
    print(head)
    print(rule)
    slower = [0] * len(runs)
    for k in sorted(best):
        f = best[k]
        line = f"| {k[0]} | {k[1]} | {k[2]} | {k[3]} | {f['us_median']:.2f} ({f['variant'][4:]}) |"
        for i, (_, _, chosen) in enumerate(runs):
            g = chosen.get(k)
            if g is None:
                line += " | |"
                continue
            ratio = g["us_median"] / f["us_median"]
            slower[i] += ratio > 1
            line += f" {g['us_median']:.2f} ({g['pct_copy']:.0f}%) | {ratio:.3f} |"
        print(line)
    print()
    for (label, _, chosen), n in zip(runs, slower):
        shared = sum(1 for k in best if k in chosen)
        print(f"- gdn, {label}: slower than FLA's best in {n} of {shared} configurations")


if __name__ == "__main__":
    main()
