"""The quant-eval peer: an independent fake-quantised evaluation in PyTorch of the checkpoint QuantCrossCheck.java
evaluated, compared with Outlier Lab's numbers.

Reads what QuantCrossCheck wrote into <dir>: java.json (the model's shape, the protocols, Java's losses and
timings), params/<name>.npy (the checkpoint's parameters), eval.npy and calibration.npy (int32 [batches, B, T + 1]
token rows). Builds torch_model.TransformerLM, loads the parameters, and for each protocol calibrates its own static
ranges on the calibration batches (running min-max with momentum, optional percentiles) from the float model's
activations at the protocol's sites, then evaluates the batches in full precision and fake-quantised, written
from SCIENCE.md §5.1, not translated from the Java. Checks, per protocol: its calibrated grids equal Java's within
SCALE_TOLERANCE (scales, relative) and one code (zero points); on Java's grids its quantised perplexity equals
Java's within TOLERANCE (relative); the full-precision perplexity too. With its own grids the perplexity is
reported beside (values on a rounding boundary may land on the next code). Prints a JSON line per protocol and a
summary; exits 1 when a check fails.
usage: python3 torch_quant.py <dir> <threads>
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch

from torch_model import TransformerLM

TOLERANCE = 1e-4
# The peer's calibrated scales against Java's: both come from float activations, which the two engines round
# differently in the last bits.
SCALE_TOLERANCE = 1e-5


def round_half_away(v):
    """C's round(): half away from zero, exactly (the fractional part of a float is exact)."""
    whole = torch.trunc(v)
    return whole + torch.sign(v) * (torch.abs(v - whole) >= 0.5).to(v.dtype)


