"""Local parallel evaluation on ML-100k: wall time and model fits of one NSGA-II run, serial and
with two worker processes, routing points by model key (paretorec's executor) or round-robin
(what a plain process pool does). Fits are what routing saves: every worker that sees a model
fits it once, so round-robin fits a popular model on every worker.

    python experiments/bench_parallel.py [--data-dir DIR] [--generations 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench_evaluation import run_in_dir

from paretorec.config import load_config
from paretorec.optimize.executors import ProcessExecutor, Router
from paretorec.study import Study

ROOT = Path(__file__).resolve().parents[1]


class RoundRobin(Router):
    """Job i of a generation goes to worker i mod N, whatever its model."""

    def __init__(self, n_workers: int, affinity: Callable[[Mapping[str, Any]], tuple]) -> None:
        super().__init__(n_workers, affinity)
        self.next = 0

    def worker(self, values) -> int:
        self.next = (self.next + 1) % self.n_workers
        return self.next


def one_run(config, data_dir, workers: int, router: type[Router] | None) -> dict:
    study = Study.prepare(config, data_dir)
    _ = study.objectives  # baselines: setup
    executor = None
    if workers > 1:
        executor = ProcessExecutor(study, workers)
        if router is not None:
            executor.router = router(workers, study.affinity)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        outcome = run_in_dir(study, config.search, config.to_dict(), out, executor)
        wall = time.perf_counter() - start
        fits = json.loads((Path(out) / "run.json").read_text())["fits"]
    return {"wall_seconds": round(wall, 2), "evaluations": len(outcome.records), "fits": fits}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--generations", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "parallel.json"))
    args = parser.parse_args()
    config = load_config(ROOT / "experiments" / "ml100k.toml")
    config = dataclasses.replace(
        config, search=dataclasses.replace(config.search, generations=args.generations)
    )
    report = {
        "serial": one_run(config, args.data_dir, 1, None),
        "workers_2_routed_by_model": one_run(config, args.data_dir, 2, None),
        "workers_2_round_robin": one_run(config, args.data_dir, 2, RoundRobin),
        "note": "fits: the search's own (run.json), without the baselines' setup fits; wall "
        "time includes worker start-up",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
