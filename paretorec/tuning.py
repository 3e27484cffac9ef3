"""``paretorec.tune``: a config in, a ``Result`` out; a run directory if asked for.

In memory by default. With ``out``, the run directory is written as the run goes (by an
observer), locked against a second process, and can be resumed after a crash.

Before any data is read or model fitted, ``preflight`` checks everything that can be checked
cheaply (the config, the output folder, the data's files, the options, a memory estimate), so
a mistake stops the run in a second rather than after the fits; ``paretorec tune CONFIG
--check`` runs it alone.
"""

from __future__ import annotations

import os
import urllib.parse
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paretorec.config import ExperimentConfig, load_config
from paretorec.data.locate import cache_dir, configured_dir
from paretorec.data.movielens import ML_100K, ML_LATEST_SMALL
from paretorec.errors import (
    ConfigError,
    ConfigWarning,
    DataError,
    MissingExtraError,
    ParetoRecError,
)
from paretorec.models.base import available_memory
from paretorec.objectives import STAGE_PREFIX, column
from paretorec.optimize import ALGORITHMS, Observer, engine
from paretorec.optimize.engine import RunOutcome, RunState
from paretorec.optimize.executors import DaskExecutor, ProcessExecutor
from paretorec.optimize.progress import ProgressBar
from paretorec.optimize.rundir import META, STORE, RunDir, run_metadata, writable_dir
from paretorec.optimize.store import HistoryRow, TrialRecord
from paretorec.result import Result, constraint_shortfall
from paretorec.space import SearchSpace
from paretorec.study import Plan, Study, plan
from paretorec.study.pipeline import CANDIDATE_BYTES

ConfigLike = ExperimentConfig | str | os.PathLike[str]

# More local workers than this only queue for the cores (and each holds its own caches).
WORKERS_PER_CORE = 4
# Algorithms that sample points and so also run on a space without free parameters.
SAMPLERS = ("random", "lhs", "sobol", "tpe", "tpe-independent")
DASK_SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")
# Users of the registered datasets, for a memory estimate before they are read.
KNOWN_USERS = {"ml-100k": 943, "ml-latest-small": 610}


class InfeasibleWarning(ConfigWarning):
    """A finished run in which no evaluated point met every constraint."""


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
    the search settings. Returns the plan (the resolved space and metrics). Errors of a config
    read from a file start with the file's name."""
    loaded = _config(config)
    try:
        with warnings.catch_warnings(record=True) as caught:  # shown only if nothing fails
            warnings.simplefilter("always")
            planned = plan(loaded)
            ALGORITHMS.require(loaded.search.algorithm)
            _check_free(planned, loaded.search.algorithm)
    except ParetoRecError as exc:
        if isinstance(config, ExperimentConfig) or isinstance(exc, MissingExtraError):
            raise  # no file to name, or the fix is an install, not an edit of the file
        raise type(exc)(f"{config}: {exc}") from None
    for warning in caught:
        warnings.warn(warning.message, warning.category, stacklevel=2)
    return planned


def _check_free(planned: Plan, algorithm: str) -> None:
    """An evolutionary search needs at least one free parameter (pymoo's operators fail on
    vectors of length 0); a sampler can still evaluate the one fixed point."""
    if planned.space.n_var or algorithm in SAMPLERS:
        return
    raise ConfigError(
        f"space: every parameter is fixed ({', '.join(planned.space.names)}), so {algorithm} "
        "has nothing to search; give one a range {low, high} or a list of choices, or use "
        'algorithm = "random" to evaluate the fixed point'
    )


@dataclass(frozen=True)
class Preflight:
    """What ``preflight`` found: the checked config and plan, the warm start's vectors, and
    one line per check for ``tune --check``."""

    config: ExperimentConfig
    plan: Plan
    warm_start: np.ndarray | None = None
    lines: list[str] = field(default_factory=list)


