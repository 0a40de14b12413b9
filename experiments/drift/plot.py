#!/usr/bin/env python3
"""Plots the CSVs of `gdn drift` (one panel per CSV): output error of each precision policy
against the float64 oracle over the tokens of a long run, with the error model's bounds."""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd


def panel(ax, path, title):
    d = pd.read_csv(path)
    t = d["token_end"]
    for name, style, ls in [
        ("fp32", "C0", "-"),
        ("bf16-fp32state", "C1", "-"),
        ("bf16-bf16state", "C3", "-"),
        ("bf16-bf16state-stochastic", "C2", "-"),
        ("bf16-bf16state-beta-decay-bf16", "C4", "-."),  # often on top of bf16-bf16state
    ]:
        ax.plot(t, d[f"rms_err_{name}"] / d["rms_ref"], style, ls=ls, lw=1.4, label=f"{name} (RMS error)")
    for prof, style in [("bf16-fp32state", "C1"), ("bf16-bf16state", "C3")]:
        ax.plot(t, d[f"median_bound-worst-case-{prof}"] / d["rms_ref"], style, ls="--", lw=1,
                label=f"worst-case bound, {prof} (median)")
        ax.plot(t, d[f"median_bound-probabilistic-{prof}"] / d["rms_ref"], style, ls=":", lw=1,
                label=f"probabilistic bound, {prof} (median)")
    ax.set_yscale("log")
    ax.set_xlabel("token")
    ax.set_ylabel("output error / RMS(output)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)


def main():
    if len(sys.argv) < 4 or len(sys.argv) % 2 != 0:
        sys.exit("usage: plot.py OUT.png CSV TITLE [CSV TITLE ...]")
    out, pairs = sys.argv[1], list(zip(sys.argv[2::2], sys.argv[3::2]))
    fig, axes = plt.subplots(1, len(pairs), figsize=(7.5 * len(pairs), 5.5), squeeze=False)
    for ax, (path, title) in zip(axes[0], pairs):
        panel(ax, path, title)
    axes[0][0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
