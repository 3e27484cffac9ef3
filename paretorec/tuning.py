"""``paretorec.tune``: a config in, a ``Result`` out; a run directory if asked for.

In memory by default. With ``out``, the run directory is written as the run goes (by an
observer), locked against a second process, and can be resumed after a crash.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from paretorec.config import ExperimentConfig, load_config
from paretorec.errors import ConfigError
from paretorec.objectives import STAGE_PREFIX, column
from paretorec.optimize import ALGORITHMS, Observer, engine
from paretorec.optimize.executors import DaskExecutor, ProcessExecutor
from paretorec.optimize.progress import ProgressBar
from paretorec.optimize.rundir import META, STORE, RunDir, run_metadata
from paretorec.result import Result
from paretorec.space import SearchSpace
from paretorec.study import Plan, Study, plan

ConfigLike = ExperimentConfig | str | os.PathLike[str]


def _config(config: ConfigLike) -> ExperimentConfig:
    if isinstance(config, ExperimentConfig):
        return config
    if isinstance(config, str | os.PathLike):
        return load_config(config)
    raise ConfigError(
        f"config: expected an ExperimentConfig or a path, got {type(config).__name__}"
    )


def check(config: ConfigLike) -> Plan:
    """Every check that needs no data: names, types and bounds against the registries, and
    the search settings. Returns the plan (the resolved space and metrics)."""
    config = _config(config)
    planned = plan(config)
    ALGORITHMS.require(config.search.algorithm)
    return planned


def front_vectors(run: str | os.PathLike[str], space: SearchSpace) -> np.ndarray:
    """The unit vectors of a previous run's front, to warm-start a search over the same space."""
    rd = RunDir(run)
    rd.require(META, STORE)
    if rd.read_json(META).get("space") != space.describe():
        raise ConfigError(
            f"warm start {run}: its space differs from this config's; a warm start needs "
            "the same parameters and bounds"
        )
    return np.array([r.x for r in Result.load(run).front_records], dtype=np.float64)


def tune(
    config: ConfigLike,
    out: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    warm_start: str | os.PathLike[str] | np.ndarray | None = None,
    progress: bool = False,
    observers: Sequence[Observer] = (),
) -> Result:
    """Search the config's space and return the run.

    Args:
        config: An ``ExperimentConfig`` (``paretorec.load_config``, or built in code) or a path.
        out: A run directory to write as the run goes; None keeps the run in memory.
        data_dir: Where datasets are (default: ``$PARETOREC_DATA_DIR``, the user cache,
            a checksummed download).
        resume: Continue the run stored in ``out`` (same config and data).
        workers: Evaluate each generation in this many local processes.
        scheduler: Evaluate on an existing Dask cluster at this address instead.
        warm_start: A previous run directory (or unit vectors) whose front seeds the first
            population.
        progress: Show a progress bar on a terminal.
        observers: More observers of the run (``paretorec.optimize.Observer``).
    """
    config = _config(config)
    check(config)
    if workers > 1 and scheduler:
        raise ConfigError("use either workers or a scheduler, not both")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers: `N >= 1` (an integer) must hold, got {workers!r}")
    if out is None:
        if resume:
            raise ConfigError("resume needs the run directory (`out`) to continue")
        return _tune(
            config, None, data_dir, False, workers, scheduler, warm_start, progress, observers
        )
    rd = RunDir(out)
    with rd.locked():
        resuming = rd.check_start(config.to_dict(), resume)
        return _tune(
            config, rd, data_dir, resuming, workers, scheduler, warm_start, progress, observers
        )


def _tune(
    config: ExperimentConfig,
    rd: RunDir | None,
    data_dir: str | os.PathLike[str] | None,
    resuming: bool,
    workers: int,
    scheduler: str | None,
    warm_start: str | os.PathLike[str] | np.ndarray | None,
    progress: bool,
    extra: Sequence[Observer],
) -> Result:
    study = Study.prepare(config, data_dir)
    if isinstance(warm_start, str | os.PathLike):
        warm_start = front_vectors(warm_start, study.space)
    observers: list[Observer] = [ProgressBar()] if progress else []
    observers.extend(extra)
    # the anchors (the baselines) are measured here, in this process, before workers start
    objectives = study.objectives
    executor = None
    try:
        if scheduler:
            executor = DaskExecutor(study, scheduler)
        elif workers > 1:
            executor = ProcessExecutor(study, workers)
        if rd is None:
            outcome = engine.run(
                study, config.search, executor=executor, observers=observers, warm_start=warm_start
            )
        else:
            outcome = rd.run(
                study,
                config.search,
                config.to_dict(),
                resuming,
                executor=executor,
                observers=observers,
                warm_start=warm_start,
            )
    finally:
        if executor is not None:  # the engine closes it too; closing twice is harmless
            executor.close()
    meta = run_metadata(study, config.search, "finished", dict(outcome.stats))
    columns = tuple(column(s, m.name) for m in study.plan.metrics for s in STAGE_PREFIX)
    return Result(
        config,
        study.space,
        tuple(objectives),
        tuple(study.constraints),
        tuple(outcome.records),
        tuple(outcome.history),
        meta,
        columns,
        None if rd is None else Path(rd.path),
    )
