"""The run loop: ask pymoo for a generation, evaluate it, commit each result, repeat.

Durability: every evaluation is committed to the SQLite trial store as soon as it finishes,
before the next one is handed out, and mirrored to CSV after each generation. A run resumed
with ``resume=True`` re-creates the algorithm from the same seed and, for every point the store
already holds, hands pymoo the stored result instead of evaluating again. pymoo is deterministic
given its seed and the objective values, so the resumed run asks for exactly the points the
uninterrupted run would have, and ends with the same front.

The loop works on any *target* with a space, objectives, constraints and an ``evaluate``:
a recommender ``Study``, or a known test problem (``paretorec.optimize.testproblems``).
"""

from __future__ import annotations

import csv
import json
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymoo
from pymoo.core.evaluator import Evaluator
from pymoo.core.problem import Problem
from pymoo.core.termination import NoTermination
from tqdm import tqdm

from paretorec import __version__
from paretorec.errors import ConfigError
from paretorec.objectives import normalise, to_min
from paretorec.optimize.algorithms import ALGORITHMS
from paretorec.optimize.executors import Job, SerialExecutor
from paretorec.optimize.store import TrialRecord, TrialStore
from paretorec.select.pareto import finite_min, front_mask, hypervolume

CONFIG = "config.json"
META = "run.json"
TRIALS = "trials.csv"
FRONT = "front.csv"
HISTORY = "history.csv"
HV_TOLERANCE = 1e-9  # a hypervolume gain below this does not reset the stagnation count


class _SearchProblem(Problem):
    """pymoo's view of the target: unit-cube variables, minimised F, constraints as G <= 0."""

    def __init__(self, n_var: int, n_obj: int, n_constr: int, batch: Any) -> None:
        super().__init__(n_var=n_var, n_obj=n_obj, n_ieq_constr=n_constr, xl=0.0, xu=1.0)
        self._batch = batch

    def _evaluate(self, X, out, *args, **kwargs):
        F, G = self._batch(X)
        out["F"] = F
        if G is not None:
            out["G"] = G


@dataclass
class _State:
    generation: int = 0
    trial: int = 0


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


def _write_rows(path: Path, rows: list) -> None:
    """Write CSV rows atomically (the csv module: far cheaper than pandas for a few rows)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    tmp.replace(path)


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)


def trials_frame(target: Any, records: list[TrialRecord]) -> pd.DataFrame:
    """One row per trial: ids, parameters by name (blank when inactive), results, timing."""
    names = target.space.names
    rows = [
        {
            "trial": r.trial,
            "generation": r.generation,
            **{name: r.params.get(name) for name in names},
            **r.results,
            "seconds": r.seconds,
            "cached": r.cached,
        }
        for r in records
    ]
    columns = ["trial", "generation", *names, *target.columns(), "seconds", "cached"]
    return pd.DataFrame(rows, columns=columns)


HISTORY_COLUMNS = ("generation", "evaluations", "hypervolume", "front_size", "elapsed_seconds")


def _csv_row(target: Any, r: TrialRecord) -> list[Any]:
    """A trials.csv row, in ``trials_frame``'s column order (blank for inactive or missing)."""
    params = [r.params.get(name, "") for name in target.space.names]
    results = [r.results.get(col, "") for col in target.columns()]
    return [r.trial, r.generation, *params, *results, r.seconds, r.cached]


def objective_matrix(target: Any, frame: pd.DataFrame, stage: str = "validation") -> np.ndarray:
    """``(n, m)`` minimisation F of a trials frame's objectives."""
    values = frame[target.objective_columns(stage)].to_numpy(dtype=np.float64)
    return finite_min(to_min(target.objectives, values))


def violations(target: Any, results: pd.DataFrame) -> np.ndarray | None:
    """``(n, n_constraints)`` pymoo G of result rows (validation values), None if unconstrained."""
    if not target.constraints:
        return None
    pairs = zip(target.constraints, target.constraint_columns(), strict=True)
    return np.column_stack([c.violation(results[col].to_numpy(np.float64)) for c, col in pairs])


def feasible_mask(target: Any, frame: pd.DataFrame) -> np.ndarray:
    """Rows that satisfy every constraint (on validation values)."""
    G = violations(target, frame)
    return np.ones(len(frame), dtype=bool) if G is None else np.all(G <= 0, axis=1)


def front_rows(target: Any, frame: pd.DataFrame) -> np.ndarray:
    """Mask of feasible rows non-dominated (validation objectives) among feasible rows."""
    return _front(objective_matrix(target, frame), feasible_mask(target, frame))


