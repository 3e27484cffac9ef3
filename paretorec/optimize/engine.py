"""The run loop: ask the algorithm for a generation, evaluate it, tell the results, repeat.

Durability: every evaluation is committed to the store as soon as it finishes, before the next
one is looked at. A run resumed from a store re-creates the algorithm from the same seed and,
for every point the store already holds, hands the algorithm the stored result instead of
evaluating again. The algorithms are deterministic given their seed and the objective values,
so the resumed run asks for exactly the points the uninterrupted run would have, and ends with
the same front.

Observers watch the run (a progress bar, the run directory's files); they never change it.
After the search, points of the final front are scored on the problem's ``front_stages``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pymoo.core.evaluator import Evaluator
from pymoo.core.problem import Problem as PymooProblem
from pymoo.core.termination import NoTermination

from paretorec.config import SearchConfig
from paretorec.errors import ConfigError
from paretorec.objectives import column, finite_min, front_mask, hypervolume, normalise, to_min
from paretorec.optimize import stopping
from paretorec.optimize.algorithms import ALGORITHMS
from paretorec.optimize.executors import Job, SerialExecutor
from paretorec.optimize.problem import SEARCH_STAGE, Problem
from paretorec.optimize.store import HistoryRow, MemoryStore, TrialRecord


class _PymooView(PymooProblem):
    """pymoo's view of a problem: unit-cube variables, minimised F, constraints as G <= 0."""

    def __init__(self, n_var: int, n_obj: int, n_constr: int, batch: Any) -> None:
        super().__init__(n_var=n_var, n_obj=n_obj, n_ieq_constr=n_constr, xl=0.0, xu=1.0)
        self._batch = batch

    def _evaluate(self, X, out, *args, **kwargs):
        F, G = self._batch(X)
        out["F"] = F
        if G is not None:
            out["G"] = G


class Ledger:
    """The trials so far and their feasible front, kept incrementally: each generation costs
    time in its own size and the front's, not in the size of the whole run."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.records: list[TrialRecord] = []
        self.front_index: np.ndarray = np.zeros(0, dtype=np.int64)  # indices into records
        self.front_F = np.zeros((0, len(problem.objectives)))

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

    def front(self) -> list[TrialRecord]:
        """The feasible non-dominated trials, in trial order, one per distinct parameter set."""
        names = self.problem.space.names
        seen, out = set(), []
        for r in sorted((self.records[i] for i in self.front_index), key=lambda r: r.trial):
            key = tuple(r.params.get(n) for n in names)
            if key not in seen:
                seen.add(key)
                out.append(r)
        return out

    def hypervolume(self) -> float:
        if not len(self.front_F):
            return 0.0
        return hypervolume(normalise(self.problem.objectives, self.front_F))


def objective_values(problem: Problem, records: Sequence[TrialRecord]) -> np.ndarray:
    """``(n, m)`` pymoo's minimisation F of the records' search-stage objectives."""
    cols = [column(SEARCH_STAGE, o.name) for o in problem.objectives]
    F = np.array([[r.results.get(c, math.nan) for c in cols] for r in records], dtype=np.float64)
    return finite_min(to_min(problem.objectives, F.reshape(len(records), len(cols))))


def violations(problem: Problem, records: Sequence[TrialRecord]) -> np.ndarray | None:
    """``(n, n_constraints)`` pymoo's G of the records (search stage), None if unconstrained."""
    if not problem.constraints:
        return None
    columns = []
    for c in problem.constraints:
        values = np.array([r.results.get(column(SEARCH_STAGE, c.name), math.nan) for r in records])
        columns.append(c.violation(values))
    return np.column_stack(columns)


@dataclass
class RunState:
    """What observers can read about a run in progress."""

    problem: Problem
    search: SearchConfig
    ledger: Ledger
    store: Any
    previous: int  # trials stored before this session
    history: list[HistoryRow] = field(default_factory=list)
    hypervolume: float = 0.0
    stopped: str = ""


