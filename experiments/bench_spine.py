"""Benchmark of the spine on ML-100k: cost per evaluation and the wall time of a 20x10 run.

Reports medians (this machine is shared and noisy) and, as the house rule asks, ratios
against baselines measured in the same process:
  - a cached evaluation (model fitted, only re-rank + metrics) against a refit evaluation;
  - the vectorised re-rank against a per-user Python loop computing the same lists.

    python experiments/bench_spine.py [--data-dir DIR] [--points 60]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from paretorec.config import load_config
from paretorec.optimize import run_search
from paretorec.pipeline import Candidate
from paretorec.rerank import rerank
from paretorec.study import Study

ROOT = Path(__file__).resolve().parents[1]


def per_user_rerank(items, scores, w, k, novelty, sim):
    """The same greedy MMR as paretorec.rerank, one user at a time (the baseline)."""
    out = np.full((len(items), k), -1)
    for u in range(len(items)):
        cand = items[u, : w.pool]
        rel = scores[u, : w.pool]
        value = (rel - rel[-1]) / ((rel[0] - rel[-1]) or 1.0) + w.novelty * novelty[cand]
        prof = sim.profile[cand]
        redundancy = np.zeros(len(cand))
        chosen: list[int] = []
        for _ in range(k):
            marginal = value - w.diversity * redundancy
            marginal[chosen] = -np.inf
            best = int(np.argmax(marginal))
            chosen.append(best)
            redundancy = np.maximum(redundancy, sim.table[prof, prof[best]])
        out[u] = cand[chosen]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--points", type=int, default=60)
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "spine.json"))
    args = parser.parse_args()

    config = load_config(ROOT / "experiments" / "ml100k.toml")
    study = Study.prepare(config, args.data_dir)
    rng = np.random.default_rng(0)
    space = study.space
    points = [space.decode(x) for x in space.repair(rng.random((args.points, space.n_var)))]

    # refit: every evaluation starts from empty model caches (validation + test fits)
    refit = []
    for values in points[:20]:
        study.pipeline._candidates.clear()
        study._memo.clear()
        start = time.perf_counter()
        study.evaluate(values)
        refit.append(time.perf_counter() - start)

    for values in points:  # warm every model
        study.evaluate(values)
    cached, cached_div, cached_plain = [], [], []
    for _ in range(3):
        for values in points:
            study._memo.clear()
            start = time.perf_counter()
            study.evaluate(values)
            elapsed = time.perf_counter() - start
            cached.append(elapsed)
            (cached_div if values["rerank.diversity"] > 0 else cached_plain).append(elapsed)

    # re-rank: vectorised vs the per-user loop, same inputs, same lists
    pipe = study.pipeline
    stage = pipe.stage("validation")
    vec, loop = [], []
    for values in points[:8]:
        cand = Candidate.from_values(values)
        cs = pipe.candidates("validation", cand.model)
        args_ = (cs.items, cs.scores, cand.rerank, 10, stage.novelty_bonus, pipe.similarity)
        start = time.perf_counter()
        lists, _ = rerank(*args_)
        vec.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference = per_user_rerank(*args_)
        loop.append(time.perf_counter() - start)
        agree = float((reference == lists).mean())

    # the 20 x 10 NSGA-II run, as `paretorec tune experiments/ml100k.toml` does it
    fresh = Study.prepare(config, args.data_dir)
    out = Path("/tmp") / f"paretorec-bench-{time.time_ns()}"
    start = time.perf_counter()
    frame = run_search(fresh, out, progress=False)
    wall = time.perf_counter() - start

    ms = lambda xs: round(float(np.median(xs)) * 1000, 3)  # noqa: E731
    report = {
        "machine": "2 cores, shared; medians",
        "cached_evaluation_ms": ms(cached),
        "cached_evaluation_ms_with_diversity": ms(cached_div),
        "cached_evaluation_ms_without_diversity": ms(cached_plain),
        "refit_evaluation_ms": ms(refit),
        "cached_vs_refit_ratio": round(float(np.median(cached) / np.median(refit)), 4),
        "rerank_vectorised_ms": ms(vec),
        "rerank_per_user_loop_ms": ms(loop),
        "rerank_speedup_vs_loop": round(float(np.median(loop) / np.median(vec)), 1),
        "rerank_lists_identical_share": agree,
        "nsga2_20x10_wall_seconds": round(wall, 2),
        "nsga2_20x10_evaluations": len(frame),
        "nsga2_20x10_fits": fresh.pipeline.fits,
        "note": "an evaluation scores one point on validation AND test "
        "(two re-ranks, two metric passes)",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for key, value in report.items():
        print(f"{key:45s} {value}")


if __name__ == "__main__":
    main()
