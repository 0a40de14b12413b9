#!/usr/bin/env python3
"""FLA's fused recurrent GDN kernel, timed on this machine by PERF.md's method, so that
`gdn bench` can be compared with its peer measured in the same session rather than with
figures from another H100.

The kernel is not part of this project: pass the root of a flash-linear-attention checkout
(--fla PATH, kept outside the repository or in an ignored folder). Only its Triton kernel
`fused_recurrent_gated_delta_rule_fwd_kernel` is imported (the package's __init__ files,
which pull in its models and their dependencies, are skipped) and it is called the way
PERF.md describes vLLM's decode: T = 1, raw gates (A_log, dt_bias, a) and beta's sigmoid in
the kernel, q and k L2-normalised in the kernel, the state read and written in place (h0 and
ht the same tensor), KV ([N, HV, K, V]) or VK ([N, HV, V, K], STATE_V_FIRST).

Method (PERF.md): inputs as `gdn bench` draws them (q, k, v, a, b ~ N(0, 1) in bf16, the state
~ N(0, 0.5^2) in its dtype, A_log and dt_bias as Qwen3-Next initialises them); input sets
rotated so that they cover >= 256 MB of state; one CUDA graph of R launches over them, 3
warm-up replays, the median of 15 timed replays / R, with min and max; the device-to-device
copy ceiling (bytes read + written) measured in the same process at the start and the end;
every configuration's output and state checked against a float64 evaluation of the same
step (FLA's conventions) before it is timed.

Grid: TP (H = 16 / TP, HV = 32 / TP, K = V = 128), B, layout, state dtype, and for each of
those BV in {8, 16, 32, 64, 128} x num_warps in {1, 2, 4, 8}: BV = 8 and BV = 32 with one
warp are PERF.md's plain table (before and after the seed PR), the best of all is its tuned
table. Writes JSON (--json) and prints a table of the best per configuration.
"""
import argparse
import importlib
import json
import math
import os
import statistics
import sys
import tempfile
import types

try:
    import torch
except ImportError:
    sys.exit("bench_fla: needs PyTorch (and Triton) with CUDA")

K = V = 128
WARMUP, REPLAYS = 3, 15


def import_fla_kernel(root):
    """The Triton kernel alone, without running the package's __init__ files."""
    root = os.path.abspath(root)
    if not os.path.isfile(os.path.join(root, "fla", "ops", "gated_delta_rule", "fused_recurrent.py")):
        sys.exit(f"bench_fla: {root} is not a flash-linear-attention checkout "
                 "(no fla/ops/gated_delta_rule/fused_recurrent.py)")
    sys.path.insert(0, root)
    for name in ("fla", "fla.ops", "fla.ops.utils", "fla.ops.gated_delta_rule"):
        pkg = types.ModuleType(name)
        pkg.__path__ = [os.path.join(root, *name.split("."))]
        pkg.__version__ = "checkout"  # fla.utils reads fla.__version__
        sys.modules[name] = pkg
    mod = importlib.import_module("fla.ops.gated_delta_rule.fused_recurrent")
    return mod.fused_recurrent_gated_delta_rule_fwd_kernel


def qwen_head_params(HV, gen):
    u = torch.rand(HV, generator=gen, dtype=torch.float64)
    A_log = torch.log1p(15.0 * u)
    u = torch.rand(HV, generator=gen, dtype=torch.float64)
    dt = torch.exp(math.log(1e-3) + (math.log(1e-1) - math.log(1e-3)) * u)
    dt_bias = dt + torch.log(-torch.expm1(-dt))
    return A_log.float().cuda(), dt_bias.float().cuda()


