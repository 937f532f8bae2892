"""The cross-check's peer: repeats Outlier Lab's training run (CrossCheck.java) in PyTorch and compares the two.

Reads what CrossCheck wrote into <dir>: java.json (settings and results), params/<name>.npy (initial parameters),
batches.npy and probe.npy (token rows). Loads the parameters into torch_model.TransformerLM, trains on the same
batches with torch.optim.AdamW (weight decay on matrices only), torch's clip_grad_norm_, the train job's learning
rate schedule written again here, and the mean cross-entropy; measures the same kurtosis (Eq 1 of SCIENCE.md §1.2, via
numpy_metrics.statistics) on the same probe rows at the same steps. Writes <dir>/torch.json and
<dir>/steps.jsonl, prints JSON lines (some steps, the kurtosis at each probe step, a summary) and exits 1 when a
check fails (see TOLERANCES).
usage: python3 torch_crosscheck.py <dir> <threads>
"""
import json
import os
import sys
import time

import numpy as np
import torch

from numpy_metrics import statistics
from torch_model import TransformerLM

# Checked per dtype. first_loss, first_grad_norm: relative differences at the first step (forward and backward
# on the same weights); first_steps: the largest relative loss difference over the first `k` steps (clipping and
# AdamW updates compound); kurtosis_init: the largest relative difference of a layer's kurtosis before training;
# lr: of every step's learning rate; tail: the mean absolute loss difference over the last tenth of the steps, a
# loose bound on how far the curves drift apart (in float32 the two engines' rounding differences grow through
# training; in float64 they stay at rounding level: see docs/BENCHMARKS.md).
TOLERANCES = {
    "float": {"first_loss": 1e-5, "first_grad_norm": 1e-4, "k": 5, "first_steps": 1e-4, "kurtosis_init": 1e-6,
              "lr": 1e-12, "tail": 0.05},
    "double": {"first_loss": 1e-12, "first_grad_norm": 1e-12, "k": 10, "first_steps": 1e-11, "kurtosis_init": 1e-12,
               "lr": 1e-12, "tail": 1e-6},
}


def learning_rate(s, step):
    """Linear warm-up to the peak over `warmup` steps, then linear decay to min_lr at the last step."""
    peak, warmup, total, floor = s["lr"], s["warmup"], s["steps"], s["min_lr"]
    if step < warmup:
        return peak * (step + 1) / warmup
    if total <= warmup:
        return peak
    return peak + (floor - peak) * min(1.0, (step - warmup) / (total - warmup))


def kurtosis(model, ids):
    with torch.no_grad():
        return [statistics(h.reshape(-1, h.size(-1)).float().numpy(), False)["kurtosis"] for h in model.hidden(ids)]