class Observer:
    """Watches a run. Every hook does nothing unless overridden."""

    def started(self, state: RunState) -> None:
        """Before the first generation (the algorithm is set up, nothing is evaluated)."""

    def trial(self, state: RunState, record: TrialRecord, replayed: bool) -> None:
        """After each trial is committed (or read back from the store, ``replayed``)."""

    def generation(self, state: RunState, records: list[TrialRecord], row: HistoryRow) -> None:
        """After each generation, with its trials and its history row."""

    def finished(self, state: RunState, outcome: RunOutcome) -> None:
        """After the search and the front's extra stages."""


@dataclass(frozen=True)
class RunOutcome:
    """What a finished (or stopped) search leaves.

    Attributes:
        records: Every trial, in trial order, with the front's extra stages scored.
        history: ``(generation, evaluations, hypervolume, front size, elapsed seconds)`` rows.
        front: Trial ids of the feasible front (one per distinct parameter set).
        stats: Counts for ``run.json``: evaluations, this session's, generations, fits, ...
    """

    records: list[TrialRecord]
    history: list[HistoryRow]
    front: list[int]
    stats: dict[str, Any]


def initial_points(
    problem: Problem, search: SearchConfig, warm_start: np.ndarray | None
) -> np.ndarray | None:
    """The first population's given points: the problem's starting points (a large warm start
    must not crowd them out), then the warm start, repaired into the space."""
    starts = []
    if search.start_from_baselines:
        given = problem.start_points()
        if given is not None:
            starts.append(given)
    if warm_start is not None:
        starts.append(np.atleast_2d(warm_start))
    return problem.space.repair(np.vstack(starts)) if starts else None


def run(
    problem: Problem,
    search: SearchConfig,
    *,
    store: Any | None = None,
    executor: Any | None = None,
    observers: Sequence[Observer] = (),
    warm_start: np.ndarray | None = None,
) -> RunOutcome:
    """Run ``search`` on ``problem``; continue what ``store`` holds, if anything.

    Args:
        problem: What to optimise.
        search: Algorithm, budget, stopping rules, seed.
        store: Where trials are committed (and replayed from); in memory by default.
        executor: Where evaluations run (this process by default). Closed at the end.
        observers: Watch the run (progress, run-directory files).
        warm_start: Unit vectors for the first population (a previous run's front).
    """
    store = store if store is not None else MemoryStore()
    executor = executor or SerialExecutor(problem)
    try:
        return _Search(problem, search, store, executor, list(observers), warm_start).go()
    finally:
        executor.close()