def reference_step(q, k, v, a, b, A_log, dt_bias, state, vk, scale):
    """One decode step in float64 with FLA's conventions. q, k [B, H, K]; v [B, HV, V]; a, b
    [B, HV]; state [B, HV, K, V] (KV) or [B, HV, V, K] (VK). Returns o [B, HV, V] and the
    new state in its layout."""
    d = torch.float64
    q, k, v, a, b = (x.to(d) for x in (q, k, v, a, b))
    S = state.to(d)
    if vk:
        S = S.transpose(-1, -2)  # [B, HV, K, V]
    HV, H = v.shape[1], q.shape[1]
    rep = HV // H
    q = q.repeat_interleave(rep, dim=1)
    k = k.repeat_interleave(rep, dim=1)
    q = q / torch.sqrt((q * q).sum(-1, keepdim=True) + 1e-6) * scale
    k = k / torch.sqrt((k * k).sum(-1, keepdim=True) + 1e-6)
    x = a + dt_bias.to(d)
    softplus = torch.where(x > 20, x, torch.log1p(torch.exp(x)))
    g = -torch.exp(A_log.to(d)) * softplus
    beta = torch.sigmoid(b)
    S = S * torch.exp(g)[..., None, None]
    u = beta[..., None] * (v - torch.einsum("nhk,nhkv->nhv", k, S))
    S = S + k[..., :, None] * u[..., None, :]
    o = torch.einsum("nhk,nhkv->nhv", q, S)
    if vk:
        S = S.transpose(-1, -2)
    return o, S


def rel_err(x, ref):
    return ((x.double() - ref).norm() / ref.norm().clamp_min(1e-300)).item()


def copy_gbps(nbytes=1 << 30):
    src = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(10):
        e0.record()
        dst.copy_(src)
        e1.record()
        e1.synchronize()
        times.append(e0.elapsed_time(e1) * 1e-3)
    return 2 * nbytes / statistics.median(times) / 1e9


