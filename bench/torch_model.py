"""Outlier Lab's transformer LM written again in PyTorch, for the benchmarks' peers (torch_train.py,
torch_crosscheck.py). Written from SCIENCE.md §2, not translated from TransformerLM.java; only the parameter names
and layouts are the project's, so that its weights load by name: a linear weight is [in, out] (y = x @ W), the
token embedding wte is [vocab, d], the learned positions wpe [seq, d], the unembedding lm_head [d, vocab].

Blocks (ModelConfig.of's presets, CodeParrot style: ReLU MLP of width 4d, learned positions, untied unembedding,
no final norm, Q/K biases and no other linear bias, N(0, 0.02) init, the token embedding multiplied by 50 for
every block (the paper's setup; learned positions are added unscaled)):
  pre-ln  h += Attn(LN(h)); h += MLP(LN(h)); LayerNorm with gain and bias, eps 1e-5.
  op      h += 0.2·Attn(h) with QK-Norm (RMS over the head dimension, eps added outside the root, a trainable
          gain per head dimension shared by the heads, separate for q and k); h += 0.2·MLP(h); no norm anywhere.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCKS = ("pre-ln", "op")
EPS = 1e-5


class TransformerLM(nn.Module):
    def __init__(self, block, layers, d, heads, seq, vocab, init_std=0.02, embedding_scale=50.0):
        super().__init__()
        if block not in BLOCKS:
            raise ValueError("block must be one of %s, not %s" % (BLOCKS, block))
        self.block, self.layers, self.d, self.heads, self.seq = block, layers, d, heads, seq
        self.pre_norm = block == "pre-ln"
        self.beta = 0.2 if block == "op" else 1.0
        self.embedding_scale = embedding_scale
        self.p = nn.ParameterDict()
        self._matrix("wte", vocab, d, std=init_std)
        self._matrix("wpe", seq, d, std=init_std)
        for l in range(layers):
            h = "h%d_" % l
            if self.pre_norm:
                self._vector(h + "ln_attn_gain", d, 1.0)
                self._vector(h + "ln_attn_bias", d, 0.0)
            for name in ("wq", "wk", "wv", "wo"):
                self._matrix(h + name, d, d, std=init_std)
            self._vector(h + "bq", d, 0.0)
            self._vector(h + "bk", d, 0.0)
            if not self.pre_norm:
                self._vector(h + "q_norm_gain", d // heads, 1.0)
                self._vector(h + "k_norm_gain", d // heads, 1.0)
            else:
                self._vector(h + "ln_mlp_gain", d, 1.0)
                self._vector(h + "ln_mlp_bias", d, 0.0)
            self._matrix(h + "w1", d, 4 * d, std=init_std)
            self._matrix(h + "w2", 4 * d, d, std=init_std)
        self._matrix("lm_head", d, vocab, std=init_std)
        self.register_buffer("mask", torch.full((seq, seq), -1e9).triu(1))

    def _matrix(self, name, rows, cols, std):
        self.p[name] = nn.Parameter(torch.randn(rows, cols) * std)

    def _vector(self, name, n, value):
        self.p[name] = nn.Parameter(torch.full((n,), value))

    def load(self, arrays):
        """Copies every parameter from a dict of same-named arrays, which must match the model's names and shapes."""
        if set(arrays) != set(self.p.keys()):
            raise ValueError("parameters differ: only here %s, only there %s"
                             % (sorted(set(self.p.keys()) - set(arrays)), sorted(set(arrays) - set(self.p.keys()))))
        with torch.no_grad():
            for name, p in self.p.items():
                value = torch.as_tensor(arrays[name])
                if tuple(value.shape) != tuple(p.shape):
                    raise ValueError("%s has shape %s here, %s there" % (name, tuple(p.shape), tuple(value.shape)))
                p.copy_(value)

    def _rms_norm(self, x, gain):
        return x / (x.pow(2).mean(-1, keepdim=True).sqrt() + EPS) * gain

    def _attention(self, x, l):
        b, t, d = x.shape
        dh = d // self.heads
        p = self.p
        h = "h%d_" % l

        def split(y):
            return y.view(b, t, self.heads, dh).transpose(1, 2)

        q = split(x @ p[h + "wq"] + p[h + "bq"])
        k = split(x @ p[h + "wk"] + p[h + "bk"])
        v = split(x @ p[h + "wv"])
        if not self.pre_norm:
            q = self._rms_norm(q, p[h + "q_norm_gain"])
            k = self._rms_norm(k, p[h + "k_norm_gain"])
        scores = q @ k.transpose(-2, -1) / math.sqrt(dh) + self.mask
        return (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d) @ p[h + "wo"]

    def _norm(self, x, name):
        if not self.pre_norm:
            return x
        return F.layer_norm(x, (self.d,), self.p[name + "_gain"], self.p[name + "_bias"], EPS)

    def hidden(self, ids):
        """The residual stream entering every block, then the unembedding's input: layers + 1 tensors [B, T, d]."""
        p = self.p
        h = p["wte"][ids] * self.embedding_scale + p["wpe"]
        streams = [h]
        for l in range(self.layers):
            pre = "h%d_" % l
            h = h + self.beta * self._attention(self._norm(h, pre + "ln_attn"), l)
            h = h + self.beta * (F.relu(self._norm(h, pre + "ln_mlp") @ p[pre + "w1"]) @ p[pre + "w2"])
            streams.append(h)
        return streams

    def loss(self, ids, targets):
        """Mean next-token cross-entropy over every position of the batch."""
        logits = self.hidden(ids)[-1] @ self.p["lm_head"]
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))

    def adamw(self, lr, betas, eps, weight_decay):
        """torch.optim.AdamW with decoupled weight decay on matrices only (embeddings and linear weights)."""
        params = list(self.p.values())
        return torch.optim.AdamW([{"params": [q for q in params if q.dim() >= 2], "weight_decay": weight_decay},
                                  {"params": [q for q in params if q.dim() < 2], "weight_decay": 0.0}],
                                 lr=lr, betas=betas, eps=eps)
