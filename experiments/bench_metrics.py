"""Benchmark of the metric suite on ml-latest-small against ranx on the same lists.

Builds real lists (item k-NN, k=40, with MMR re-ranking) for every validation user of
ml-latest-small, then times, in the same process and as medians of repeats:

  - ours, warm: every registered metric at K=10 (plus ``cost`` and ``ms_per_user``) on a fresh
    ``ListContext`` of a stage whose caches are filled; this is one evaluation of a search;
  - ours, cold: the same on a fresh Truth and Reference, so the stage's one-time tables (dense
    truth lookup, user bitsets, genre profiles, the popularity baseline) are built inside;
  - ranx: ``ranx.evaluate`` of precision, recall, f1, ndcg, map, mrr and hit_rate at 10 on
    prebuilt Qrels and Run (numba already compiled), and the Qrels/Run construction from dicts.

    PARETOREC_DATA_DIR=../shared/data python experiments/bench_metrics.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np

from paretorec.data import holdout_split, load_dataset
from paretorec.data.reference import Reference
from paretorec.metrics import METRICS, ListContext, Truth, parse_metric
from paretorec.study import Candidate, Pipeline

K = 10
RANX_METRICS = [f"{m}@{K}" for m in ("precision", "recall", "f1", "ndcg", "map", "mrr")] + [
    f"hit_rate@{K}"
]


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: first-call costs are not what a search loop pays
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=os.environ.get("PARETOREC_DATA_DIR"))
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()

    dataset = load_dataset("ml-latest-small", args.data_dir)
    pipeline = Pipeline(dataset, holdout_split(dataset.interactions, 0.2, 0.2, 42), K, 50)
    candidate = Candidate.from_values(
        {"model": "itemknn", "itemknn.k": 40, "rerank.pool": 30, "rerank.diversity": 0.3}
    )
    lists = pipeline.recommend("validation", candidate)
    stage = pipeline.stage("validation")
    truth, reference = stage.truth, stage.reference
    refs = [parse_metric(f"{m}@{K}" if METRICS.get(m).at_k else m) for m in METRICS]

    def suite(ctx: ListContext) -> dict[str, tuple[float, int]]:
        return {ref.name: ref.compute(ctx) for ref in refs}

    def warm() -> None:
        suite(pipeline.context("validation", lists))

    def cold() -> None:
        fresh_truth = Truth(truth.users, truth.matrix, truth.rating_scale)
        fresh_ref = Reference(
            reference.X, reference.users, reference.similarity, reference.item_features
        )
        suite(ListContext(lists.items, fresh_truth, fresh_ref, lists.ops, lists.ms_per_user))

    warnings.simplefilter("ignore")  # numba's type-safety notes, not results
    from ranx import Qrels, Run, evaluate

    def ranx_inputs() -> tuple[Qrels, Run]:
        qrels, run = {}, {}
        for row, user in enumerate(truth.users):
            lo, hi = truth.matrix.indptr[row], truth.matrix.indptr[row + 1]
            qrels[f"u{user:06d}"] = {f"i{i}": 1 for i in truth.matrix.indices[lo:hi]}
            run[f"u{user:06d}"] = {
                f"i{i}": float(K - r) for r, i in enumerate(lists.items[row]) if i >= 0
            }
        return Qrels(qrels), Run(run)

    qrels, run = ranx_inputs()
    ranx_means = evaluate(qrels, run, RANX_METRICS)
    ours = suite(pipeline.context("validation", lists))
    for name in RANX_METRICS:
        mine = ours[name.replace("hit_rate", "hit")][0]
        assert abs(mine - ranx_means[name]) < 1e-9, (name, mine, ranx_means[name])

    t_warm = median_ms(warm, args.repeats)
    t_cold = median_ms(cold, args.repeats)
    t_ranx = median_ms(lambda: evaluate(qrels, run, RANX_METRICS), args.repeats)
    t_build = median_ms(ranx_inputs, max(args.repeats // 3, 3))
    accuracy = [parse_metric(n.replace("hit_rate", "hit")) for n in RANX_METRICS]

    def same_seven() -> None:
        ctx = pipeline.context("validation", lists)
        for ref in accuracy:
            ref.compute(ctx)

    t_ours_acc = median_ms(same_seven, args.repeats)

    print(f"ml-latest-small validation: {len(lists.items)} users x K={K}, {dataset.n_items} items")
    print(f"metrics in the suite: {len(refs)} ({', '.join(r.name for r in refs)})")
    print(f"ours, full suite, warm stage   {t_warm:8.2f} ms")
    print(f"ours, full suite, cold stage   {t_cold:8.2f} ms")
    print(f"ours, the 7 ranx metrics only  {t_ours_acc:8.2f} ms")
    print(f"ranx evaluate, 7 metrics       {t_ranx:8.2f} ms")
    print(f"ranx Qrels+Run from dicts      {t_build:8.2f} ms")
    print(f"ratio ranx 7 / ours full warm  {t_ranx / t_warm:8.2f}x")
    print(f"ratio ranx 7 / ours same 7     {t_ranx / t_ours_acc:8.2f}x")
    print(f"budget 50 ms: {'met' if max(t_warm, t_cold) <= 50 else 'MISSED'}")
    print(f"({np.count_nonzero(lists.items < 0)} empty slots; values agree with ranx to 1e-9)")


if __name__ == "__main__":
    main()
