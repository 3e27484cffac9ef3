"""Cached evaluation time with the re-rank terms active, ML-100k (issue 13's targets: <= 3 ms
with every term, <= 1.5 ms with diversity and novelty only).

One process, one fitted ItemKNN; for each pool size and term set, the median of ``--repeats``
cached evaluations (re-rank + the objectives ndcg@10, satisfaction@10, miscalibration@10,
aplt@10, cost), the sets interleaved so load drifts hit them alike.

Then the re-rank alone, for each set with a pick-dependent term: the lazy greedy of the built-in
terms (``rerank/lazy.py``, what ``rerank`` runs) against the generic loop it replaced
(``reranker._generic``), interleaved in the same process; their ratio (median of the
per-repeat ratios), whether the lists are identical (they must be, bit for bit), and how lazy
it was: refreshes (full gain computations) per user and pick after the first, out of ``pool``.

Run:  python experiments/bench_terms.py [--quick]   -> results/bench/terms.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from paretorec.data import holdout_split, load_dataset
from paretorec.metrics import parse_metric
from paretorec.rerank import greedy, lazy
from paretorec.rerank.reranker import _generic, _prepared
from paretorec.study import Candidate, Pipeline

SETS = {
    "none": {},
    "diversity+novelty": {"diversity": 0.3, "novelty": 0.2},
    "calibration": {"calibration": 0.5},
    "intent": {"intent": 0.5},
    "longtail": {"longtail": 0.5},
    "coverage": {"coverage": 0.5},
    "all six": {
        "diversity": 0.3,
        "novelty": 0.2,
        "calibration": 0.5,
        "longtail": 0.5,
        "intent": 0.5,
        "coverage": 0.5,
    },
}
OBJECTIVES = ("ndcg@10", "satisfaction@10", "miscalibration@10", "aplt@10", "cost")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=31)
    args = ap.parse_args()
    data_dir = os.environ.get("PARETOREC_DATA_DIR")
    ds = load_dataset("ml-100k", data_dir)
    pipe = Pipeline(ds, holdout_split(ds.interactions, 0.2, 0.2, 42), 10, 100)
    refs = [parse_metric(m) for m in OBJECTIVES]
    pools = (15,) if args.quick else (15, 50)
    repeats = 5 if args.quick else args.repeats
    times: dict[str, list[float]] = {}
    for pool in pools:
        cands = {
            name: Candidate.from_values(
                {"model": "itemknn", "rerank.pool": pool}
                | {f"rerank.{t}": w for t, w in terms.items()}
            )
            for name, terms in SETS.items()
        }
        for cand in cands.values():  # fit, compile, memoise
            pipe.evaluate("validation", cand, refs)
        for _ in range(repeats):
            for name, cand in cands.items():
                start = time.perf_counter()
                pipe.evaluate("validation", cand, refs)
                times.setdefault(f"pool {pool}: {name}", []).append(time.perf_counter() - start)
    out: dict = {key: float(np.median(v) * 1000) for key, v in times.items()}
    for key, ms in out.items():
        print(f"{key:32s} {ms:7.2f} ms")
    out["re-rank alone, lazy against generic"] = kernels(pipe, pools, repeats)
    out["load average"] = os.getloadavg()
    if not args.quick:
        path = Path(__file__).resolve().parents[1] / "results" / "bench" / "terms.json"
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {path}")


def kernels(pipe: Pipeline, pools: tuple[int, ...], repeats: int) -> dict:
    """The lazy greedy against the generic loop on the same inputs, per pool and term set."""
    out = {}
    for p in pools:
        for name, terms in SETS.items():
            if name in ("none", "diversity+novelty"):  # no pick term; the fused MMR
                continue
            key = f"pool {p}: {name}"
            out[key] = _compare(pipe, p, terms, repeats)
            row = out[key]
            print(
                f"{key:32s} lazy {row['lazy ms']:6.2f} ms, generic {row['generic ms']:6.2f} ms, "
                f"x{row['generic / lazy']:.2f}, same={row['identical lists, values and slots']}, "
                f"refreshes {row['refreshes per user and pick after the first']:.2f}/{p}"
            )
    return out


def _compare(pipe: Pipeline, p: int, terms: dict[str, float], repeats: int) -> dict:
    k = pipe.k
    cand = Candidate.from_values(
        {"model": "itemknn", "rerank.pool": p} | {f"rerank.{t}": w for t, w in terms.items()}
    )
    pool = pipe.candidates("validation", cand.model).pool
    bonus_terms = cand.rerank.bonus_terms()
    bonus = pool.bonus_stack(
        [(t.name, t.data_key()) for t in bonus_terms],
        lambda t: bonus_terms[t].bonus(pool.reference),
    )
    weights = np.array([t.weight for t in bonus_terms], dtype=np.float64)
    value_args = (pool.scores, *pool.relevance_range(p), bonus, weights)
    active = [t for t in cand.rerank.pick_terms() if t.active]
    prepared = [_prepared(pool, t) for t in active]
    runs = {
        "lazy": lambda: lazy.run(pool, greedy.values(*value_args, p), active, prepared, k),
        "generic": lambda: _generic(value_args, active, prepared, p, k, pool.size),
    }
    same = all(np.array_equal(x, y) for x, y in zip(runs["lazy"](), runs["generic"](), strict=True))
    args = lazy.arguments(pool, greedy.values(*value_args, p), active, prepared, k)
    refreshes = float(lazy.greedy(*args)[2].mean() / (k - 1))
    times: dict[str, list[float]] = {"lazy": [], "generic": []}
    for _ in range(repeats):
        for method, run in runs.items():
            start = time.perf_counter()
            run()
            times[method].append(time.perf_counter() - start)
    return {
        "lazy ms": float(np.median(times["lazy"]) * 1000),
        "generic ms": float(np.median(times["generic"]) * 1000),
        "generic / lazy": float(np.median(np.array(times["generic"]) / np.array(times["lazy"]))),
        "identical lists, values and slots": same,
        "refreshes per user and pick after the first": refreshes,
    }


if __name__ == "__main__":
    main()