def time_graph(launch, R):
    """Median, min and max us per launch over REPLAYS replays of one graph of R launches."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for i in range(R):  # compile and warm outside the capture
            launch(i)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for i in range(R):
            launch(i)
    for _ in range(WARMUP):
        g.replay()
    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    us = []
    for _ in range(REPLAYS):
        e0.record()
        g.replay()
        e1.record()
        e1.synchronize()
        us.append(e0.elapsed_time(e1) * 1e3 / R)
    del g
    return statistics.median(us), min(us), max(us)


def run_config(kernel, tp, B, layout, state, shapes, args, copy):
    H, HV = 16 // tp, 32 // tp
    vk = layout == "VK"
    sdt = torch.bfloat16 if state == "bf16" else torch.float32
    esize = 2 if state == "bf16" else 4
    set_bytes = B * HV * K * V * esize
    sets = max(1, -(-args.rotate_mb * (1 << 20) // set_bytes))
    R = max(sets, args.min_launches)
    gen = torch.Generator().manual_seed(args.seed * 1000003 + B * 131 + tp * 7 + vk * 3 + (state == "bf16"))
    cgen = torch.Generator(device="cuda").manual_seed(args.seed + B * 131 + tp * 7 + vk * 3)
    bf = torch.bfloat16
    q = torch.randn(sets, B, 1, H, K, device="cuda", generator=cgen).to(bf)
    k = torch.randn(sets, B, 1, H, K, device="cuda", generator=cgen).to(bf)
    v = torch.randn(sets, B, 1, HV, V, device="cuda", generator=cgen).to(bf)
    a = torch.randn(sets, B, 1, HV, device="cuda", generator=cgen).to(bf)
    b = torch.randn(sets, B, 1, HV, device="cuda", generator=cgen).to(bf)
    A_log, dt_bias = qwen_head_params(HV, gen)
    pool = (0.5 * torch.randn(sets, B, HV, K, V, device="cuda", generator=cgen)).to(sdt)
    o = torch.empty_like(v)
    scale = K ** -0.5
    # The float64 step of set 0, from a saved copy of its state, checks every shape's launch.
    before = pool[0].clone()
    o_ref, s_ref = reference_step(q[0, :, 0], k[0, :, 0], v[0, :, 0], a[0, :, 0], b[0, :, 0], A_log, dt_bias, before,
                                  vk, scale)
    rows = []
    for BV, warps in shapes:
        def launch(i, BV=BV, warps=warps):
            s = i % sets
            kernel[(V // BV * B * HV,)](
                q=q[s], k=k[s], v=v[s], g=a[s], gk=None, gv=None, beta=b[s], A_log=A_log, dt_bias=dt_bias,
                o=o[s], h0=pool[s], ht=pool[s], cu_seqlens=None, scale=scale, T=1, H=H, HV=HV, K=K, V=V,
                BK=K, BV=BV, IS_BETA_HEADWISE=True, USE_QK_L2NORM_IN_KERNEL=True, APPLY_BETA_SIGMOID=True,
                ALLOW_NEG_EIGVAL=False, STATE_V_FIRST=vk, num_warps=warps, num_stages=3)
        pool[0].copy_(before)  # the timing of the previous shape updated it
        launch(0)
        torch.cuda.synchronize()
        o_err, s_err = rel_err(o[0, :, 0], o_ref), rel_err(pool[0], s_ref)
        ok = o_err < args.max_rel_err and s_err < args.max_rel_err
        row = dict(tp=tp, H=H, HV=HV, K=K, V=V, batch=B, layout=layout, state=state, input="bf16",
                   variant=f"fla-bv{BV}-w{warps}", bv=BV, num_warps=warps, check_ok=ok, o_err_rel=o_err,
                   state_err_rel=s_err, input_sets=sets, launches_per_graph=R, state_bytes_moved=2 * set_bytes)
        if ok:
            med, lo, hi = time_graph(launch, R)
            gbps = 2 * set_bytes / (med * 1e-6) / 1e9
            row.update(us_median=round(med, 3), us_min=round(lo, 3), us_max=round(hi, 3), gbps=round(gbps, 1),
                       pct_copy=round(100 * gbps / copy, 2))
        else:
            print(f"check failed: TP={tp} B={B} {layout} {state} BV={BV} warps={warps}: o {o_err:.3g}, "
                  f"state {s_err:.3g}", file=sys.stderr)
        rows.append(row)
    del q, k, v, a, b, pool, o, before, o_ref, s_ref
    torch.cuda.empty_cache()
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fla", required=True, help="root of a flash-linear-attention checkout")
    ap.add_argument("--tp", default="4", help="comma-separated TP degrees (default 4)")
    ap.add_argument("--batch", default="1,8,32,64,128,256,512,1024")
    ap.add_argument("--layout", default="KV,VK")
    ap.add_argument("--state", default="bf16,fp32")
    ap.add_argument("--bv", default="8,16,32,64,128")
    ap.add_argument("--warps", default="1,2,4,8")
    ap.add_argument("--rotate-mb", type=int, default=256)
    ap.add_argument("--min-launches", type=int, default=32)
    ap.add_argument("--max-rel-err", type=float, default=3e-2, help="check: relative error of o and state")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the results here (atomically)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("bench_fla: no CUDA device")
    kernel = import_fla_kernel(args.fla)
    ints = lambda s: [int(x) for x in s.split(",") if x]
    shapes = [(bv, w) for bv in ints(args.bv) for w in ints(args.warps)]
    copy = copy_gbps()
    dev = torch.cuda.get_device_name()
    print(f"# {dev}, copy ceiling {copy:.0f} GB/s, FLA kernel, median of {REPLAYS} graph replays", flush=True)
    results = []

    def write(copy_end):
        """The JSON so far, rewritten after every configuration (atomically), so that a run
        cut off by a time limit keeps what it measured."""
        if not args.json:
            return
        out = dict(benchmark="fla_fused_recurrent", device=dev, copy_gbps=round(copy, 1),
                   copy_gbps_end=None if copy_end is None else round(copy_end, 1), replays=REPLAYS, launch="plain",
                   slots="sequential", torch=torch.__version__, results=results)
        d = os.path.dirname(os.path.abspath(args.json))
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".bench_fla.")
        with os.fdopen(fd, "w") as f:
            json.dump(out, f, indent=1)
        os.replace(tmp, args.json)

    for tp in ints(args.tp):
        for B in ints(args.batch):
            for layout in args.layout.split(","):
                for state in args.state.split(","):
                    rows = run_config(kernel, tp, B, layout, state, shapes, args, copy)
                    results += rows
                    write(None)
                    timed = [r for r in rows if "us_median" in r]
                    if timed:
                        best = min(timed, key=lambda r: r["us_median"])
                        print(f"TP={tp} B={B} {layout} {state}: best {best['variant']} {best['us_median']:.2f} us "
                              f"({best['pct_copy']:.0f}%)", flush=True)
    write(copy_gbps())
    failed = sum(1 for r in results if not r["check_ok"])
    if failed:
        sys.exit(f"bench_fla: {failed} configurations failed the float64 check")


if __name__ == "__main__":
    main()
