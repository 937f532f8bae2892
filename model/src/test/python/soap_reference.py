"""An independent SOAP in numpy (float64), written from SCIENCE.md §3.1, used by SoapReferenceTest.

Reads JSON on stdin:
  {"hyper": {"lr", "beta1", "beta2", "shampoo_beta", "eps", "weight_decay", "frequency", "max_precond_dim",
             "eps_on_corrected_v", "decay_before_update"},
   "params": {name: nested list}, "grads": [{name: nested list}, ...]}   (one dict of gradients per call)
Writes one line per parameter after the last call: "name v1 v2 ..." (row-major, repr precision).

Two switches choose between soap.py's conventions and the ones this project shares with its AdamW:
eps_on_corrected_v adds eps to sqrt(v / (1 - beta2^t)) instead of sqrt(v); decay_before_update applies the
decoupled weight decay before the update instead of after it. Weight decay applies to matrices only.
"""
import json
import sys

import numpy as np


class Side:
    """One rotated axis of a matrix: its factor P (EMA of G G^T or G^T G) and the basis Q of its eigenvectors."""

    def __init__(self, axis, g, beta):
        self.axis = axis
        n = g.shape[axis]
        self.factor = np.zeros((n, n))
        self.take_in(g, beta)
        values, vectors = np.linalg.eigh(self.factor + 1e-30 * np.eye(n))
        self.q = vectors[:, ::-1]  # descending eigenvalues

    def outer(self, g):
        return g @ g.T if self.axis == 0 else g.T @ g

    def take_in(self, g, beta):
        self.factor = beta * self.factor + (1 - beta) * self.outer(g)

    def into(self, x, q):
        return q.T @ x if self.axis == 0 else x @ q

    def out_of(self, x, q):
        return q @ x if self.axis == 0 else x @ q.T


class Soap:
    def __init__(self, h):
        self.h = h
        self.beta_s = h["beta2"] if h["shampoo_beta"] < 0 else h["shampoo_beta"]
        self.state = {}
        self.t = 0

    def step(self, params, grads):
        h = self.h
        if self.state:
            self.t += 1  # the first call only builds the preconditioners
        for name, p in params.items():
            g = grads[name]
            if name not in self.state:
                sides = []
                if p.ndim == 2:
                    sides = [Side(axis, g, self.beta_s) for axis in (0, 1) if p.shape[axis] <= h["max_precond_dim"]]
                self.state[name] = {"m": np.zeros_like(p), "v": np.zeros_like(p), "sides": sides}
                continue
            st = self.state[name]
            rotated = g
            for side in st["sides"]:
                rotated = side.into(rotated, side.q)
            b1, b2, t = h["beta1"], h["beta2"], self.t
            st["m"] = b1 * st["m"] + (1 - b1) * rotated
            st["v"] = b2 * st["v"] + (1 - b2) * rotated ** 2
            step_size = h["lr"] * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            eps = h["eps"] * np.sqrt(1 - b2 ** t) if h["eps_on_corrected_v"] else h["eps"]
            direction = st["m"] / (np.sqrt(st["v"]) + eps)
            for side in st["sides"]:
                direction = side.out_of(direction, side.q)
            decay = h["lr"] * h["weight_decay"] if p.ndim >= 2 else 0.0
            if h["decay_before_update"]:
                p -= decay * p
                p -= step_size * direction
            else:
                p -= step_size * direction
                p -= decay * p
            for side in st["sides"]:
                side.take_in(g, self.beta_s)
            if t % h["frequency"] == 0:
                for side in st["sides"]:
                    self.refresh(st, side)

    @staticmethod
    def refresh(st, side):
        """One power iteration and QR; v's axis is permuted with the columns, m is re-expressed in the new basis."""
        estimates = np.diag(side.q.T @ side.factor @ side.q)
        order = np.argsort(-estimates, kind="stable")
        old = side.q
        side.q = np.linalg.qr(side.factor @ old[:, order])[0]
        st["v"] = np.take(st["v"], order, axis=side.axis)
        st["m"] = side.into(side.out_of(st["m"], old), side.q)


def main():
    spec = json.load(sys.stdin)
    params = {name: np.array(value, dtype=np.float64) for name, value in spec["params"].items()}
    soap = Soap(spec["hyper"])
    for grads in spec["grads"]:
        soap.step(params, {name: np.array(value, dtype=np.float64) for name, value in grads.items()})
    for name, p in params.items():
        print(name, " ".join(repr(float(x)) for x in p.ravel()))


if __name__ == "__main__":
    main()
