"""Top-C selection: the compiled bounded-heap scan against the argpartition version it replaced,
on score blocks shaped like the ones candidate generation sees (2,048 users x 9,724 items, as
ml-latest-small; C = 100), in the same process. Both give identical items and scores (checked).

- popularity-like: one integer-count row for every user (heavy ties), 2 % of items excluded;
- sparse-kNN-like: 0.4 % non-zero scores, the rest tied at 0 (a user with few neighbours);
- dense: continuous scores, no ties.

Run:  python experiments/bench_top_c.py   -> results/bench/top_c.json
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from paretorec.models import top_c


def argpartition_top_c(scores: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    """The previous implementation: argpartition, then a numpy repair of ties at the cut."""
    m = scores.shape[1]
    c_eff = min(c, m)
    cols = np.argpartition(-scores, c_eff - 1, axis=1)[:, :c_eff]
    vals = np.take_along_axis(scores, cols, axis=1)
    threshold = vals.min(axis=1, keepdims=True)
    straddle = (scores == threshold).sum(axis=1) > (vals == threshold).sum(axis=1)
    if straddle.any():
        sub, thr = scores[straddle], threshold[straddle]
        tie = sub == thr
        need = c_eff - (sub > thr).sum(axis=1, keepdims=True)
        chosen = (sub > thr) | (tie & (np.cumsum(tie, axis=1) <= need))
        cols[straddle] = np.nonzero(chosen)[1].reshape(-1, c_eff)
        vals[straddle] = np.take_along_axis(sub, cols[straddle], axis=1)
    order = np.lexsort((cols, -vals), axis=1)
    items = np.take_along_axis(cols, order, axis=1).astype(np.int32)
    vals = np.take_along_axis(vals, order, axis=1)
    items[~np.isfinite(vals)] = -1
    if c_eff < c:
        items = np.pad(items, ((0, 0), (0, c - c_eff)), constant_values=-1)
        vals = np.pad(vals, ((0, 0), (0, c - c_eff)), constant_values=-np.inf)
    return items, vals


def blocks(rng: np.random.Generator, n: int = 2048, m: int = 9724) -> dict[str, np.ndarray]:
    counts = rng.zipf(1.6, m).clip(max=300).astype(np.float64)
    popular = np.array(np.broadcast_to(counts, (n, m)))
    popular[rng.random((n, m)) < 0.02] = -np.inf
    knn = np.zeros((n, m))
    mask = rng.random((n, m)) < 0.004
    knn[mask] = rng.random(mask.sum())
    knn[rng.random((n, m)) < 0.02] = -np.inf
    return {"popularity-like": popular, "sparse-knn-like": knn, "dense": rng.random((n, m))}


def main() -> None:
    rng = np.random.default_rng(0)
    out: dict = {"c": 100, "block": [2048, 9724], "repeats": 7}
    for name, scores in blocks(rng).items():
        new, old = top_c(scores, 100), argpartition_top_c(scores, 100)
        assert all(np.array_equal(a, b) for a, b in zip(new, old, strict=True)), name
        times: dict[str, list[float]] = {"heap": [], "argpartition": []}
        for _ in range(out["repeats"]):  # interleaved, so load drifts hit both alike
            for label, f in (("heap", top_c), ("argpartition", argpartition_top_c)):
                start = time.perf_counter()
                f(scores, 100)
                times[label].append(time.perf_counter() - start)
        med = {k: float(np.median(v) * 1000) for k, v in times.items()}
        out[name] = {
            "heap_ms": med["heap"],
            "argpartition_ms": med["argpartition"],
            "speedup": med["argpartition"] / med["heap"],
        }
        print(
            f"{name:16s} heap {med['heap']:7.1f} ms  argpartition {med['argpartition']:7.1f} ms"
            f"  {med['argpartition'] / med['heap']:.1f}x"
        )
    out["load average"] = os.getloadavg()
    path = Path(__file__).resolve().parents[1] / "results" / "bench" / "top_c.json"
    path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