def preflight(
    config: ConfigLike,
    out: str | os.PathLike[str] | None = None,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    warm_start: str | os.PathLike[str] | np.ndarray | None = None,
    create: bool = False,
) -> Preflight:
    """Every check of a run that needs neither the data loaded nor a model fitted.

    Args:
        config: The config (or its file).
        out: The run directory; ``create`` makes it (a run), otherwise nothing is left behind.
        data_dir, resume, workers, scheduler, warm_start: As for ``tune``.

    Raises:
        ParetoRecError: the first problem found, naming the file or option and the fix.
    """
    planned = check(config)
    loaded = planned.config
    _check_options(workers, scheduler, resume, out)
    lines = [_summary(config, loaded, planned)]
    if out is not None:
        lines.append(_check_out(Path(out), loaded, resume, create))
    lines.append(_check_data(loaded, data_dir))
    lines.append(_check_memory(loaded, planned, workers))
    vectors = warm_start
    if isinstance(warm_start, str | os.PathLike):
        vectors = front_vectors(warm_start, planned.space)
        lines.append(f"warm start: {len(vectors)} front points of {warm_start}")
    return Preflight(loaded, planned, vectors, [line for line in lines if line])


def _summary(config: ConfigLike, loaded: ExperimentConfig, planned: Plan) -> str:
    search = loaded.search
    name = "config" if isinstance(config, ExperimentConfig) else str(config)
    return (
        f"{name}: valid; {search.algorithm}, up to {search.budget} evaluations, "
        f"{planned.space.n_var} searched parameters, {len(loaded.objectives or ())} objectives, "
        f"{len(planned.constraints)} constraints"
    )


def max_workers() -> int:
    """The most local worker processes ``tune`` starts."""
    return WORKERS_PER_CORE * (os.cpu_count() or 1)


def _check_options(
    workers: int, scheduler: str | None, resume: bool, out: str | os.PathLike[str] | None
) -> None:
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers: `N >= 1` (an integer) must hold, got {workers!r}")
    if workers > max_workers():
        raise ConfigError(
            f"--workers {workers}: at most {max_workers()} must hold ({WORKERS_PER_CORE} per "
            f"core, {os.cpu_count() or 1} cores here); more processes only queue for the cores"
        )
    if workers > 1 and scheduler:
        raise ConfigError("use either workers or a scheduler, not both")
    if scheduler is not None:
        check_scheduler(scheduler)
    if resume and out is None:
        raise ConfigError("resume needs the run directory (`out`) to continue")


def check_scheduler(address: str) -> str:
    """A Dask scheduler address: ``SCHEME://HOST:PORT`` (tcp, tls, ...) or ``HOST:PORT``."""
    text = address.strip()
    parts = urllib.parse.urlsplit(text if "://" in text else f"tcp://{text}")
    try:
        port = parts.port
    except ValueError:
        port = None
    ok = (
        parts.scheme in DASK_SCHEMES
        and bool(parts.hostname)
        and not any(ch.isspace() for ch in text)
        and (parts.scheme == "inproc" or (port is not None and parts.path in ("", "/")))
    )
    if not ok:
        raise ConfigError(
            f"--scheduler {address!r}: not a Dask scheduler address; expected "
            "tcp://HOST:PORT (or HOST:PORT), e.g. tcp://10.0.0.5:8786"
        )
    return text


def _check_out(out: Path, config: ExperimentConfig, resume: bool, create: bool) -> str:
    writable_dir(out, "--out", create=create)
    rd = RunDir(out)
    resuming = rd.check_start(config.to_dict(), resume)
    if resuming:
        return f"output {out}: resumes the {rd.stored_trials()} stored trials"
    return f"output {out}: writable (a new run)"


