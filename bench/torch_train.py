"""The training benchmark's peer: the same Pre-LN transformer in PyTorch (Debian python3-torch, OpenBLAS).

Same shapes and parts as Outlier Lab's pre-ln model: learned positions, LayerNorm (eps 1e-5) before attention
and MLP, Q/K biases, no other biases, ReLU MLP of width 4d, untied unembedding, N(0, 0.02) init, AdamW with
weight decay on matrices, clipping at 1.0. Prints one JSON object.
usage: python3 torch_train.py <label> <layers> <d> <heads> <seq> <batch> <vocab> <steps> <warmup> <threads>
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln_attn = nn.LayerNorm(d, eps=1e-5)
        self.wq = nn.Linear(d, d, bias=True)
        self.wk = nn.Linear(d, d, bias=True)
        self.wv = nn.Linear(d, d, bias=False)
        self.wo = nn.Linear(d, d, bias=False)
        self.ln_mlp = nn.LayerNorm(d, eps=1e-5)
        self.w1 = nn.Linear(d, 4 * d, bias=False)
        self.w2 = nn.Linear(4 * d, d, bias=False)

    def forward(self, h, mask):
        b, t, d = h.shape
        x = self.ln_attn(h)
        q, k, v = (w(x).view(b, t, self.heads, d // self.heads).transpose(1, 2) for w in (self.wq, self.wk, self.wv))
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.heads) + mask
        a = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        h = h + self.wo(a)
        return h + self.w2(F.relu(self.w1(self.ln_mlp(h))))


class Model(nn.Module):
    def __init__(self, layers, d, heads, seq, vocab):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Parameter(torch.zeros(seq, d))
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.lm_head = nn.Linear(d, vocab, bias=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)
            elif "bias" in name:
                nn.init.zeros_(p)
        self.register_buffer("mask", torch.full((seq, seq), -1e9).triu(1))

    def forward(self, ids, targets):
        h = self.wte(ids) + self.wpe
        for block in self.blocks:
            h = block(h, self.mask)
        logits = self.lm_head(h)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


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


def main():
    label = sys.argv[1]
    layers, d, heads, seq, batch, vocab, steps, warmup, threads = map(int, sys.argv[2:11])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Model(layers, d, heads, seq, vocab)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    times = []
    for s in range(warmup + steps):
        ids = torch.randint(vocab, (batch, seq))
        targets = torch.randint(vocab, (batch, seq))
        start = time.perf_counter()
        loss = model(ids, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if s >= warmup:
            times.append(time.perf_counter() - start)
    median = sorted(times)[len(times) // 2]
    non_embedding = sum(p.numel() for n, p in model.named_parameters() if n not in ("wte.weight", "wpe"))
    flops_per_token = 6.0 * non_embedding + 12.0 * layers * seq * d
    tokens_per_s = batch * seq / median
    peak = gemm_peak()
    print(json.dumps({
        "impl": "pytorch %s (%s BLAS, %d threads)" % (torch.__version__, "OpenBLAS" if "openblas" in open("/proc/self/maps").read() else "other", threads),
        "config": label,
        "threads": threads,
        "step_s_median": median,
        "tokens_per_s": round(tokens_per_s),
        "model_gflops_per_s": round(flops_per_token * tokens_per_s / 1e9, 1),
        "sgemm_peak_gflops_per_s": round(peak, 1),
        "fraction_of_peak": round(flops_per_token * tokens_per_s / 1e9 / peak, 3),
        "step_s": times,
    }))


if __name__ == "__main__":
    main()
