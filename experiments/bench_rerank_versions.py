"""The compiled re-ranker against the numpy one it replaced, in one process.

Loads ``paretorec/rerank/reranker.py`` as it was at ``--baseline`` (default: the last commit
with the numpy greedy loop) from git, runs it and the current ``rerank`` alternately on the
same fitted ML-100k pools, checks that lists, values and slots are identical, and reports
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
from pathlib import Path

import numpy as np
import pandas as pd
from bench_evaluation import evaluated_points

from paretorec.config import load_config
from paretorec.pipeline import Candidate
from paretorec.rerank import RerankWeights, rerank
from paretorec.study import Study

ROOT = Path(__file__).resolve().parents[1]
NUMPY_RERANKER = "8bccdb1"


def load_baseline(commit: str):
    """The module ``paretorec/rerank/reranker.py`` at ``commit``."""
    source = subprocess.run(
        ["git", "show", f"{commit}:paretorec/rerank/reranker.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_reranker.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_reranker", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["baseline_reranker"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--run", default=str(ROOT / "runs" / "ml100k"))
    parser.add_argument("--baseline", default=NUMPY_RERANKER)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "rerank_versions.json"))
    args = parser.parse_args()
    old = load_baseline(args.baseline)
    study = Study.prepare(load_config(ROOT / "experiments" / "ml100k.toml"), args.data_dir)
    space, pipe = study.space, study.pipeline
    k = study.config.evaluation.k

    searched = evaluated_points(space, pd.read_csv(Path(args.run) / "trials.csv"))
    rng = np.random.default_rng(0)
    uniform = [space.decode(x) for x in space.repair(rng.random((60, space.n_var)))]

    report: dict = {"baseline_commit": args.baseline, "machine": "2 cores, shared; medians"}
    for label, points in (("search_points", searched), ("uniform_points", uniform)):
        cases = []
        for values in points:
            cand = Candidate.from_values(values)
            cases.append((pipe.candidates("validation", cand.model).pool, cand.rerank))
        checked = 0
        # Also a near-zero diversity weight. Below about 1e-38, where value / weight overflows
        # float32, the two differ on purpose: the numpy version returned empty lists, the
        # compiled one ranks as weight 0.
        for pool, w in cases:
            for weights in (w, RerankWeights(pool=w.pool, diversity=1e-6, novelty=w.novelty)):
                a = old.rerank(pool, weights, k, pipe.similarity)
                b = rerank(pool, weights, k, pipe.similarity)
                for name in ("items", "values", "slots"):
                    if not np.array_equal(getattr(a, name), getattr(b, name)):
                        raise SystemExit(f"{label}: {name} differ for {weights}")
                checked += 1
        times: dict[str, list[float]] = {"numpy": [], "compiled": []}
        for _ in range(args.repeats):
            for impl, name in ((old.rerank, "numpy"), (rerank, "compiled")):
                for pool, w in cases:
                    start = time.perf_counter()
                    impl(pool, w, k, pipe.similarity)
                    times[name].append(1000 * (time.perf_counter() - start))
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