def _check_data(config: ExperimentConfig, data_dir: str | os.PathLike[str] | None) -> str:
    """The data's files are there and readable (not parsed: that is the load's job)."""
    data = config.data
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataError(f"--data-dir {data_dir}: no such folder; fix the path or leave it out")
    if data.dataset == "file":
        for key in ("path", "items"):
            value = getattr(data, key)
            if value is not None:
                _readable(Path(value), f"[data] {key}")
        return f"data: {data.path} is readable"
    remote = {r.name: r for r in (ML_100K, ML_LATEST_SMALL)}.get(data.dataset)
    if remote is None:
        return f"data: {data.dataset} (generated or a plug-in's; read when the run starts)"
    explicit = configured_dir(data_dir)
    for folder in ([explicit / remote.name] if explicit is not None else []) + [
        cache_dir() / remote.name
    ]:
        if all((folder / name).is_file() for name in remote.files):
            for name in remote.files:
                _readable(folder / name, data.dataset)
            return f"data: {data.dataset} in {folder}"
    return f"data: {data.dataset} not found locally; the run downloads it from {remote.url}"


def _readable(path: Path, what: str) -> None:
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror
        raise DataError(f"{what} {path}: cannot read it ({reason}); fix the path") from None


def candidate_bytes(users: int, pool: int) -> int:
    """Memory of one fitted model's candidate lists (validation and test stages)."""
    return 2 * users * pool * CANDIDATE_BYTES


def _check_memory(config: ExperimentConfig, planned: Plan, workers: int) -> str:
    users = KNOWN_USERS.get(config.data.dataset)
    if users is None:
        return ""  # unknown before the data is read; the study checks it then
    need = candidate_bytes(users, planned.max_pool)
    free = available_memory()
    line = (
        f"memory: about {need / 2**20:.0f} MiB per fitted model's candidate lists "
        f"({users} users x pool {planned.max_pool})"
    )
    if free is not None:
        line += f"; {free / 2**30:.1f} GiB available"
        if need * workers > free:
            raise ConfigError(
                f"{line}: too little; lower `rerank.pool`'s high bound in [space] or --workers"
            )
    return line


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


class FeasibilityWatch(Observer):
    """Says early (after the first generation) and at the end when no evaluated point meets
    the constraints, which one and by how much: a search under an impossible constraint
    would otherwise spend its whole budget and end with an empty front."""

    def __init__(self) -> None:
        self.warned = False

    def generation(self, state: RunState, records: list[TrialRecord], row: HistoryRow) -> None:
        if self.warned or not state.problem.constraints or state.ledger.front():
            return
        self.warned = True
        warnings.warn(
            f"after generation {row[0]}, "
            + constraint_shortfall(state.problem.constraints, state.ledger.records)
            + "; the search goes on, but the constraint may be out of reach",
            ConfigWarning,
            stacklevel=2,
        )

    def finished(self, state: RunState, outcome: RunOutcome) -> None:
        if state.problem.constraints and not outcome.front:
            warnings.warn(
                "the run ended with an empty front: "
                + constraint_shortfall(state.problem.constraints, outcome.records),
                InfeasibleWarning,
                stacklevel=2,
            )


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
    checked = preflight(
        config,
        out,
        data_dir=data_dir,
        resume=resume,
        workers=workers,
        scheduler=scheduler,
        warm_start=warm_start,
        create=True,
    )
    config = checked.config
    watched = [FeasibilityWatch(), *observers]
    if out is None:
        return _tune(
            config, None, data_dir, False, workers, scheduler, checked.warm_start, progress, watched
        )
    rd = RunDir(out)
    with rd.locked():
        resuming = rd.check_start(config.to_dict(), resume)
        if resuming and rd.finished():
            return Result.load(out)  # nothing left to do: no file is rewritten
        return _tune(
            config,
            rd,
            data_dir,
            resuming,
            workers,
            scheduler,
            checked.warm_start,
            progress,
            watched,
        )


def _tune(
    config: ExperimentConfig,
    rd: RunDir | None,
    data_dir: str | os.PathLike[str] | None,
    resuming: bool,
    workers: int,
    scheduler: str | None,
    warm_start: np.ndarray | None,
    progress: bool,
    extra: Sequence[Observer],
) -> Result:
    with warnings.catch_warnings():  # the config's warnings were shown by the preflight
        warnings.simplefilter("ignore", ConfigWarning)
        study = Study.prepare(config, data_dir)
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
