"""Where Optuna's TPE gains hypervolume over one of paretorec's searches, on one seed.

Runs one of paretorec's algorithms (CMOPSO unless told) and Optuna's TPE (exactly as
``bench_search.py`` does) for one seed and budget, then reports:
- each method's hypervolume, and what each adds to the union of both point sets;
- the points of the union with the largest exclusive contribution (which method found them,
  their parameters and objectives);
- how each method spent its evaluations near the bounds of the re-rank parameters (pool at
  its lower bound, diversity and novelty weights near 0).

    python experiments/compare_fronts.py [--algorithm cmopso] [--seed 4] [--budget 1000]
                                         [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from bench_search import base_config, hv_of, objective_columns, optuna_run

from paretorec.objectives import hypervolume, normalise, to_min
from paretorec.optimize import TrialRecord, engine
from paretorec.study import Study

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ["model", "itemknn.k", "itemknn.shrinkage", "ease.l2", "rerank.pool"]
PARAMS += ["rerank.diversity", "rerank.novelty"]


def trials_frame(study: Study, records: Sequence[TrialRecord]) -> pd.DataFrame:
    """One row per trial as a run's ``trials.csv`` has it: parameters by name (missing when
    inactive), then every result column."""
    names = study.space.names
    rows = [
        {
            "trial": r.trial,
            "generation": r.generation,
            **{name: r.params.get(name) for name in names},
            **r.results,
        }
        for r in records
    ]
    return pd.DataFrame(rows, columns=["trial", "generation", *names, *study.columns()])


def ours(
    algorithm: str, seed: int, budget: int, data_dir: str | None
) -> tuple[Study, pd.DataFrame]:
    study = Study.prepare(base_config(budget, seed, algorithm), data_dir)
    _ = study.objectives
    # in memory: only the trials are compared here, not the time the run took
    outcome = engine.run(study, study.config.search)
    return study, trials_frame(study, outcome.records).sort_values("trial")


def tpe(seed: int, budget: int, data_dir: str | None) -> pd.DataFrame:
    _, rows, _ = optuna_run("tpe", budget, seed, data_dir)
    return pd.DataFrame(rows)


def at_bounds(frame: pd.DataFrame, k: int) -> dict[str, float]:
    return {
        f"pool == {k}": round(float((frame["rerank.pool"] == k).mean()), 3),
        "diversity == 0": round(float((frame["rerank.diversity"] == 0).mean()), 3),
        "0 < diversity < 0.01": round(
            float(frame["rerank.diversity"].between(1e-300, 0.01).mean()), 3
        ),
        "novelty < 0.01": round(float((frame["rerank.novelty"] < 0.01).mean()), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--algorithm", default="cmopso")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = args.algorithm
    study, mine = ours(name, args.seed, args.budget, args.data_dir)
    theirs = tpe(args.seed, args.budget, args.data_dir)
    columns = objective_columns(study)
    both = pd.concat([mine.assign(found_by=name), theirs.assign(found_by="tpe")])
    both = both.reset_index(drop=True)
    points = normalise(study.objectives, to_min(study.objectives, both[columns].to_numpy(float)))
    union = hypervolume(points)
    mask = (both["found_by"] == name).to_numpy()
    both["exclusive"] = [
        union - hypervolume(np.delete(points, i, axis=0)) for i in range(len(both))
    ]
    k = study.config.evaluation.k
    report = {
        "seed": args.seed,
        "budget": args.budget,
        "hypervolume": {
            name: hv_of(study, mine[columns].to_numpy(float)),
            "tpe": hv_of(study, theirs[columns].to_numpy(float)),
            "union": union,
            f"{name} adds to tpe": union - hypervolume(points[~mask]),
            f"tpe adds to {name}": union - hypervolume(points[mask]),
        },
        "evaluations near the bounds": {
            name: at_bounds(mine, k),
            "tpe": at_bounds(theirs, k),
        },
    }
    print(json.dumps(report, indent=2))
    top = both[both["exclusive"] > 0].nlargest(args.top, "exclusive")
    print(top[["found_by", *PARAMS, *columns, "exclusive"]].to_string(index=False))


if __name__ == "__main__":
    main()
