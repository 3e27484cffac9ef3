"""Running the engine on a problem, as the tests need it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from paretorec.config import SearchConfig
from paretorec.optimize import engine
from paretorec.optimize.engine import RunOutcome
from paretorec.optimize.rundir import RunDir


def run_problem(
    problem,
    search: SearchConfig,
    out: Path | None = None,
    *,
    resume: bool = False,
    executor=None,
    warm_start: np.ndarray | None = None,
) -> RunOutcome:
    """In memory, or into the run directory ``out`` (locked, resumable)."""
    if out is None:
        return engine.run(problem, search, executor=executor, warm_start=warm_start)
    rd = RunDir(out)
    config = {"test-problem": search.algorithm, "seed": search.seed}
    with rd.locked():
        resuming = rd.check_start(config, resume)
        return rd.run(problem, search, config, resuming, executor=executor, warm_start=warm_start)


def frame(problem, outcome: RunOutcome) -> pd.DataFrame:
    """One row per trial: trial, generation, parameters, result columns."""
    rows = [
        {"trial": r.trial, "generation": r.generation, **r.params, **r.results}
        for r in outcome.records
    ]
    return pd.DataFrame(
        rows, columns=["trial", "generation", *problem.space.names, *problem.columns()]
    )


def objectives(problem, outcome: RunOutcome) -> np.ndarray:
    """``(n, m)`` the search-stage objective values (test problems minimise all)."""
    return frame(problem, outcome)[problem.columns()].to_numpy()
