"""The metrics benchmark's peer: the same statistics in numpy (Debian python3-numpy), on the same float32 rows.

usage: python3 numpy_metrics.py <x.f32> <tokens> <d> <repeats>
Prints one JSON object: rows/s without and with the feature Gram (median of repeats) and the kurtosis.
"""
import json
import sys
import time

import numpy as np


def statistics(x, gram):
    x = x.astype(np.float64)
    n, d = x.shape
    r2 = np.mean(x * x)
    m = np.mean(x * x, axis=0) / r2
    out = {"kurtosis": float(np.mean(m * m) / np.mean(m) ** 2), "act_rms": float(np.sqrt(r2))}
    a = np.sort(np.abs(x), axis=1)
    mmr = a[:, -1] / a[:, (d - 1) // 2]
    out.update(mmr_mean=float(mmr.mean()), mmr_median=float(np.sort(mmr)[(n - 1) // 2]), mmr_max=float(mmr.max()))
    s = x.sum(axis=0)
    out["signal_prop_mean"] = float((s @ s - np.sum(x * x)) / r2 / d / (n * (n - 1)))
    if gram:
        f = (x.T @ x) / r2
        diag = float(np.sum(np.diag(f) ** 2))
        out.update(gram_diag_sq=diag, gram_offdiag_sq=float(np.sum(f * f) - diag))
    return out


def blas():
    """The BLAS library numpy's products ran on: the one mapped into this process after a product."""
    np.ones((64, 64), dtype=np.float32) @ np.ones((64, 64), dtype=np.float32)
    names = sorted({line.split("/")[-1].strip() for line in open("/proc/self/maps")
                    if any(k in line for k in ("openblas", "mkl_rt", "libblas", "blis"))})
    return "BLAS: " + (", ".join(names) or "none found")


def main():
    path, n, d, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    x = np.fromfile(path, dtype="<f4").reshape(n, d)
    result = {"impl": "numpy %s" % np.__version__, "tokens": n, "d": d, "kernels": blas()}
    for gram in (False, True):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            stats = statistics(x, gram)
            times.append(time.perf_counter() - start)
        key = "with_gram" if gram else "without_gram"
        result[key + "_rows_per_s"] = round(n / sorted(times)[len(times) // 2])
        result[key + "_kurtosis"] = stats["kurtosis"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
