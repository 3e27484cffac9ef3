"""``paretorec replay``: a time-ordered replay of a dataset, comparing re-tuning policies.

The events are cut into N consecutive windows by time (``paretorec.dynamic.windows``). An
operating point is tuned on window 1 alone (the config's split inside it, the config's search,
then a selector) and deployed: fitted on all of window 1 and scored on window 2. At every later
boundary b the deployed model takes in window b's interactions (``Model.update``: exact,
approximate or a refit, as the model declares) and is scored on window b+1, on the users with
history before the boundary and events after it. Three policies decide whether to re-tune first:

- ``frozen``: never; the first point stays, only its model takes in new data;
- ``retune``: every boundary, a search over the data so far, warm-started from the last front
  with a small budget, then the same selector;
- ``adaptive``: only when ``check``'s rule (``paretorec.dynamic.check.assess``) finds the
  deployed point dominated on the data so far, or moved more than ``threshold`` in the
  normalised objective space; the re-scoring is counted in its cost.

Every boundary also fits the deployed model from scratch, to time the incremental update
against a full refit and to measure how far an approximate update lands from the refit.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from paretorec import names
from paretorec.config import ExperimentConfig
from paretorec.data import Dataset, Split, load_dataset, make_split
from paretorec.data.interactions import Interactions
from paretorec.dynamic.check import Verdict, assess
from paretorec.dynamic.windows import MIN_USERS, windows_for
from paretorec.errors import ConfigError, ConfigWarning, DataWarning, ParetoRecError
from paretorec.metrics import parse_metric
from paretorec.metrics.stats import bootstrap
from paretorec.models import FitData, Model, Scorer, SideInfo, generate_candidates
from paretorec.objectives import STAGE_PREFIX, column
from paretorec.optimize import engine
from paretorec.optimize.rundir import run_metadata
from paretorec.result import Result
from paretorec.study import Study, plan
from paretorec.study.candidate import Candidate
from paretorec.study.pipeline import Pipeline

POLICIES = ("frozen", "retune", "adaptive")


@dataclass(frozen=True)
class ReplaySettings:
    """How a replay runs.

    Attributes:
        windows: Number of time windows N (N - 1 boundaries are scored).
        policies: Which of ``frozen``, ``retune``, ``adaptive`` to compare.
        threshold: The adaptive policy re-tunes when the deployed point moved more than this
            in the normalised objective space (or is dominated).
        budget: Evaluations of each re-tune (warm-started).
        selector: The selector that picks the operating point from every front.
        seed: Seed of the bootstrap intervals (the searches use the config's).
        min_users: Users a boundary must score.
    """

    windows: int = 4
    policies: tuple[str, ...] = POLICIES
    threshold: float = 0.1
    budget: int = 20
    selector: str = "knee"
    seed: int = 0
    min_users: int = MIN_USERS

    def __post_init__(self) -> None:
        if isinstance(self.windows, bool) or not isinstance(self.windows, int) or self.windows < 2:
            raise ConfigError(f"--windows: `N >= 2` (an integer) must hold, got {self.windows!r}")
        unknown = [p for p in self.policies if p not in POLICIES]
        if unknown or not self.policies:
            raise ConfigError(
                f"--policy: one of {', '.join(POLICIES)} or all must hold, got "
                f"{', '.join(self.policies) or 'none'}"
            )
        if not (math.isfinite(self.threshold) and self.threshold >= 0):
            raise ConfigError(f"--threshold: `T >= 0` must hold, got {self.threshold}")
        if self.budget < 1:
            raise ConfigError(f"--budget: `B >= 1` must hold, got {self.budget}")


@dataclass
class Tuned:
    """One search and the point selected from it."""

    result: Result
    trial: int
    candidate: Candidate
    reason: str


@dataclass
class PolicyState:
    """What one policy has deployed and what it has spent."""

    name: str
    tuned: Tuned
    scorer: Scorer | None = None
    evaluations: int = 0
    seconds: float = 0.0
    retunes: int = 0


@dataclass(frozen=True, eq=False)
class _Fitted:
    """A model already fitted (or updated) elsewhere, in the shape the pipeline fits: its
    ``fit`` hands back the scorer, so candidates, re-ranking and metrics run as in a search."""

    model: Model
    scorer: Scorer

    @property
    def name(self) -> str:
        return self.model.name

    def fit(self, data: FitData) -> Scorer:
        return self.scorer

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        return self.model.scoring_ops(history, n_items, pool)

    def values(self) -> dict[str, Any]:
        return self.model.values()

    def __getattr__(self, name: str) -> Any:
        # everything else the pipeline reads of a model (its declarations) is the model's
        return getattr(self.model, name)


class _WindowStudy(Study):
    """A study on the data so far: the replay scores the future itself, so the final front is
    not scored on the split's test part."""

    @property
    def front_stages(self) -> tuple[str, ...]:
        return ()


@dataclass
class ReplayResult:
    """Everything a replay measured (``to_dict`` is ``replay.json``)."""

    config: ExperimentConfig
    settings: ReplaySettings
    dataset: dict[str, Any]
    windows: list[dict[str, Any]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    initial: dict[str, Any] = field(default_factory=dict)

    @property
    def objectives(self) -> list[tuple[str, str]]:
        """``(metric, direction)`` of every objective."""
        return [
            (o.metric, o.direction or parse_metric(o.metric).metric.direction)
            for o in self.config.objectives or ()
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.name,
            "data": self.config.data.dataset,
            "settings": dataclasses.asdict(self.settings),
            "objectives": [{"metric": m, "direction": d} for m, d in self.objectives],
            "dataset": self.dataset,
            "windows": self.windows,
            "initial": self.initial,
            "policies": self.policies,
            "boundaries": self.rows,
        }


def replay(
    config: ExperimentConfig,
    settings: ReplaySettings,
    data_dir: str | None = None,
    log: Any = None,
) -> ReplayResult:
    """Replay the config's dataset in ``settings.windows`` time windows under each policy.

    Args:
        config: The experiment (data, split, objectives, space; its search is the initial one).
        settings: Windows, policies, threshold, re-tune budget, selector.
        data_dir: Where datasets are.
        log: Called with a line of progress, or None.

    Raises:
        ParetoRecError: no timestamps, windows too small to score (naming the most windows
            that work), or the config's split cannot cut window 1.
    """
    say = log or (lambda line: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConfigWarning)
        plan(config)  # the config's names and bounds, before any data is read
    dataset = load_dataset(config.data, data_dir)
    window = windows_for(dataset, settings.windows, settings.min_users)
    inter = dataset.interactions
    n = settings.windows
    result = ReplayResult(
        config,
        settings,
        {"name": dataset.name, "checksum": dataset.checksum, "events": len(inter)},
        _describe_windows(inter, window, n),
    )
    say(f"{dataset.name}: {len(inter):,} events in {n} windows")
    start = time.perf_counter()
    first = _tune(config, dataset, inter.take(window == 0), config.search, None, settings, 1)
    spent = time.perf_counter() - start
    evaluations = len(first.result.records)
    result.initial = {
        "evaluations": evaluations,
        "seconds": spent,
        "trial": first.trial,
        "point": _params(first.candidate),
        "reason": first.reason,
        "front": len(first.result.front_records),
    }
    say(f"window 1: tuned {evaluations} points in {spent:.0f} s; deployed {_label(first)}")
    states = {
        p: PolicyState(p, first, evaluations=evaluations, seconds=spent) for p in settings.policies
    }
    side = SideInfo.of(dataset)
    before: FitData | None = None
    for b in range(1, n):
        seen, future = inter.take(window < b), inter.take(window == b)
        fit = FitData.of(seen, side)
        refits: dict[tuple, tuple[Scorer, float]] = {}
        for state in states.values():
            row, extra = _boundary(state, b, config, dataset, seen, fit, before, settings, refits)
            assert state.scorer is not None  # _boundary deployed one
            scores = _score(
                config,
                dataset,
                seen,
                future,
                state.tuned.candidate,
                {"objectives": state.scorer, **{f"{k}_objectives": v for k, v in extra.items()}},
                settings,
            )
            row.update(scores)
            result.rows.append(row)
            say(_progress(row))
        before = fit
    result.policies = {
        p: {"evaluations": s.evaluations, "seconds": s.seconds, "retunes": s.retunes}
        for p, s in states.items()
    }
    return result


def _describe_windows(inter: Interactions, window: np.ndarray, n: int) -> list[dict[str, Any]]:
    ts = inter.timestamp
    assert ts is not None  # windows_for refused data without timestamps
    out = []
    for w in range(n):
        mask = window == w
        out.append(
            {
                "window": w + 1,
                "events": int(mask.sum()),
                "users": len(np.unique(inter.user[mask])),
                "from": int(ts[mask].min()),
                "to": int(ts[mask].max()),
            }
        )
    return out


def _tune(
    config: ExperimentConfig,
    dataset: Dataset,
    events: Interactions,
    search: Any,
    warm: np.ndarray | None,
    settings: ReplaySettings,
    upto: int,
    study: Study | None = None,
) -> Tuned:
    """Search on ``events`` (the data of windows 1..upto) with the config's split inside them,
    and select a point."""
    config = dataclasses.replace(config, search=search)
    if study is None:
        study = _study(config, dataset, events, upto)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        warnings.simplefilter("ignore", ConfigWarning)
        outcome = engine.run(study, config.search, warm_start=warm)
        meta = run_metadata(study, config.search, "finished", dict(outcome.stats))
    columns = tuple(column(s, m.name) for m in study.plan.metrics for s in STAGE_PREFIX)
    run = Result(
        config,
        study.space,
        tuple(study.objectives),
        tuple(study.constraints),
        tuple(outcome.records),
        tuple(outcome.history),
        meta,
        columns,
    )
    selection = run.select(settings.selector)
    # the study (and its candidate cache) is dropped here: a later check builds its own
    return Tuned(run, selection.trial, run.candidate(selection.trial), selection.reason)


def _study(config: ExperimentConfig, dataset: Dataset, events: Interactions, upto: int) -> Study:
    data = dataclasses.replace(dataset, interactions=events)
    try:
        split = make_split(events, config.split)
    except ParetoRecError as exc:
        raise type(exc)(f"windows 1-{upto} of the replay: {exc}") from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        warnings.simplefilter("ignore", ConfigWarning)
        return _WindowStudy(plan(config), data, split)


def _retune_search(config: ExperimentConfig, settings: ReplaySettings, upto: int) -> Any:
    """The config's search with the re-tune budget, no baselines (the warm start brings the
    last front) and a seed of its own per boundary."""
    search = config.search
    return dataclasses.replace(
        search,
        max_evaluations=settings.budget,
        generations=max(search.generations, -(-settings.budget // search.population)),
        start_from_baselines=False,
        seed=(search.seed + upto) % 2**32,
    )


def _check(
    state: PolicyState, config: ExperimentConfig, dataset: Dataset, seen: Interactions, b: int
) -> tuple[Verdict, Study, int]:
    """Re-score the deployed point's front on the data so far (``check``'s rule)."""
    tuned = state.tuned
    study = _study(config, dataset, seen, b)
    trials = [r.trial for r in tuned.result.front_records]
    if tuned.trial not in trials:
        trials.append(tuned.trial)
    cols = [column("validation", o.name) for o in tuned.result.objectives]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        rescored = [
            study.evaluate(tuned.result.record(t).params, ("validation",))[0] for t in trials
        ]
    new = np.array([[r[c] for c in cols] for r in rescored])
    old = np.array([[tuned.result.record(t).results[c] for c in cols] for t in trials])
    return assess(tuned.result.objectives, old, new, trials.index(tuned.trial)), study, len(trials)


def _boundary(
    state: PolicyState,
    b: int,
    config: ExperimentConfig,
    dataset: Dataset,
    seen: Interactions,
    fit: FitData,
    before: FitData | None,
    settings: ReplaySettings,
    refits: dict[tuple, tuple[Scorer, float]],
) -> tuple[dict[str, Any], dict[str, Scorer]]:
    """Decide (re-tune or not), then bring the deployed model to the data of windows 1..b."""
    row: dict[str, Any] = {"boundary": b, "scored_window": b + 1, "policy": state.name}
    start = time.perf_counter()
    retune, reason, study = False, "", None
    if b >= 2 and state.name == "retune":
        retune, reason = True, "every window"
    elif b >= 2 and state.name == "adaptive":
        verdict, study, rescored = _check(state, config, dataset, seen, b)
        state.evaluations += rescored
        row["check"] = {
            "dominated": verdict.dominated,
            "moved": verdict.moved,
            "rescored": rescored,
        }
        if verdict.dominated:
            retune, reason = True, f"dominated by {len(verdict.dominated_by)} front point(s)"
        elif verdict.moved > settings.threshold:
            retune, reason = True, f"moved {verdict.moved:.3f} > {settings.threshold:g}"
        else:
            reason = f"kept: non-dominated, moved {verdict.moved:.3f} <= {settings.threshold:g}"
    old = state.tuned.candidate
    if retune:
        warm = np.array([r.x for r in state.tuned.result.front_records], dtype=np.float64)
        search = _retune_search(config, settings, b)
        tuned = _tune(config, dataset, seen, search, warm, settings, b, study)
        state.evaluations += len(tuned.result.records)
        state.tuned = tuned
        state.retunes += 1
        row["tuned"] = {
            "evaluations": len(tuned.result.records),
            "trial": tuned.trial,
            "changed": tuned.candidate != old,
        }
    state.seconds += time.perf_counter() - start
    row["retuned"] = retune
    row["reason"] = reason or ("initial point" if b == 1 else "frozen")
    row["point"] = _params(state.tuned.candidate)
    model = state.tuned.candidate.model
    row["model"] = model.name
    row["update_kind"] = type(model).update_kind
    # the deployed model takes in the new window: a fresh fit when the point is new, else an
    # update of the scorer it has; both timed, and a full refit timed beside the update
    # (the refit is a measurement, not counted in the policy's seconds)
    extra: dict[str, Scorer] = {}
    start = time.perf_counter()
    if state.scorer is None or model != old.model or before is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConfigWarning)
            scorer = model.fit(FitData(fit.X, fit.ratings, fit.side))  # its own caches
        fitted_seconds = time.perf_counter() - start
        state.scorer = model.updatable(scorer, fit)
        row["deploy"] = "fit"
        row["fit_seconds"] = fitted_seconds
        state.seconds += time.perf_counter() - start
    else:
        state.scorer = model.update(state.scorer, before, fit)
        row["deploy"] = "update"
        row["update_seconds"] = time.perf_counter() - start
        state.seconds += row["update_seconds"]
        refit, refit_seconds = _refit(model, fit, refits)
        row["refit_seconds"] = refit_seconds
        row["agreement"] = _agreement(state.scorer, refit, fit, config.evaluation.k)
        if type(model).update_kind == "approximate":
            extra["refit"] = refit  # scored beside the update: how far it lands, measured
    return row, extra


def _refit(
    model: Model, fit: FitData, refits: dict[tuple, tuple[Scorer, float]]
) -> tuple[Scorer, float]:
    """A full refit on the data so far (once per model and boundary), timed. A fresh
    ``FitData``: the neighbour lists it caches would make a second fit on the same one free."""
    key = names.model_key(model.values() | {names.MODEL: model.name})
    if key not in refits:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConfigWarning)
            scorer = model.fit(FitData(fit.X, fit.ratings, fit.side))
        refits[key] = (scorer, time.perf_counter() - start)
    return refits[key]


def _agreement(updated: Scorer, refit: Scorer, fit: FitData, k: int) -> dict[str, float]:
    """How far an update lands from a full refit, on the users with history: the largest
    score difference, and the mean share of each user's top-k unseen items both lists hold
    (1 = the same lists)."""
    users = np.flatnonzero(fit.history_length > 0).astype(np.int32)
    diff = np.abs(
        np.asarray(updated.score(users), np.float64) - np.asarray(refit.score(users), np.float64)
    )
    top_a = generate_candidates(updated, fit.X, users, k).items
    top_r = generate_candidates(refit, fit.X, users, k).items
    shared = [
        len(np.intersect1d(a[a >= 0], r[r >= 0])) / k for a, r in zip(top_a, top_r, strict=True)
    ]
    return {
        "max_abs_score_diff": float(diff.max()) if diff.size else 0.0,
        "topk_overlap": float(np.mean(shared)) if shared else 1.0,
    }


def _score(
    config: ExperimentConfig,
    dataset: Dataset,
    seen: Interactions,
    future: Interactions,
    candidate: Candidate,
    scorers: dict[str, Scorer],
    settings: ReplaySettings,
) -> dict[str, Any]:
    """Each scorer of ``candidate``'s model scored on the next window with the candidate's
    re-ranking: per objective the mean over the users with history and future events, and
    its 95 % bootstrap interval over users."""
    empty = seen.take(np.zeros(len(seen), dtype=bool))
    data = dataclasses.replace(dataset, interactions=seen.concat(future))
    pool = max(candidate.rerank.pool, config.evaluation.k)
    pipeline = Pipeline(
        data,
        Split(seen, empty, future),
        config.evaluation.k,
        pool,
        similarity=config.evaluation.similarity,
    )
    metrics = [parse_metric(o.metric) for o in config.objectives or ()]
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # users without history: counted, left out
        for label, scorer in scorers.items():
            fitted = Candidate(_Fitted(candidate.model, scorer), candidate.rerank)  # type: ignore[arg-type]
            ctx = pipeline.context("test", pipeline.recommend("test", fitted))
            intervals = bootstrap(ctx, metrics, seed=settings.seed)
            out[label] = {
                name: {"mean": i.mean, "low": i.low, "high": i.high, "users": i.n_users}
                for name, i in intervals.items()
            }
        out["users"] = pipeline.stage("test").counts.get("evaluated users", 0)
    return out


def _params(candidate: Candidate) -> dict[str, Any]:
    return dict(candidate.values())


def _label(tuned: Tuned) -> str:
    model = tuned.candidate.model
    params = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in model.params().items()
    )
    return f"{model.name}({params}), pool {tuned.candidate.rerank.pool}"


def _progress(row: dict[str, Any]) -> str:
    values = ", ".join(f"{name} {v['mean']:.4g}" for name, v in row["objectives"].items())
    return (
        f"boundary {row['boundary']} ({row['policy']}): {row['reason']}; {row['deploy']} "
        f"{row['model']}; window {row['scored_window']}: {values} ({row['users']} users)"
    )
