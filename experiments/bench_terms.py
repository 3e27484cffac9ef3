"""Cached evaluation time with the re-rank terms active, ML-100k (issue 13's targets: <= 3 ms
with every term, <= 1.5 ms with diversity and novelty only).

One process, one fitted ItemKNN; for each pool size and term set, the median of ``--repeats``
cached evaluations (re-rank + the objectives ndcg@10, satisfaction@10, miscalibration@10,
aplt@10, cost), the sets interleaved so load drifts hit them alike.

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
    out = {key: float(np.median(v) * 1000) for key, v in times.items()}
    for key, ms in out.items():
        print(f"{key:32s} {ms:7.2f} ms")
    out["load average"] = os.getloadavg()
    if not args.quick:
        path = Path(__file__).resolve().parents[1] / "results" / "bench" / "terms.json"
        path.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