def train(s, directory, dtype):
    torch.manual_seed(0)  # the model's own init is overwritten by the loaded parameters
    model = TransformerLM(s["block"], s["layers"], s["d"], s["heads"], s["seq"], s["vocab"]).to(dtype)
    model.load({p["name"]: np.load(os.path.join(directory, "params", p["name"] + ".npy")) for p in s["params"]})
    batches = torch.from_numpy(np.load(os.path.join(directory, "batches.npy"))).long()
    probe = torch.from_numpy(np.load(os.path.join(directory, "probe.npy"))).long()[:, :-1]
    opt = model.adamw(lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"], weight_decay=s["weight_decay"])
    probe_steps = [0, s["steps"] // 2, s["steps"]]
    out = {"loss": [], "lr": [], "grad_norm": [], "kurtosis": {}, "step_s": []}
    for k in range(s["steps"] + 1):
        if k in probe_steps:
            out["kurtosis"][str(k)] = kurtosis(model, probe)
        if k == s["steps"]:
            break
        start = time.perf_counter()
        lr = learning_rate(s, k)
        for group in opt.param_groups:
            group["lr"] = lr
        rows = batches[k]
        loss = model.loss(rows[:, :-1], rows[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), s["clip"])
        opt.step()
        out["step_s"].append(time.perf_counter() - start)
        out["loss"].append(loss.item())
        out["lr"].append(lr)
        out["grad_norm"].append(norm.item())
    out["step_s_median"] = sorted(out["step_s"])[len(out["step_s"]) // 2]
    return out


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def compare(s, java, peer):
    """JSON lines (every step, the kurtosis per probe step) and the summary with its checks."""
    tol = TOLERANCES[s["dtype"]]
    tag = {"block": s["block"], "dtype": s["dtype"]}
    steps = []
    for k, (lj, lt) in enumerate(zip(java["loss"], peer["loss"])):
        steps.append(dict(crosscheck="step", **tag, step=k, lr=java["lr"][k], loss_java=lj, loss_torch=lt,
                          loss_abs_diff=abs(lj - lt), grad_norm_java=java["grad_norm"][k],
                          grad_norm_torch=peer["grad_norm"][k]))
    kurt = []
    for k in sorted(java["kurtosis"], key=int):
        kj, kt = java["kurtosis"][k], peer["kurtosis"][k]
        kurt.append(dict(crosscheck="kurtosis", **tag, step=int(k), sites=s["sites"], java=kj, torch=kt,
                         max_rel_diff=max(rel(a, b) for a, b in zip(kj, kt))))
    n, k = len(steps), min(tol["k"], len(steps))
    loss_rel = [rel(a, b) for a, b in zip(java["loss"], peer["loss"])]
    diffs = [x["loss_abs_diff"] for x in steps]
    tail = diffs[-max(1, n // 10):]
    checks = {
        "first_loss_rel_diff": (loss_rel[0], tol["first_loss"]),
        "first_grad_norm_rel_diff": (rel(java["grad_norm"][0], peer["grad_norm"][0]), tol["first_grad_norm"]),
        "max_loss_rel_diff_first_%d" % k: (max(loss_rel[:k]), tol["first_steps"]),
        "max_kurtosis_rel_diff_at_0": (kurt[0]["max_rel_diff"], tol["kurtosis_init"]),
        "max_lr_rel_diff": (max(rel(a, b) for a, b in zip(java["lr"], peer["lr"])), tol["lr"]),
        "mean_loss_abs_diff_last_10pct": (sum(tail) / len(tail), tol["tail"]),
    }
    summary = dict(crosscheck="summary", **tag, steps=n, tokens=s["tokens"],
                   shape="L=%d d=%d H=%d T=%d B=%d V=%d" % (s["layers"], s["d"], s["heads"], s["seq"], s["batch"],
                                                            s["vocab"]),
                   max_loss_abs_diff=max(diffs),
                   first_loss_java=java["loss"][0], first_loss_torch=peer["loss"][0],
                   final_loss_java=java["loss"][-1], final_loss_torch=peer["loss"][-1],
                   kurtosis_final_java=kurt[-1]["java"], kurtosis_final_torch=kurt[-1]["torch"],
                   step_s_median_java=java["step_s_median"], step_s_median_torch=peer["step_s_median"],
                   checks={name: {"value": v, "tolerance": t, "ok": v <= t} for name, (v, t) in checks.items()})
    summary["ok"] = all(c["ok"] for c in summary["checks"].values())
    return steps, kurt, summary


def main():
    directory, threads = sys.argv[1], int(sys.argv[2])
    torch.set_num_threads(threads)
    with open(os.path.join(directory, "java.json")) as f:
        java = json.load(f)
    s = java["settings"]
    peer = train(s, directory, {"float": torch.float32, "double": torch.float64}[s["dtype"]])
    peer["impl"] = "pytorch %s (%d threads)" % (torch.__version__, threads)
    with open(os.path.join(directory, "torch.json"), "w") as f:
        json.dump(peer, f)
    steps, kurt, summary = compare(s, java, peer)
    with open(os.path.join(directory, "steps.jsonl"), "w") as f:
        f.writelines(json.dumps(x) + "\n" for x in steps)
    shown = set(range(min(10, len(steps)))) | set(range(0, len(steps), max(1, len(steps) // 10))) | {len(steps) - 1}
    for x in steps:
        if x["step"] in shown:
            print(json.dumps(x))
    for x in kurt:
        print(json.dumps(x))
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