class _Search:
    """One session of a run: ask, evaluate (or replay), tell, record, until a rule stops it."""

    def __init__(
        self,
        problem: Problem,
        search: SearchConfig,
        store: Any,
        executor: Any,
        observers: list[Observer],
        warm_start: np.ndarray | None,
    ) -> None:
        self.problem = problem
        self.search = search
        self.store = store
        self.executor = executor
        self.observers = observers
        initial = initial_points(problem, search, warm_start)
        factory = ALGORITHMS.get(search.algorithm)
        self.algorithm = factory(search, problem.space, problem.objectives, initial)
        self.previous = {r.trial: r for r in store.trials()}
        self.stored_history = {row[0]: row for row in store.history()}
        self.previous_elapsed = max((row[4] for row in self.stored_history.values()), default=0.0)
        self.replay_end = max(self.previous, default=-1) + 1  # trials before this are stored
        self.setup_fits = problem.fits  # fitted before the search (the baselines)
        # fits are stored as they are made, so a killed session's still count on resume
        self.earlier_fits = store.fits()
        self.session = 1 + max((s for s, _, _ in self.earlier_fits), default=0)
        self.fit_log: list[dict] = []
        drain = getattr(problem, "drain_fit_records", None)
        self._log_fits([r.to_dict() for r in drain()] if drain is not None else [], setup=True)
        self.generation = 0
        self.next_trial = 0
        self.live_since: float | None = None  # when this session started evaluating
        self.state = RunState(problem, search, Ledger(problem), store, len(self.previous))

    def _log_fits(self, records: Sequence[dict], setup: bool = False) -> None:
        self.store.add_fits(self.session, setup, records)
        self.fit_log.extend({"session": self.session, "setup": setup, **r} for r in records)

    def _notify(self, hook: str, *args: Any) -> None:
        for observer in self.observers:
            getattr(observer, hook)(self.state, *args)

    def _batch(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Evaluate (or replay) one generation's points, committing each as it finishes."""
        first = self.next_trial
        space = self.problem.space
        values = [space.decode(x) for x in X]
        fresh: list[int] = []
        out: list[TrialRecord | None] = [None] * len(X)
        for i, x in enumerate(X):
            stored = self.previous.get(first + i)
            if stored is None:
                fresh.append(i)
                continue
            if not np.allclose(stored.x, x, rtol=0.0, atol=1e-12):
                raise ConfigError(
                    f"stored trial {first + i} differs from what the seeded search asks for; "
                    "the run cannot be resumed (was it made by another version?)"
                )
            out[i] = stored
            self._notify("trial", stored, True)
        jobs = [Job(values[i], self.problem.stages) for i in fresh]
        if jobs and self.live_since is None:
            # a generation the last session left half done starts this session's clock too
            self.live_since = time.perf_counter()
        for j, outcome in self.executor.map(jobs):
            self._log_fits(outcome.fit_records)
            i = fresh[j]
            record = TrialRecord(
                first + i,
                self.generation,
                tuple(float(v) for v in X[i]),
                values[i],
                outcome.results,
                outcome.seconds,
                outcome.cached,
            )
            self.store.add(record)  # committed before the next result is looked at
            out[i] = record
            self._notify("trial", record, False)
        done = [r for r in out if r is not None]
        self.next_trial += len(X)
        F = objective_values(self.problem, done)
        G = violations(self.problem, done)
        self.state.ledger.extend(done, F, G)
        self._last = done
        return F, G

    def _progress(self, stale: int) -> stopping.Progress:
        replaying = self.next_trial < self.replay_end
        if not replaying and self.live_since is None:
            self.live_since = time.perf_counter()
        live = 0.0 if self.live_since is None else time.perf_counter() - self.live_since
        return stopping.Progress(
            self.generation,
            len(self.state.ledger.records),
            self.previous_elapsed + live,
            stale,
            replaying,
        )

    def go(self) -> RunOutcome:
        problem = self.problem
        view = _PymooView(
            problem.space.n_var, len(problem.objectives), len(problem.constraints), self._batch
        )
        self.algorithm.setup(view, termination=NoTermination(), seed=self.search.seed)
        self._notify("started")
        rules = stopping.rules(self.search)
        budget = next(r for r in rules if isinstance(r, stopping.Evaluations))
        evaluator = Evaluator()
        best_hv, stale, hv = -np.inf, 0, 0.0
        while self.algorithm.has_next():
            progress = self._progress(stale)
            reason = next((why for rule in rules if (why := rule.reason(progress))), None)
            if reason is not None:
                self.state.stopped = reason
                break
            self.generation += 1
            population = self.algorithm.ask()
            remaining = budget.remaining(progress)
            partial = len(population) > remaining
            if partial:  # the evaluation budget ends inside this generation
                population = population[:remaining]
            evaluator.eval(view, population)
            if not partial:
                self.algorithm.tell(infills=population)
            hv = self.state.ledger.hypervolume()
            stale = 0 if hv > best_hv + stopping.HV_TOLERANCE else stale + 1
            best_hv = max(best_hv, hv)
            stored = self.stored_history.get(self.generation)
            live = 0.0 if self.live_since is None else time.perf_counter() - self.live_since
            row: HistoryRow = (
                self.generation,
                len(self.state.ledger.records),
                hv,
                len(self.state.ledger.front()),
                stored[4] if stored else self.previous_elapsed + live,
            )
            self.store.commit_history(row)
            self.state.history.append(row)
            self.state.hypervolume = hv
            self._notify("generation", self._last, row)
            if partial:
                self.state.stopped = f"{budget.limit} evaluations"
                break
        else:
            self.state.stopped = "the algorithm has no next generation"
        front_seconds = self._score_front_stages()
        records = self.state.ledger.records
        fits = self.executor.fits - (
            self.setup_fits if isinstance(self.executor, SerialExecutor) else 0
        )
        earlier = [{"session": s, "setup": setup, **r} for s, setup, r in self.earlier_fits]
        sessions = {"fits_in_this_session": fits} if self.session > 1 else {}
        outcome = RunOutcome(
            records=list(records),
            history=list(self.state.history),
            front=[r.trial for r in self.state.ledger.front()],
            stats={
                "evaluations": len(records),
                "evaluated_in_this_session": len(records) - len(self.previous),
                "generations": self.generation,
                "stopped": self.state.stopped,
                "fits": fits + sum(not f["setup"] for f in earlier),
                **sessions,
                "setup_fits": self.setup_fits,
                "workers": getattr(self.executor, "n_workers", 1),
                "hypervolume_final": hv,
                "test_scoring_seconds": front_seconds,
                **fit_summary(earlier + self.fit_log),
            },
        )
        self._notify("finished", outcome)
        return outcome

    def _score_front_stages(self) -> float | None:
        """Score the final front's points on the problem's ``front_stages`` (test, when the
        search scored validation only); points that have them already are skipped."""
        stages = self.problem.front_stages
        if not stages:
            return None
        start = time.perf_counter()
        records = self.state.ledger.records
        prefixes = tuple(column(s, "") for s in stages)
        front = sorted(int(i) for i in self.state.ledger.front_index)
        todo = [i for i in front if not any(k.startswith(prefixes) for k in records[i].results)]
        jobs = [Job(dict(records[i].params), stages) for i in todo]
        for j, outcome in self.executor.map(jobs):
            self._log_fits(outcome.fit_records)
            i = todo[j]
            records[i] = records[i].with_results(outcome.results, outcome.seconds)
            self.store.update(records[i])
        return time.perf_counter() - start


def fit_summary(log: list[dict]) -> dict[str, Any]:
    """What ``run.json`` says about model fits: every fit (session, whether it was setup,
    stage, model, seconds, peak and resident MiB, whether the same session had fitted the same
    model for the same stage before: a repeat the cache could have saved), and totals per
    model and per stage, over every session of the run."""
    if not log:
        return {}
    seen: set[str] = set()
    fits = []
    for record in log:
        key = json.dumps(
            [record.get("session"), record["stage"], record["model"]], sort_keys=True, default=str
        )
        fits.append({**record, "repeat": key in seen})
        seen.add(key)
    by_model: dict[str, dict[str, Any]] = {}
    for fit in fits:
        entry = by_model.setdefault(
            str(fit["model"].get("model")),
            {"fits": 0, "repeats": 0, "seconds": 0.0, "peak_mb_max": 0.0, "by_stage": {}},
        )
        entry["fits"] += 1
        entry["repeats"] += int(fit["repeat"])
        entry["seconds"] += fit["seconds"]
        entry["peak_mb_max"] = max(entry["peak_mb_max"], fit["peak_mb"])
        entry["by_stage"][fit["stage"]] = entry["by_stage"].get(fit["stage"], 0) + 1
    return {
        "repeat_fits": sum(int(f["repeat"]) for f in fits),
        "fit_seconds": sum(f["seconds"] for f in fits),
        "fits_by_model": by_model,
        "fit_log": fits,
    }
