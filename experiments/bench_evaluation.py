"""What one evaluation costs on ML-100k, what the engine adds per candidate, and the wall time
of the main 20 x 10 run. Medians (this machine is shared and noisy); ratios against baselines
measured in the same process:

- cached evaluation (model fitted: re-rank + metrics) against a refit evaluation;
- the compiled re-rank against a per-user Python loop computing the same lists (the compiled
  kernel against the numpy one it replaced is ``bench_rerank_versions.py``);
- paretorec's engine on ZDT1 against pymoo's own ``minimize`` with the same algorithm, budget
  and seed: the difference per candidate is the engine overhead (store, decoding, bookkeeping).

Cached-evaluation figures answer two questions, each over two sets of points:
- *search objective*: what the optimiser calls, validation only, objectives only
  (``test_scoring = "front"``, no extra recorded metrics);
- *spine trial*: validation AND test with the default recorded metrics, as ``tune`` runs by
  default;
- over *uniform* points of the space (a third with the diversity weight set to 0; pool sizes
  uniform on 10-100), and over the points the 20 x 10 NSGA-II run actually evaluated (the cost
  objective pulls its pools small, so this is the distribution a search pays for).

    python experiments/bench_evaluation.py [--data-dir DIR] [--points 60]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.optimize import minimize

from paretorec.config import EvaluationConfig, SearchConfig, load_config
from paretorec.optimize import Problem, RunOutcome
from paretorec.optimize.rundir import RunDir
from paretorec.optimize.testproblems import TestProblem
from paretorec.rerank import CandidatePool, Novelty, RerankSettings, rerank
from paretorec.study import Candidate, Study

ROOT = Path(__file__).resolve().parents[1]


def per_user_rerank(
    pool: CandidatePool, settings: RerankSettings, k: int, novelty: np.ndarray
) -> np.ndarray:
    """The same greedy MMR as paretorec.rerank, one user at a time (the baseline).

    ``novelty`` is each candidate's novelty bonus, position-major like the pool, laid out
    before the clock starts (the compiled re-rank finds it in the pool's memo)."""
    p = settings.pool
    w_diversity, w_novelty = settings.weight("diversity"), settings.weight("novelty")
    sim = pool.reference.similarity
    items, scores = pool.items[:p].T, pool.scores[:p].T
    out = np.full((len(items), k), -1)
    for u in range(len(items)):
        cand = items[u]
        rel = scores[u]
        value = (rel - rel[-1]) / ((rel[0] - rel[-1]) or 1.0) + w_novelty * novelty[:p, u]
        prof = sim.profile[cand]
        redundancy = np.zeros(len(cand))
        chosen: list[int] = []
        for _ in range(k):
            marginal = value - w_diversity * redundancy
            marginal[chosen] = -np.inf
            best = int(np.argmax(marginal))
            chosen.append(best)
            if w_diversity:
                redundancy = np.maximum(redundancy, sim.table[prof, prof[best]])
        out[u] = cand[chosen]
    return out


def run_in_dir(
    problem: Problem,
    search: SearchConfig,
    config: Mapping[str, Any],
    out: str | os.PathLike[str],
    executor: Any = None,
) -> RunOutcome:
    """One search as ``paretorec tune --out`` runs it, into the run directory ``out``: every
    trial committed to its SQLite store, the CSV files mirrored after each generation. The
    benchmarks time this (the store is part of the engine's cost), not an in-memory run.

    Args:
        problem: A prepared study (baselines measured: they are setup) or a test problem.
        search: The search settings.
        config: What the directory's ``config.json`` records.
        out: A fresh directory.
        executor: Where evaluations run (this process by default).
    """
    rd = RunDir(out)
    with rd.locked():
        return rd.run(problem, search, dict(config), False, executor=executor)


def evaluated_points(space, trials: pd.DataFrame) -> list[dict]:
    """The points of a run's trials, decoded as the search evaluated them."""
    rows = trials[list(space.names)].to_dict("records")
    return [
        space.decode(space.encode_nearest({a: v for a, v in r.items() if pd.notna(v)}))
        for r in rows
    ]


def cached_ms(study: Study, points: list[dict], stages: tuple[str, ...]) -> dict[str, float]:
    """Median ms per evaluation with every model already fitted (memo cleared each time)."""
    for values in points:
        study.evaluate(values, stages)
    every, diverse, plain = [], [], []
    for _ in range(3):
        for values in points:
            study._memo.clear()
            start = time.perf_counter()
            study.evaluate(values, stages)
            ms = 1000 * (time.perf_counter() - start)
            every.append(ms)
            (diverse if values["rerank.diversity"] > 0 else plain).append(ms)
    return {
        "all": round(float(np.median(every)), 3),
        "with_diversity": round(float(np.median(diverse)), 3),
        "without_diversity": round(float(np.median(plain)), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--points", type=int, default=60)
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "evaluation.json"))
    args = parser.parse_args()
    config = load_config(ROOT / "experiments" / "ml100k.toml")
    lean = dataclasses.replace(
        config, evaluation=EvaluationConfig(k=10, record=(), test_scoring="front")
    )
    rng = np.random.default_rng(0)
    spine = Study.prepare(config, args.data_dir)
    search = Study.prepare(lean, args.data_dir)
    X = spine.space.repair(rng.random((args.points, spine.space.n_var)))
    points = [spine.space.decode(x) for x in X]
    for values in points[: len(points) // 3]:  # a third without the diversity penalty
        values["rerank.diversity"] = 0.0

    refit = {"popularity": [], "itemknn": [], "ease": []}
    for values in points[:24]:
        search.pipeline.clear()
        search._memo.clear()
        start = time.perf_counter()
        search.evaluate(values, ("validation",))
        refit[values["model"]].append(1000 * (time.perf_counter() - start))

    fresh = Study.prepare(config, args.data_dir)
    _ = fresh.objectives  # baselines: setup, measured with the run below as tune does
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        outcome = run_in_dir(fresh, config.search, config.to_dict(), out)
        run_seconds = round(time.perf_counter() - start, 2)
    proposed = [dict(r.params) for r in outcome.records]  # decoded, as the search evaluated them

    report: dict = {
        "machine": "2 cores, shared; medians",
        "cached_evaluation_ms_search_objective": cached_ms(search, points, ("validation",)),
        "cached_evaluation_ms_search_objective_search_points": cached_ms(
            search, proposed, ("validation",)
        ),
        "cached_evaluation_ms_spine_trial": cached_ms(spine, points, ("validation", "test")),
        "cached_evaluation_ms_spine_trial_search_points": cached_ms(
            spine, proposed, ("validation", "test")
        ),
        "search_points_median_pool": float(np.median([v["rerank.pool"] for v in proposed])),
        "refit_evaluation_ms_validation_only": {
            m: round(float(np.median(v)), 1) for m, v in refit.items() if v
        },
    }

    pipe = search.pipeline
    vec, loop, agree = [], [], []
    for values in [p for p in points if p["rerank.diversity"] > 0][:6]:
        cand = Candidate.from_values(values)
        pool = pipe.candidates("validation", cand.model).pool
        novelty = pool.per_item(Novelty().bonus(pool.reference))
        start = time.perf_counter()
        lists = rerank(pool, cand.rerank, 10).items
        vec.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference = per_user_rerank(pool, cand.rerank, 10, novelty)
        loop.append(time.perf_counter() - start)
        agree.append(float((reference == lists).mean()))
    report["rerank_ms"] = round(1000 * float(np.median(vec)), 3)
    report["rerank_ms_per_user_loop"] = round(1000 * float(np.median(loop)), 3)
    report["rerank_speedup"] = round(float(np.median(loop) / np.median(vec)), 1)
    report["rerank_identical_share"] = float(np.mean(agree))

    overheads = []
    for seed in (1, 2, 3):
        zdt = SearchConfig(population=40, generations=50, seed=seed)
        problem = TestProblem("zdt1")
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            run_in_dir(problem, zdt, {"problem": "zdt1", **dataclasses.asdict(zdt)}, out)
            ours = time.perf_counter() - start
        start = time.perf_counter()
        minimize(problem.problem, NSGA2(pop_size=40), ("n_gen", 50), seed=seed)
        theirs = time.perf_counter() - start
        overheads.append(1000 * (ours - theirs) / 2000)
    report["engine_overhead_ms_per_candidate"] = round(float(np.median(overheads)), 3)

    report["nsga2_20x10_wall_seconds"] = run_seconds
    report["nsga2_20x10_evaluations"] = len(outcome.records)
    report["nsga2_20x10_fits"] = fresh.fits

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
