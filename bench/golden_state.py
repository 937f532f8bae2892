"""Writes the golden state that model/src/test/java/org/outlierlab/model/GoldenStateTest.java checks on every build.

Regenerate (only when the model is meant to change, and say why in the commit) with Debian's PyTorch:
    /usr/bin/python3 bench/golden_state.py
which rewrites model/src/test/resources/golden/{pre-ln,op}.txt.gz. The state is computed by bench/torch_model.py,
the transformer written again in PyTorch from docs/SCIENCE.md (the paper's setup), never from the Java code: the test then compares two
independent implementations, not the Java model with an earlier copy of itself.

For each block, a tiny model in float64 (vocab 16, d 8, 2 layers, 2 heads, 8 tokens, batch 2), seed 0:
  the settings below, the token batch [batch, seq + 1] (inputs are [:, :-1], next-token targets [:, 1:]), every
  initial parameter (param/<name>), the logits [batch·seq, vocab] and the mean cross-entropy at those weights,
  every parameter's gradient (grad/<name>), the kurtosis (Eq 1, SCIENCE.md §1.2) of the residual stream entering each block
  (site resid_attn_in_<l>), then five training steps on the same batch, each: gradient, clipping by global norm
  (torch's clip_grad_norm_), torch.optim.AdamW with eps after the bias correction (the Java EpsPlacement.TORCH) and
  decoupled weight decay on matrices only, at a constant learning rate; grad_norms are the norms before clipping,
  step_losses the loss after each update.

Format (gzip'd text): one line per tensor, `name shape values...`: the shape as [2,9] ([] for a scalar), the values
in row-major order, doubles as Python's repr (the shortest string that reads back to the same double).
"""
import gzip
import os

import numpy as np
import torch

from torch_model import TransformerLM

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model", "src", "test", "resources", "golden")
SHAPE = dict(vocab=16, d=8, layers=2, heads=2, seq=8, batch=2)
TRAIN = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, clip=1.0, steps=5)


def line(name, value):
    a = np.asarray(value)
    shape = "[" + ",".join(str(n) for n in a.shape) + "]"
    return " ".join([name, shape] + [repr(x) for x in a.reshape(-1).tolist()]) + "\n"


def golden(block):
    torch.manual_seed(0)
    s = SHAPE
    model = TransformerLM(block, s["layers"], s["d"], s["heads"], s["seq"], s["vocab"])
    rows = torch.randint(s["vocab"], (s["batch"], s["seq"] + 1))
    inputs, targets = rows[:, :-1], rows[:, 1:]
    lines = [line(k, v) for k, v in {**SHAPE, **TRAIN}.items()]
    lines.append(line("tokens", rows.numpy()))
    lines += [line("param/" + name, p.detach().numpy()) for name, p in model.p.items()]

    streams = model.hidden(inputs)
    logits = streams[-1] @ model.p["lm_head"]
    loss = model.loss(inputs, targets)
    loss.backward()
    lines.append(line("logits", logits.detach().reshape(-1, s["vocab"]).numpy()))
    lines.append(line("loss", loss.item()))
    lines += [line("grad/" + name, p.grad.numpy()) for name, p in model.p.items()]
    lines.append(line("kurtosis", [kurtosis(h.detach()) for h in streams[:-1]]))

    t = TRAIN
    opt = model.adamw(lr=t["lr"], betas=(t["beta1"], t["beta2"]), eps=t["eps"], weight_decay=t["weight_decay"])
    norms, losses = [], []
    for _ in range(t["steps"]):
        opt.zero_grad(set_to_none=True)
        model.loss(inputs, targets).backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), t["clip"]).item())
        opt.step()
        with torch.no_grad():
            losses.append(model.loss(inputs, targets).item())
    lines.append(line("grad_norms", norms))
    lines.append(line("step_losses", losses))
    return lines


def kurtosis(h):
    """Eq 1 (SCIENCE.md §1.2) over the token rows: m_j = mean_t x_tj² / mean x², Kurt = mean_j m_j² / (mean_j m_j)²."""
    x = h.reshape(-1, h.size(-1))
    m = x.pow(2).mean(0) / x.pow(2).mean()
    return (m.pow(2).mean() / m.mean().pow(2)).item()


def main():
    torch.set_default_dtype(torch.float64)
    os.makedirs(OUT, exist_ok=True)
    for block in ("pre-ln", "op"):
        path = os.path.join(OUT, block + ".txt.gz")
        with gzip.GzipFile(path, "wb", mtime=0) as f:  # mtime 0: the same state gives the same bytes
            f.write("".join(golden(block)).encode())
        print("%s: %d bytes" % (os.path.relpath(path), os.path.getsize(path)))


if __name__ == "__main__":
    main()