def grid(bits, signed):
    return (-(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1) if signed else (0, 2 ** bits - 1)


def scale_zero(bits, signed, lo, hi):
    """The grid that covers [lo, hi]: symmetric max(|lo|, |hi|) / q_max, or asymmetric with the range holding 0."""
    q_min, q_max = grid(bits, signed)
    if signed:
        return max(max(abs(lo), abs(hi)) / q_max, 1e-30), 0.0
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    s = max((hi - lo) / q_max, 1e-30)
    z = math.copysign(math.floor(abs(-lo / s) + 0.5), -lo / s)
    return s, float(min(max(z, q_min), q_max))


def fake_quant(x, s, z, q_min, q_max):
    """(clamp(round(x / s) + z) - z) * s, each step in x's precision; s and z tensors broadcast on the last axis."""
    return (torch.clamp(round_half_away(x / s) + z, q_min, q_max) - z) * s


def weight_quantiser(w, spec):
    bits, per_channel = spec["bits"], spec["granularity"] == "channel"
    q_min, q_max = grid(bits, True)
    values = w.detach().double().numpy()
    columns = [values[:, c] for c in range(values.shape[1])] if per_channel else [values.reshape(-1)]
    scales = []
    for col in columns:
        max_abs = float(np.abs(col).max())
        best = max_abs
        if spec["range"] == "mse":
            best_error = math.inf
            for k in range(100, 0, -1):
                r = max_abs * k / 100
                s = scale_zero(bits, True, -r, r)[0]
                error = float(((col - np.clip(np.sign(col / s) * np.floor(np.abs(col / s) + 0.5), q_min, q_max) * s)
                               ** 2).sum())
                if error < best_error:
                    best, best_error = r, error
        scales.append(scale_zero(bits, True, -best, best)[0])
    s = torch.tensor(scales if per_channel else scales[0], dtype=w.dtype)
    return lambda x: fake_quant(x, s, 0.0, q_min, q_max)


def per_token(bits):
    q_min, q_max = grid(bits, True)

    def quantise(x):
        s = torch.clamp(x.abs().amax(-1, keepdim=True) / q_max, min=1e-30)
        return torch.clamp(round_half_away(x / s), q_min, q_max) * s
    return quantise


def kind(site):
    head, _, tail = site.rpartition("_")
    return head if tail.isdigit() else site


def calibrate(model, spec, batches, seq):
    """Each activation site's static range: each batch's extremes (or percentiles) folded in a running min-max."""
    a = spec["activations"]
    ranges = {}

    def record(site, x):
        if kind(site) in spec["activation_sites"]:
            v = x.detach().double().numpy().reshape(-1)
            if a["percentile"] < 100:
                lo, hi = np.percentile(v, [100 - a["percentile"], a["percentile"]])
            else:
                lo, hi = v.min(), v.max()
            if site in ranges:
                m = a["momentum"]
                ranges[site] = (m * ranges[site][0] + (1 - m) * lo, m * ranges[site][1] + (1 - m) * hi)
            else:
                ranges[site] = (float(lo), float(hi))
        return x

    model.at = record
    with torch.no_grad():
        for rows in batches[:a["calibration_batches"]]:
            model.hidden(torch.as_tensor(rows[:, :seq]).long())
    model.at = lambda site, x: x
    return ranges


def own_grids(model, spec, batches, seq):
    """Each static activation site's (scale, zero point), from this peer's own calibration."""
    a = spec["activations"]
    if a["granularity"] != "tensor":
        return {}
    return {site: scale_zero(a["bits"], a["symmetric"], *r) for site, r in calibrate(model, spec, batches, seq).items()}


def quantised(model, spec, grids):
    """The site hook that fake-quantises as the protocol says, static activations on the given grids."""
    a = spec["activations"]
    q_min, q_max = grid(a["bits"], a["symmetric"])
    weights = {}
    token = per_token(a["bits"])
    dtype = next(iter(model.p.values())).dtype

    def at(site, x):
        if "_weight" in site:
            if kind(site) not in spec["weight_sites"]:
                return x
            if site not in weights:
                weights[site] = weight_quantiser(x, spec["weights"])
            return weights[site](x)
        if kind(site) not in spec["activation_sites"]:
            return x
        if a["granularity"] == "token":
            return token(x)
        s, z = grids[site]
        return fake_quant(x, torch.tensor(s, dtype=dtype), torch.tensor(z, dtype=dtype), q_min, q_max)
    return at


def evaluate(model, batches, seq):
    total = 0.0
    with torch.no_grad():
        for rows in batches:
            ids = torch.as_tensor(rows[:, :seq]).long()
            targets = torch.as_tensor(rows[:, 1:seq + 1]).long()
            total += float(model.loss(ids, targets)) * ids.numel()
    return total


def main():
    out, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    java = json.load(open(os.path.join(out, "java.json")))
    dtype = torch.float64 if java["dtype"] == "double" else torch.float32
    torch.set_default_dtype(dtype)
    m = java["model"]
    model = TransformerLM(m["block"], m["layers"], m["d"], m["heads"], m["seq"], m["vocab"],
                          embedding_scale=m["embedding_scale"])
    params = {f[:-4]: np.load(os.path.join(out, "params", f)) for f in os.listdir(os.path.join(out, "params"))}
    model.load(params)
    evals, calibration = np.load(os.path.join(out, "eval.npy")), np.load(os.path.join(out, "calibration.npy"))
    seq, tokens = m["seq"], java["tokens"]
    start = time.perf_counter()
    fp = evaluate(model, evals, seq) / tokens
    fp_seconds = time.perf_counter() - start
    status = 0
    fp_diff = abs(math.exp(fp) - math.exp(java["fp_loss"])) / math.exp(java["fp_loss"])
    for p in java["protocols"]:
        own = own_grids(model, p, calibration, seq)
        javas = {site: (g["scale"], g["zero_point"]) for site, g in p["static_activations"].items()}
        if set(own) != set(javas):
            raise SystemExit("calibrated sites differ: only here %s, only in Java %s"
                             % (sorted(set(own) - set(javas)), sorted(set(javas) - set(own))))
        scale_diff = max([abs(own[k][0] - javas[k][0]) / javas[k][0] for k in own] or [0.0])
        zero_diff = max([abs(own[k][1] - javas[k][1]) for k in own] or [0.0])
        results = {}
        for label, grids in (("java_grids", javas), ("own_grids", own)):
            model.at = quantised(model, p, grids)
            start = time.perf_counter()
            results[label] = (evaluate(model, evals, seq) / tokens, time.perf_counter() - start)
            model.at = lambda site, x: x
        java_ppl = math.exp(p["q_loss"])
        diff = abs(math.exp(results["java_grids"][0]) - java_ppl) / java_ppl
        own_diff = abs(math.exp(results["own_grids"][0]) - java_ppl) / java_ppl
        # The checks: the same calibration (grids within float rounding), and on the same grids the same
        # perplexity; with the peer's own grids a value on a rounding boundary may land on the next code, which is
        # reported (it is the end-to-end difference) but not a failure.
        ok = diff <= TOLERANCE and fp_diff <= TOLERANCE and scale_diff <= SCALE_TOLERANCE and zero_diff <= 1
        status |= 0 if ok else 1
        seconds = results["own_grids"][1]
        print(json.dumps({"protocol": p["name"], "java_fp_ppl": math.exp(java["fp_loss"]), "torch_fp_ppl": math.exp(fp),
                          "java_q_ppl": java_ppl, "torch_q_ppl_java_grids": math.exp(results["java_grids"][0]),
                          "q_ppl_rel_diff": diff, "torch_q_ppl_own_grids": math.exp(results["own_grids"][0]),
                          "q_ppl_rel_diff_own_grids": own_diff, "calibrated_sites": len(own),
                          "max_scale_rel_diff": scale_diff, "max_zero_point_diff": zero_diff,
                          "java_tokens_per_s": tokens / p["seconds"], "torch_tokens_per_s": tokens / seconds,
                          "java_over_torch": (tokens / p["seconds"]) / (tokens / seconds), "ok": ok}))
    print(json.dumps({"summary": True, "block": m["block"], "tokens": tokens, "fp_ppl_rel_diff": fp_diff,
                      "java_fp_tokens_per_s": tokens / java["fp_seconds"], "torch_fp_tokens_per_s": tokens / fp_seconds,
                      "threads": threads, "ok": status == 0}))
    sys.exit(status)


if __name__ == "__main__":
    main()