def _front(F: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    mask = np.zeros(len(F), dtype=bool)
    if feasible.any():
        idx = np.flatnonzero(feasible)
        mask[idx[front_mask(F[idx])]] = True
    return mask


class _Ledger:
    """What the loop knows about the trials so far, kept incrementally: each generation costs
    time in its own size and the front's, not in the size of the whole run."""

    def __init__(self, target: Any, run_dir: Path, stored: list[TrialRecord]) -> None:
        self.target = target
        self.run_dir = run_dir
        self.records: list[TrialRecord] = []
        self.front_index: np.ndarray = np.zeros(0, dtype=np.int64)  # indices into records
        self.front_F = np.zeros((0, len(target.objectives)))
        self.front_members: tuple[int, ...] | None = None  # trial ids, as last written
        _write_csv(run_dir / TRIALS, trials_frame(target, stored))  # what the store holds
        self.on_disk = {r.trial for r in stored}
        self.written = 0
        self.header = list(trials_frame(target, []).columns)

    def extend(self, records: list[TrialRecord], F: np.ndarray, G: np.ndarray | None) -> None:
        """Add a generation; the front is merged with the new feasible points only (the
        hypervolume of all points equals that of their front)."""
        offset = len(self.records)
        self.records.extend(records)
        ok = np.ones(len(records), bool) if G is None else np.all(G <= 0, axis=1)
        rows = np.concatenate([self.front_index, offset + np.flatnonzero(ok)])
        F_all = np.vstack([self.front_F, F[ok]])
        keep = front_mask(F_all) if len(F_all) else np.zeros(0, bool)
        self.front_index, self.front_F = rows[keep], F_all[keep]

    def front_size(self) -> int:
        """Distinct parameter sets on the front (what front.csv lists)."""
        names = self.target.space.names
        return len({tuple(self.records[i].params.get(n) for n in names) for i in self.front_index})

    def hypervolume(self) -> float:
        return (
            hypervolume(normalise(self.target.objectives, self.front_F))
            if len(self.front_F)
            else 0.0
        )

    def mirror(self, store: TrialStore) -> None:
        """Append the new trials to trials.csv; rewrite front.csv when the front changed and
        history.csv (a few lines)."""
        new = [r for r in self.records[self.written :] if r.trial not in self.on_disk]
        if new:
            with (self.run_dir / TRIALS).open("a", newline="") as fh:
                csv.writer(fh).writerows(_csv_row(self.target, r) for r in new)
            self.on_disk.update(r.trial for r in new)
        self.written = len(self.records)
        members = tuple(sorted(self.records[i].trial for i in self.front_index))
        if members != self.front_members:
            chosen = sorted((self.records[i] for i in self.front_index), key=lambda r: r.trial)
            names, seen, rows = self.target.space.names, set(), []
            for r in chosen:  # one row per distinct parameter set, as drop_duplicates would
                key = tuple(r.params.get(n) for n in names)
                if key not in seen:
                    seen.add(key)
                    rows.append(_csv_row(self.target, r))
            _write_rows(self.run_dir / FRONT, [self.header, *rows])
            self.front_members = members
        _write_rows(self.run_dir / HISTORY, [HISTORY_COLUMNS, *store.history()])


def front_vectors(run_dir: str | Path, space: Any) -> np.ndarray:
    """The unit vectors of a previous run's front, to warm-start a search over the same space."""
    run_dir = Path(run_dir)
    meta_path = run_dir / META
    needed = (meta_path, run_dir / TrialStore.FILENAME, run_dir / FRONT)
    if not all(path.is_file() for path in needed):
        raise ConfigError(f"--warm-start {run_dir}: not a paretorec run directory")
    meta = json.loads(meta_path.read_text())
    if meta.get("space") != space.describe():
        raise ConfigError(
            f"--warm-start {run_dir}: its space differs from this config's; a warm start needs "
            "the same parameters and bounds"
        )
    front = pd.read_csv(run_dir / FRONT)["trial"].astype(int).tolist()
    store = TrialStore(run_dir)
    try:
        by_trial = {r.trial: r.x for r in store.trials()}
    finally:
        store.close()
    return np.array([by_trial[t] for t in front if t in by_trial], dtype=np.float64)


def run_search(
    target: Any,
    run_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    executor: Any = None,
    warm_start: np.ndarray | None = None,
) -> pd.DataFrame:
    """Run the target's configured search, writing the run directory as it goes.

    Args:
        target: A ``Study`` (or a test problem) to optimise.
        run_dir: Output directory (created).
        resume: Continue a run found in ``run_dir`` (same config and data required).
        progress: Show a progress bar on a terminal.
        executor: Where evaluations run (default: this process).
        warm_start: Unit vectors to put in the first population (a previous run's front).

    Returns:
        The trials frame (also in ``trials.csv``).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    store_exists = (run_dir / TrialStore.FILENAME).exists()
    if store_exists and not resume:
        raise ConfigError(
            f"{run_dir} already holds a run; pass --resume to continue it or choose another --out"
        )
    started = datetime.now(UTC).isoformat(timespec="seconds")
    if store_exists:
        saved = json.loads((run_dir / CONFIG).read_text())
        if saved != target.config_dict():
            raise ConfigError(
                f"{run_dir}: --resume needs the config the run was started with "
                f"(see {run_dir / CONFIG})"
            )
        meta = json.loads((run_dir / META).read_text())
        if meta.get("dataset", {}).get("checksum") != target.metadata().get("dataset", {}).get(
            "checksum"
        ):
            raise ConfigError(f"{run_dir}: --resume on different data than the run started with")
        started = meta.get("started", started)
        if meta.get("warm_start") is not None:
            warm_start = np.asarray(meta["warm_start"]["x"], dtype=np.float64)
    search = target.search
    starts = []  # the baselines first: a large warm start must not crowd them out
    if getattr(search, "start_from_baselines", False) and hasattr(target, "baseline_points"):
        starts.append(target.baseline_points())
    if warm_start is not None:
        starts.append(np.atleast_2d(warm_start))
    initial = target.space.repair(np.vstack(starts)) if starts else None
    # built before anything is written, so a missing optional dependency leaves no run behind
    algorithm = ALGORITHMS.get(search.algorithm)(search, target.space, target.objectives, initial)
    _write_json(run_dir / CONFIG, target.config_dict())
    warm_meta = None if warm_start is None else {"x": np.asarray(warm_start).tolist()}
    _write_json(
        run_dir / META, _metadata(target, "running", {"started": started, "warm_start": warm_meta})
    )

    store = TrialStore(run_dir)
    previous = {r.trial: r for r in store.trials()}
    stored_history = {row[0]: row for row in store.history()}
    executor = executor or SerialExecutor(target)
    setup_fits = getattr(target, "fits", 0)  # the baselines, fitted here before the search
    records: list[TrialRecord] = []
    ledger = _Ledger(target, run_dir, sorted(previous.values(), key=lambda r: r.trial))
    state = _State()
    budget = search.budget
    bar = tqdm(total=budget, unit="eval", desc="tune", disable=None if progress else True)
    objective_cols = target.objective_columns()
    stages = target.stages()
    previous_elapsed = max((row[4] for row in stored_history.values()), default=0.0)

    def batch(X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        first = state.trial
        values = [target.space.decode(x) for x in X]
        fresh: list[int] = []
        out: list[TrialRecord | None] = [None] * len(X)
        for i, x in enumerate(X):
            stored = previous.get(first + i)
            if stored is None:
                fresh.append(i)
                continue
            if not np.allclose(stored.x, x, rtol=0.0, atol=1e-12):
                raise ConfigError(
                    f"{run_dir}: stored trial {first + i} differs from what the seeded search "
                    "asks for; the run cannot be resumed (was it made by another version?)"
                )
            out[i] = stored
            bar.update(1)
        jobs = [Job(values[i], stages) for i in fresh]
        for j, outcome in executor.map(jobs):
            i = fresh[j]
            record = TrialRecord(
                first + i,
                state.generation,
                tuple(float(v) for v in X[i]),
                values[i],
                outcome.results,
                outcome.seconds,
                outcome.cached,
            )
            store.add(record)  # committed before the next result is looked at
            out[i] = record
            bar.update(1)
        done = [r for r in out if r is not None]
        records.extend(done)
        state.trial += len(X)
        F = np.array([[r.results[c] for c in objective_cols] for r in done])
        F = finite_min(to_min(target.objectives, F))
        G = violations(target, pd.DataFrame([r.results for r in done]))
        ledger.extend(done, F, G)
        return F, G

    problem = _SearchProblem(
        target.space.n_var, len(target.objectives), len(target.constraints), batch
    )
    algorithm.setup(problem, termination=NoTermination(), seed=search.seed)
    evaluator = Evaluator()
    best_hv, stale = -np.inf, 0
    hv = 0.0
    replay_end = max(previous, default=-1) + 1  # trials before this id are stored
    live_since: float | None = None  # when this session started evaluating new points
    try:
        while algorithm.has_next():
            if state.generation >= search.generations or len(records) >= budget:
                break
            # Stops that depend on the clock or on the search's progress never cut a replay
            # short: the stored generations are the run's past, not this session's choices.
            if state.trial >= replay_end:
                live_since = time.perf_counter() if live_since is None else live_since
                elapsed = previous_elapsed + time.perf_counter() - live_since
                if search.max_seconds is not None and elapsed >= search.max_seconds:
                    break
                if search.stagnation is not None and stale >= search.stagnation:
                    break
            state.generation += 1
            population = algorithm.ask()
            remaining = budget - len(records)
            partial = len(population) > remaining
            if partial:  # the evaluation budget ends inside this generation
                population = population[:remaining]
            evaluator.eval(problem, population)
            if not partial:
                algorithm.tell(infills=population)
            hv = ledger.hypervolume()
            stale = 0 if hv > best_hv + HV_TOLERANCE else stale + 1
            best_hv = max(best_hv, hv)
            stored = stored_history.get(state.generation)
            live = 0.0 if live_since is None else time.perf_counter() - live_since
            row = (
                state.generation,
                len(records),
                hv,
                ledger.front_size(),
                stored[4] if stored else previous_elapsed + live,
            )
            store.commit_history(row)
            ledger.mirror(store)
            bar.set_postfix(hv=f"{hv:.4f}")
            if partial:
                break
        records = _score_test_on_front(target, run_dir, store, records, executor)
    finally:
        bar.close()
        store.close()
        if executor is not None:
            executor.close()
    frame = trials_frame(target, records)
    _mirror_files(run_dir, target, frame)
    finished = datetime.now(UTC).isoformat(timespec="seconds")
    fits = executor.fits - (setup_fits if isinstance(executor, SerialExecutor) else 0)
    _write_json(
        run_dir / META,
        _metadata(
            target,
            "finished",
            {
                "started": started,
                "finished": finished,
                "evaluations": len(records),
                "evaluated_in_this_session": len(records) - len(previous),
                "generations": state.generation,
                "fits": fits,
                "setup_fits": setup_fits,
                "workers": getattr(executor, "n_workers", 1),
                "hypervolume_final": hv,
                "test_scoring_seconds": getattr(target, "test_scoring_seconds", None),
                "warm_start": warm_meta,
            },
        ),
    )
    return frame


def _score_test_on_front(
    target: Any, run_dir: Path, store: TrialStore, records: list[TrialRecord], executor: Any
) -> list[TrialRecord]:
    """With ``test_scoring = "front"``: score test now, for the final front's points only."""
    if "test" in target.stages() or "test" not in target.stages("every"):
        return records
    start = time.perf_counter()
    frame = trials_frame(target, records)
    front = np.flatnonzero(front_rows(target, frame))
    todo = [i for i in front if not any(k.startswith("test_") for k in records[i].results)]
    jobs = [Job(dict(records[i].params), ("test",)) for i in todo]
    for j, outcome in executor.map(jobs):
        i = todo[j]
        merged = {**records[i].results, **outcome.results}
        records[i] = TrialRecord(
            records[i].trial,
            records[i].generation,
            records[i].x,
            records[i].params,
            merged,
            records[i].seconds + outcome.seconds,
            records[i].cached,
        )
        store.update_results(records[i].trial, merged)
    target.test_scoring_seconds = time.perf_counter() - start
    return records


def _mirror_files(run_dir: Path, target: Any, frame: pd.DataFrame) -> None:
    _write_csv(run_dir / TRIALS, frame)
    front = front_rows(target, frame)
    _write_csv(run_dir / FRONT, frame[front].drop_duplicates(subset=target.space.names))


def _metadata(target: Any, status: str, extra: dict[str, Any]) -> dict[str, Any]:
    search = target.search
    return {
        "status": status,
        "paretorec_version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pymoo": pymoo.__version__,
        "seed": search.seed,
        "algorithm": search.algorithm,
        **target.metadata(),
        "objectives": [
            {"name": o.name, "direction": o.direction, "best": o.best, "worst": o.worst}
            for o in target.objectives
        ],
        "hypervolume": {
            "space": "each objective scaled to [0, 1]: 0 at `best`, 1 at `worst` (the "
            "reference); infeasible points excluded",
            "reference_point": [1.0] * len(target.objectives),
        },
        "space": target.space.describe(),
        "parameters": target.space.names,
        **extra,
    }
