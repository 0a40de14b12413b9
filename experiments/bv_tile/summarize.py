#!/usr/bin/env python3
"""Tables from a `gdn bench --json` file: the BV sweep (the seed PRs' BV 8 -> 32 effect on our
kernel), the tuning candidates, and the final table of each family's choice against the
targets of ../shared/PERF.md and FLA's best measured figure.

usage: summarize.py BENCH.json [--choices CHOICES.txt]

--choices: the output of `gdn kernels --choices` (TP, B, family, variant, arithmetic build per
line; the build is not applied: the times are the JSON's) replaces the
"chosen" flags recorded in the JSON, so that a run's measurements can be read with the tile
choice of a later build (every variant of the grid is measured in each run).
"""
import json
import sys
from collections import defaultdict

# FLA fused_recurrent, best of its plain and tuned tables in PERF.md (H100, TP=4, us per
# launch); None where PERF.md has no figure. TP=2 takes twice the time (PERF.md).
FLA_BEST_TP4 = {
    "bf16": {1: 2.46, 8: 5.1, 32: 8.77, 128: 31.6, 256: 54.5, 512: 113.7, 1024: 204.0},
    "fp32": {1: 3.02, 32: 14.52, 256: 95.9, 1024: 363.4},
}


def fla_best(tp, state, batch):
    t = FLA_BEST_TP4[state].get(batch)
    if t is None:
        return None
    return t * (2 if tp == 2 else 1)


def target_pct(state, batch):
    if state == "bf16" and batch >= 128:
        return 92.0
    if state == "fp32" and batch >= 256:
        return 95.0
    return None


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    with open(sys.argv[1]) as f:
        bench = json.load(f)
    if "--choices" in sys.argv:
        picks = {}
        with open(sys.argv[sys.argv.index("--choices") + 1]) as f:
            for line in f:
                tp, batch, family, variant = line.split()[:4]  # a fifth column: the arithmetic build
                picks[(int(tp), int(batch), family)] = variant
        for r in bench["results"]:
            family = r["variant"].split("-bv")[0]
            r["chosen"] = picks.get((r["tp"], r["batch"], family)) == r["variant"]
    rows = [r for r in bench["results"] if r["check_ok"]]
    failed = [r for r in bench["results"] if not r["check_ok"]]
    launch = bench.get("launch", "plain")
    print(f"# {bench['device']['name']}, revision {bench['revision']}, copy ceiling {bench['copy_gbps']:.0f} GB/s "
          f"(end of run {bench['copy_gbps_end']:.0f}), median of {bench['replays']} graph replays, {launch} launches, "
          f"{bench.get('slots', 'random')} slots")
    if failed:
        print(f"\n{len(failed)} variants FAILED their correctness check: " +
              ", ".join(f"{r['variant']} TP{r['tp']} B{r['batch']}" for r in failed))

    by_cfg = defaultdict(list)
    for r in rows:
        by_cfg[(r["tp"], r["batch"], r["layout"], r["state"])].append(r)

    print("\n## BV sweep (default launch shape: threads = K*BV/32), us per launch and % of copy")
    bvs = sorted({r["bv"] for r in rows if not is_tuning(r)})
    print("| TP | B | layout | state | " + " | ".join(f"BV{b}" for b in bvs) + " |")
    print("|---" * (4 + len(bvs)) + "|")
    for key in sorted(by_cfg):
        cells = []
        for b in bvs:
            m = [r for r in by_cfg[key] if r["bv"] == b and not is_tuning(r)]
            cells.append(f"{m[0]['us_median']:.2f} ({m[0]['pct_copy']:.0f}%)" if m else "-")
        print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | " + " | ".join(cells) + " |")

    tuning = [r for r in rows if is_tuning(r)]
    if tuning:
        print("\n## Tuning candidates against the default shape of the same tile")
        print("| TP | B | layout | state | variant | us | default us | ratio |")
        print("|---|---|---|---|---|---|---|---|")
        for r in sorted(tuning, key=lambda r: (r["tp"], r["batch"], r["layout"], r["state"], r["variant"])):
            base = [d for d in by_cfg[(r["tp"], r["batch"], r["layout"], r["state"])]
                    if d["bv"] == r["bv"] and not is_tuning(d)]
            if base:
                b = base[0]["us_median"]
                print(f"| {r['tp']} | {r['batch']} | {r['layout']} | {r['state']} | {r['variant']} | "
                      f"{r['us_median']:.2f} | {b:.2f} | {r['us_median'] / b:.3f} |")

    print("\n## Final: the family's choice per configuration (and the best variant measured)")
    print("| TP | B | layout | state | chosen | us [min, max] | GB/s | % copy | target | FLA best us | best variant (us) | verdict |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    misses = 0
    for key in sorted(by_cfg):
        tp, batch, layout, state = key
        chosen = [r for r in by_cfg[key] if r["chosen"]]
        best = min(by_cfg[key], key=lambda r: r["us_median"])
        if not chosen:
            continue
        c = chosen[0]
        tgt = target_pct(state, batch)
        fla = fla_best(tp, state, batch)
        notes = []
        if tgt is not None and c["pct_copy"] < tgt:
            notes.append(f"below {tgt:.0f}%")
        if fla is not None and c["us_median"] > fla:
            notes.append("slower than FLA")
        if tp == 4 and state == "bf16" and batch == 32 and c["us_median"] > 7.0:
            notes.append("above 7 us")
        if batch == 1 and c["us_median"] > 2.5:
            notes.append("above 2.5 us")
        misses += bool(notes)
        print(f"| {tp} | {batch} | {layout} | {state} | {c['variant']} | {c['us_median']:.2f} "
              f"[{c['us_min']:.2f}, {c['us_max']:.2f}] | {c['gbps']:.0f} | {c['pct_copy']:.1f} | "
              f"{'' if tgt is None else f'{tgt:.0f}%'} | {'' if fla is None else f'{fla:.2f}'} | "
              f"{best['variant']} ({best['us_median']:.2f}) | {'; '.join(notes) if notes else 'ok'} |")
    print(f"\n{misses} configurations miss a target")

    floors = {(f["tp"], f["batch"], f["layout"], f["state"]): f for f in bench.get("floors", [])}
    if floors:
        print("\n## Floors of the same run: an empty kernel with the chosen grid, and the slot + state round trip "
              "(reads each sequence's slot, then its state, writes it back: nothing else), us per launch")
        print("| TP | B | layout | state | chosen us | empty kernel us | round trip us (% copy) | chosen / round trip |")
        print("|---|---|---|---|---|---|---|---|")
        for key in sorted(by_cfg):
            chosen = [r for r in by_cfg[key] if r["chosen"]]
            f = floors.get(key)
            if not chosen or not f:
                continue
            c = chosen[0]
            pct = 100.0 * f["state_bytes_moved"] / (f["round_trip_us"] * 1e-6) * 1e-9 / bench["copy_gbps"]
            print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {c['us_median']:.2f} | {f['empty_us']:.2f} | "
                  f"{f['round_trip_us']:.2f} ({pct:.0f}%) | {c['us_median'] / f['round_trip_us']:.2f} |")
    return 0


def is_tuning(r):
    return "-t" in r["variant"].split("-bv")[1] or "-o" in r["variant"].split("-bv")[1]


if __name__ == "__main__":
    sys.exit(main())
