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
        # What happens at a named site (SCIENCE.md §2.5's names, e.g. attn_scores_0, mlp_up_weight_1): the tensor
        # itself by default; torch_quant.py sets a fake-quantiser or a recorder here.
        self.at = lambda site, x: x

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

        at = self.at

        def linear(y, name, weight):
            return at("%s_in_%d" % (name, l), y) @ at("%s_weight_%d" % (name, l), p[h + weight])

        q = split(linear(x, "attn_q", "wq") + p[h + "bq"])
        k = split(linear(x, "attn_k", "wk") + p[h + "bk"])
        v = split(linear(x, "attn_v", "wv"))
        if not self.pre_norm:
            q = at("q_norm_out_%d" % l, self._rms_norm(q, p[h + "q_norm_gain"]))
            k = at("k_norm_out_%d" % l, self._rms_norm(k, p[h + "k_norm_gain"]))
        scores = at("attn_scores_%d" % l, q @ k.transpose(-2, -1) / math.sqrt(dh))
        probs = at("attn_probs_%d" % l, (scores + self.mask).softmax(-1))
        context = at("attn_context_%d" % l, probs @ v)
        return linear(context.transpose(1, 2).reshape(b, t, d), "attn_o", "wo")

    def _norm(self, x, name, site):
        if not self.pre_norm:
            return x
        return self.at(site, F.layer_norm(x, (self.d,), self.p[name + "_gain"], self.p[name + "_bias"], EPS))

    def hidden(self, ids):
        """The residual stream entering every block, then the unembedding's input: layers + 1 tensors [B, T, d]."""
        p, at = self.p, self.at
        h = p["wte"][ids] * self.embedding_scale + p["wpe"]
        streams = []
        for l in range(self.layers):
            pre = "h%d_" % l
            h = at("resid_attn_in_%d" % l, h)
            streams.append(h)
            h = h + self.beta * self._attention(self._norm(h, pre + "ln_attn", "norm_attn_out_%d" % l), l)
            h = at("resid_mlp_in_%d" % l, h)
            up = at("mlp_up_in_%d" % l, self._norm(h, pre + "ln_mlp", "norm_mlp_out_%d" % l)) @ at(
                "mlp_up_weight_%d" % l, p[pre + "w1"])
            h = h + self.beta * (at("mlp_down_in_%d" % l, F.relu(up)) @ at("mlp_down_weight_%d" % l, p[pre + "w2"]))
        h = at("unembed_in", h)
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
