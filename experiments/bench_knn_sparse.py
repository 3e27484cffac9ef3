"""Sparse blockwise neighbour lists against the dense gram they replaced, same process.

The dense version is the pre-issue-12 code (commit 896ef1c, FitData._top_similar over
``(X^T X).toarray()``), kept here as the baseline. For each dataset: time of a cold ItemKNN
neighbour computation (one shrinkage, K = 400, the space's largest k) and peak memory allocated
(tracemalloc), medians of ``--repeats``; the lists are checked identical.

Run:  python experiments/bench_knn_sparse.py [--quick]   -> results/bench/knn_sparse.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from paretorec.data import load_dataset
from paretorec.models import FitData
from paretorec.models.base import ITEM_BLOCK, top_c


def dense_top_similar(X, shrinkage: float, size: int):
    gram = (X.T @ X).toarray()
    norms = np.sqrt(np.diag(gram))
    n = X.shape[1]
    sources = np.empty((n, size), dtype=np.int32)
    sims = np.empty((n, size))
    for lo in range(0, n, ITEM_BLOCK):
        hi = min(lo + ITEM_BLOCK, n)
        block = gram[lo:hi] / (np.outer(norms[lo:hi], norms) + shrinkage + 1e-12)
        block[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf
        sources[lo:hi], sims[lo:hi] = top_c(block, size)
    return sources, sims


def measure(fn):
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return out, seconds, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    data_dir = os.environ.get("PARETOREC_DATA_DIR")
    names = ["ml-100k"] if args.quick else ["ml-100k", "ml-latest-small"]
    out = {}
    with threadpool_limits(1, "blas"):
        for name in names:
            X = FitData.of(load_dataset(name, data_dir).interactions).X
            size = min(400, X.shape[1] - 1)
            rows = {"dense": [], "sparse": []}
            for _ in range(args.repeats):  # alternate so load drifts hit both alike
                (ds, dv), t, m = measure(lambda X=X, size=size: dense_top_similar(X, 10.0, size))
                rows["dense"].append((t, m))
                (ss, sv), t, m = measure(lambda X=X, size=size: FitData(X).neighbours(10.0, size))
                rows["sparse"].append((t, m))
                assert np.array_equal(ds, ss) and np.array_equal(dv, sv)
            out[name] = {
                kind: {
                    "seconds_median": float(np.median([r[0] for r in v])),
                    "seconds": [r[0] for r in v],
                    "peak_mb_median": float(np.median([r[1] for r in v])),
                }
                for kind, v in rows.items()
            }
            d, s = out[name]["dense"], out[name]["sparse"]
            print(
                f"{name}: dense {d['seconds_median']:.2f} s {d['peak_mb_median']:.0f} MB | "
                f"sparse {s['seconds_median']:.2f} s {s['peak_mb_median']:.0f} MB | identical"
            )
    path = Path(__file__).resolve().parents[1] / "results" / "bench" / "knn_sparse.json"
    if not args.quick:
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
