"""Incremental update against a full refit, by the size of the new batch.

For each dataset, model (at its declared defaults) and batch share: the events in time order,
the last ``share`` of them the new batch. The model is fitted on the rest with its update state
kept (``Model.updatable``, not timed), then timed: ``update`` with the batch, and a full ``fit``
on everything (a fresh ``FitData``, so no neighbour list is reused). Single-threaded BLAS, as
the pipeline fits; median of ``--repeats``. ``max_abs_score_diff`` compares the two scorers on
every user (0 for an exact update); ``topk_overlap`` is the mean share of each user's top-10
unseen items both give.

    PARETOREC_DATA_DIR=../shared/data python experiments/bench_update.py \
        [--datasets ml-100k ml-latest-small] [--shares 0.01 0.05 0.25] \
        [--out results/replay/bench_update.csv]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from paretorec.config import DataConfig
from paretorec.data import load_dataset
from paretorec.models import MODELS, FitData, SideInfo, generate_candidates

MODELS_TIMED = ("popularity", "itemknn", "userknn", "als")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k", "ml-latest-small"])
    parser.add_argument("--shares", nargs="+", type=float, default=[0.01, 0.05, 0.25])
    parser.add_argument("--models", nargs="+", default=list(MODELS_TIMED))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="results/replay/bench_update.csv")
    args = parser.parse_args()
    rows = []
    for name in args.datasets:
        dataset = load_dataset(DataConfig(dataset=name))
        inter, side = dataset.interactions, SideInfo.of(dataset)
        order = np.argsort(inter.timestamp, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        after = FitData.of(inter, side)
        users = np.arange(dataset.n_users, dtype=np.int32)
        for share in args.shares:
            before = FitData.of(inter.take(rank < round(len(order) * (1 - share))), side)
            for model_name in args.models:
                model = MODELS.get(model_name).create({})
                updates, refits = [], []
                for _ in range(args.repeats):
                    with threadpool_limits(1, "blas"):
                        kept = model.updatable(model.fit(before), before)
                        start = time.perf_counter()
                        updated = model.update(kept, before, after)
                        updates.append(time.perf_counter() - start)
                        start = time.perf_counter()
                        refit = model.fit(FitData(after.X, after.ratings, after.side))
                        refits.append(time.perf_counter() - start)
                diff = np.abs(
                    np.asarray(updated.score(users), np.float64)
                    - np.asarray(refit.score(users), np.float64)
                )
                a = generate_candidates(updated, after.X, users, 10).items
                r = generate_candidates(refit, after.X, users, 10).items
                overlap = np.mean(
                    [len(np.intersect1d(x, y)) / 10 for x, y in zip(a, r, strict=True)]
                )
                row = {
                    "dataset": name,
                    "share": share,
                    "new_events": len(order) - int((rank < round(len(order) * (1 - share))).sum()),
                    "model": model_name,
                    "update_kind": type(model).update_kind,
                    "update_seconds": statistics.median(updates),
                    "refit_seconds": statistics.median(refits),
                    "max_abs_score_diff": float(diff.max()),
                    "topk_overlap": float(overlap),
                }
                rows.append(row)
                print(row, flush=True)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
