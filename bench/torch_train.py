"""The training benchmark's peer: the same Pre-LN transformer in PyTorch (the pip wheel, or Debian's python3-torch).

Same shapes and parts as Outlier Lab's pre-ln model (torch_model.py): learned positions, LayerNorm (eps 1e-5)
before attention and MLP, Q/K biases, no other biases, ReLU MLP of width 4d, untied unembedding, N(0, 0.02)
init, AdamW with weight decay on matrices, clipping at 1.0. Prints one JSON object.
usage: python3 torch_train.py <label> <layers> <d> <heads> <seq> <batch> <vocab> <steps> <warmup> <threads> <warmup_s>
       [<peer name>]
"""
import json
import sys
import time

import torch

from torch_model import TransformerLM


def gemm_peak():
    n = 2048
    x, y = torch.rand(n, n), torch.rand(n, n)
    rates = []
    for r in range(6):
        start = time.perf_counter()
        torch.mm(x, y)
        s = time.perf_counter() - start
        if r > 0:
            rates.append(2 * n ** 3 / s / 1e9)
    return sorted(rates)[2]


def blas():
    """The BLAS this PyTorch multiplies with, from its build configuration."""
    config = torch.__config__.show()
    if "Math Kernel Library" in config or torch.backends.mkl.is_available():
        return "MKL" + (" + oneDNN" if torch.backends.mkldnn.is_available() else "")
    return "OpenBLAS" if "openblas" in config.lower() or "openblas" in open("/proc/self/maps").read() else "other"


def main():
    label = sys.argv[1]
    layers, d, heads, seq, batch, vocab, steps, warmup, threads = map(int, sys.argv[2:11])
    warmup_s = float(sys.argv[11])
    peer = sys.argv[12] if len(sys.argv) > 12 else "pytorch"
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = TransformerLM("pre-ln", layers, d, heads, seq, vocab)
    opt = model.adamw(lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)

    def train_step():
        ids = torch.randint(vocab, (batch, seq))
        targets = torch.randint(vocab, (batch, seq))
        loss = model.loss(ids, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    # the same warm-up rule as the Java side: at least `warmup` steps and `warmup_s` seconds
    warmup_end = time.perf_counter() + warmup_s
    warmup_steps = 0
    while warmup_steps < warmup or time.perf_counter() < warmup_end:
        train_step()
        warmup_steps += 1
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        train_step()
        times.append(time.perf_counter() - start)
    median = sorted(times)[len(times) // 2]
    non_embedding = sum(p.numel() for n, p in model.p.items() if n not in ("wte", "wpe"))
    flops_per_token = 6.0 * non_embedding + 12.0 * layers * seq * d
    tokens_per_s = batch * seq / median
    peak = gemm_peak()
    print(json.dumps({
        "impl": "pytorch %s (%s, %d threads)" % (torch.__version__, blas(), threads),
        "peer": peer,
        "config": label,
        "threads": threads,
        "warmup_steps": warmup_steps,
        "step_s_median": median,
        "tokens_per_s": round(tokens_per_s),
        "model_gflops_per_s": round(flops_per_token * tokens_per_s / 1e9, 1),
        "sgemm_peak_gflops_per_s": round(peak, 1),
        "fraction_of_peak": round(flops_per_token * tokens_per_s / 1e9 / peak, 3),
        "step_s": times,
    }))


if __name__ == "__main__":
    main()
