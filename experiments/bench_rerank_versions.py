"""The compiled re-ranker against the numpy one it replaced, in one process.

Loads ``paretorec/rerank/reranker.py`` as it was at ``--baseline`` (default: the last commit
with the numpy greedy loop) from git, with the ``pool.py`` it was written against, runs it and
the current ``rerank`` alternately on the same fitted ML-100k candidates (each in its own pool
layout, built from the same candidates, novelty bonus and similarity), checks that lists,
values and slots are identical, and reports
median milliseconds per re-rank over two sets of points: those the 20 x 10 run of
``experiments/ml100k.toml`` evaluated (read from ``--run``, default ``runs/ml100k``, which the
README's first command writes) and uniform points of the space.

    python experiments/bench_rerank_versions.py [--data-dir DIR] [--run runs/ml100k]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
from bench_evaluation import evaluated_points

import paretorec.data.features
from paretorec.config import load_config
from paretorec.models import Model
from paretorec.rerank import CandidatePool, Novelty, RerankSettings, rerank
from paretorec.study import Candidate, Study

ROOT = Path(__file__).resolve().parents[1]
NUMPY_RERANKER = "8bccdb1"
# Where the baseline's modules import ItemSimilarity from (for type hints only); it now lives
# in paretorec.data.features, so that module stands in while they load.
OLD_SIMILARITY = "paretorec.rerank.similarity"


def load_module(commit: str, path: str, name: str) -> ModuleType:
    """The module at ``path`` as it was at ``commit``, loaded as ``name``."""
    source = subprocess.run(
        ["git", "show", f"{commit}:{path}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    file = Path(tempfile.mkdtemp()) / f"{name}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def load_baseline(commit: str) -> tuple[ModuleType, ModuleType]:
    """``paretorec/rerank/reranker.py`` at ``commit`` and the ``pool.py`` it reads (its pool
    layout carries each candidate's novelty bonus and similarity profile)."""
    stand_in = OLD_SIMILARITY not in sys.modules
    if stand_in:
        sys.modules[OLD_SIMILARITY] = paretorec.data.features
    try:
        reranker = load_module(commit, "paretorec/rerank/reranker.py", "baseline_reranker")
        pool = load_module(commit, "paretorec/rerank/pool.py", "baseline_pool")
    finally:
        if stand_in:
            del sys.modules[OLD_SIMILARITY]
    return reranker, pool


@dataclass(frozen=True, eq=False)
class Case:
    """One point's re-rank in both layouts: the same candidates, novelty and similarity."""

    pool: CandidatePool
    settings: RerankSettings
    old_pool: Any  # the baseline's CandidatePool
    weights: Any  # the baseline's RerankWeights


def old_layout(pool: CandidatePool, old_pool_module: ModuleType) -> Any:
    """The baseline's pool of the same candidates: built as the pipeline of its time built it,
    from user-major candidates, the stage's novelty bonus and the item similarity."""
    reference = pool.reference
    return old_pool_module.CandidatePool.build(
        pool.items[:-1].T,  # user-major, without the empty last row (build adds it back)
        pool.scores[:-1].T,
        Novelty().bonus(reference),
        reference.similarity,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--run", default=str(ROOT / "runs" / "ml100k"))
    parser.add_argument("--baseline", default=NUMPY_RERANKER)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "rerank_versions.json"))
    args = parser.parse_args()
    old, old_pool_module = load_baseline(args.baseline)
    study = Study.prepare(load_config(ROOT / "experiments" / "ml100k.toml"), args.data_dir)
    space, pipe = study.space, study.pipeline
    k = study.config.evaluation.k
    similarity = pipe.similarity
    old_pools: dict[Model, Any] = {}  # one per fitted model, like the pools

    def case(values: dict, diversity: float | None = None) -> Case:
        """The point's re-rank in both layouts; ``diversity`` overrides its weight."""
        cand = Candidate.from_values(values)
        pool, settings = pipe.candidates("validation", cand.model).pool, cand.rerank
        if cand.model not in old_pools:
            old_pools[cand.model] = old_layout(pool, old_pool_module)
        if diversity is not None:
            settings = RerankSettings.of(
                settings.pool, diversity=diversity, novelty=settings.weight("novelty")
            )
        weights = old.RerankWeights(
            pool=settings.pool,
            diversity=settings.weight("diversity"),
            novelty=settings.weight("novelty"),
        )
        return Case(pool, settings, old_pools[cand.model], weights)

    searched = evaluated_points(space, pd.read_csv(Path(args.run) / "trials.csv"))
    rng = np.random.default_rng(0)
    uniform = [space.decode(x) for x in space.repair(rng.random((60, space.n_var)))]

    report: dict = {"baseline_commit": args.baseline, "machine": "2 cores, shared; medians"}
    for label, points in (("search_points", searched), ("uniform_points", uniform)):
        cases = [case(values) for values in points]
        checked = 0
        # Also a near-zero diversity weight. Below about 1e-38, where value / weight overflows
        # float32, the two differ on purpose: the numpy version returned empty lists, the
        # compiled one ranks as weight 0.
        for values, c in zip(points, cases, strict=True):
            for each in (c, case(values, diversity=1e-6)):
                a = old.rerank(each.old_pool, each.weights, k, similarity)
                b = rerank(each.pool, each.settings, k)
                for name in ("items", "values", "slots"):
                    if not np.array_equal(getattr(a, name), getattr(b, name)):
                        raise SystemExit(f"{label}: {name} differ for {each.weights}")
                checked += 1
        times: dict[str, list[float]] = {"numpy": [], "compiled": []}
        for _ in range(args.repeats):
            for c in cases:
                start = time.perf_counter()
                old.rerank(c.old_pool, c.weights, k, similarity)
                times["numpy"].append(1000 * (time.perf_counter() - start))
            for c in cases:
                start = time.perf_counter()
                rerank(c.pool, c.settings, k)
                times["compiled"].append(1000 * (time.perf_counter() - start))
        numpy_ms, compiled_ms = (float(np.median(times[n])) for n in ("numpy", "compiled"))
        report[label] = {
            "points": len(cases),
            "identical_cases": checked,
            "numpy_ms": round(numpy_ms, 3),
            "compiled_ms": round(compiled_ms, 3),
            "speedup": round(numpy_ms / compiled_ms, 2),
        }
        print(label, json.dumps(report[label]))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
