"""``paretorec select RUN --per-segment BY``: one operating point per user segment.

Every point of the run's front is scored again on validation (fit on train, as in the search),
once per point over all validation users; each objective's per-user values are then averaged
within each segment (a set-level objective, one number for a whole set of lists, is computed on
each segment's lists). Points that share a model share its fit (the pipeline's cache), and the
per-user values can be kept in a cache file, so a second segmentation of the same run costs no
fit at all. Within each segment the run's selector (the same ``--method`` and bounds) picks
among the points non-dominated on that segment; a segment with fewer than ``min_users``
validation users gets the overall point.

Segments by a user attribute (age, gender, occupation, ...) need ``allow_demographic``: users
would get different trade-offs by a personal, often protected, characteristic.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paretorec import names
from paretorec.errors import ConfigError, DataError
from paretorec.export.point import OperatingPoint
from paretorec.export.recommender import point_pipeline
from paretorec.export.segments import SegmentPlan, SegmentPoint, segment_values
from paretorec.metrics import parse_metric
from paretorec.objectives import Objective
from paretorec.optimize.rundir import atomic_write_bytes
from paretorec.select import Selector
from paretorec.select.segments import ACTIVITY, Segmentation, define, pick_per_segment
from paretorec.study import Candidate, Pipeline

STAGE = "validation"
MIN_USERS = 50


@dataclass(frozen=True)
class FrontPoint:
    """A front point as the run holds it: trial, candidate, its validation values."""

    trial: int
    candidate: Candidate
    validation: dict[str, float]


@dataclass(frozen=True)
class SegmentChoice:
    """The outcome of a per-segment selection.

    Attributes:
        point: The export: the overall point with one point per segment.
        scores: One row per front point and segment: trial, model, segment, users, each
            objective's value on that segment, and whether the segment chose it.
        lines: What the command prints.
    """

    point: OperatingPoint
    scores: pd.DataFrame
    lines: list[str]


def demographic_refusal(by: str) -> str:
    """Why a segmentation by a user attribute needs an explicit flag (one line)."""
    return (
        f"--per-segment {by[:40]}: segments by a user attribute give users different trade-offs "
        "by a personal (often protected) characteristic, and the export then holds the segment "
        "definition; add --allow-demographic if that is intended (README: Per-segment "
        "operating points)"
    )


def select_per_segment(
    overall: OperatingPoint,
    front: Sequence[FrontPoint],
    objectives: tuple[Objective, ...],
    selector: Selector,
    by: str = ACTIVITY,
    cuts: Sequence[float] | None = None,
    allow_demographic: bool = False,
    min_users: int = MIN_USERS,
    data_dir: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SegmentChoice:
    """Choose one point of the run's front per user segment.

    Args:
        overall: The overall choice (the same selector on the whole front); its trial is in
            ``overall.run["trial"]``.
        front: The run's front points.
        objectives: The run's objectives.
        selector: The selector, applied within each segment.
        by: ``activity`` or a column of the dataset's user table.
        cuts: Cut points for numbers (default: terciles of the validation users' values).
        allow_demographic: Required for any ``by`` other than ``activity``.
        min_users: Segments with fewer validation users get the overall point.
        data_dir: Where the dataset is.
        cache: An ``.npz`` file of per-user validation values, read and extended.
        progress: Called with ``(scored, total)`` as front points are scored.
    """
    if by != ACTIVITY and not allow_demographic:
        raise ConfigError(demographic_refusal(by))
    if isinstance(min_users, bool) or not isinstance(min_users, int) or min_users < 1:
        raise ConfigError(f"--min-users: `>= 1` (an integer) must hold, got {min_users!r}")
    if not front:
        raise DataError("the run's front is empty: there is nothing to choose from")
    trials = [p.trial for p in front]
    overall_trial = overall.run.get("trial")
    if overall_trial not in trials:
        raise DataError(f"the overall choice (trial {overall_trial}) is not on the run's front")
    pipeline = _pipeline(overall, front, data_dir)
    values = segment_values_for(pipeline, by)
    try:
        segmentation = define(by, values, cuts)
    except ConfigError as exc:
        raise ConfigError(f"--per-segment {by}: {exc}") from None
    codes = segmentation.assign(values)
    rows = {name: np.flatnonzero(codes == i) for i, name in enumerate(segmentation.names)}
    stored = PerUserCache(cache, _cache_scope(overall), pipeline.stage(STAGE).users)
    natural, overall_means = _score(pipeline, front, objectives, rows, stored, progress)
    stored.save()
    users = {name: len(r) for name, r in rows.items()}
    labels = [f"trial {p.trial} ({p.candidate.model.name})" for p in front]
    picks = pick_per_segment(
        natural, users, objectives, selector, trials.index(overall_trial), min_users, labels
    )
    points = {}
    for name, pick in picks.items():
        index = trials.index(overall_trial) if pick.index is None else pick.index
        points[name] = SegmentPoint(
            front[index].candidate,
            front[index].trial,
            {"method": pick.method, "reason": pick.reason},
            pick.users,
            {o.name: float(v) for o, v in zip(objectives, pick.natural, strict=True)},
        )
    plan = SegmentPlan(
        segmentation,
        points,
        {o.name: o.direction for o in objectives},
        min_users,
        _computed_on(by, cuts, segmentation, len(codes)),
    )
    point = dataclasses.replace(overall, segments=plan)
    scores = _scores_table(front, objectives, natural, users, picks, trials)
    lines = _lines(
        plan, objectives, int((codes < 0).sum()), _agreement(front, objectives, overall_means)
    )
    return SegmentChoice(point, scores, lines)


def segment_values_for(pipeline: Pipeline, by: str) -> np.ndarray:
    """``(n,)`` each validation user's activity or attribute value."""
    try:
        return segment_values(by, pipeline, STAGE)
    except DataError as exc:
        if pipeline.dataset.users.empty:
            raise ConfigError(
                f"--per-segment {by[:40]}: {pipeline.dataset.name} has no user table; segment "
                "by `activity`"
            ) from None
        raise ConfigError(f"--per-segment {by[:40]}: {str(exc).split(': ', 1)[1]}") from None


def _pipeline(
    overall: OperatingPoint, front: Sequence[FrontPoint], data_dir: str | os.PathLike[str] | None
) -> Pipeline:
    """A pipeline on the run's data and split, deep enough for every front point's pool."""
    base = point_pipeline([overall], data_dir, split=True)
    pool = max(overall.k, *(p.candidate.rerank.pool for p in front))
    return Pipeline(base.dataset, base.split, overall.k, pool, similarity=overall.similarity)


def _score(
    pipeline: Pipeline,
    front: Sequence[FrontPoint],
    objectives: tuple[Objective, ...],
    rows: dict[str, np.ndarray],
    cache: PerUserCache,
    progress: Callable[[int, int], None] | None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Segment name -> ``(p, m)`` each front point's objectives on the segment, and ``(p, m)``
    the same over all validation users."""
    refs = [parse_metric(o.name) for o in objectives]
    natural = {name: np.full((len(front), len(refs)), np.nan) for name in rows}
    overall = np.full((len(front), len(refs)), np.nan)
    # points sharing a model one after another: each model is fitted once
    order = sorted(
        range(len(front)), key=lambda i: repr(names.model_key(front[i].candidate.values()))
    )
    for done, i in enumerate(order, start=1):
        candidate = front[i].candidate
        ctx = None
        for j, ref in enumerate(refs):
            values = cache.get(candidate, ref.name)
            if values is None:
                if ctx is None:
                    ctx = pipeline.context(STAGE, pipeline.recommend(STAGE, candidate))
                computed = ref.metric.fn(ctx, ref.k or 0)
                if np.ndim(computed) == 0:  # set-level: one number per set of lists
                    overall[i, j] = float(computed)
                    for name, r in rows.items():
                        natural[name][i, j] = ref.compute(ctx.take(r))[0] if len(r) else np.nan
                    continue
                values = np.asarray(computed, dtype=np.float64)
                cache.put(candidate, ref.name, values)
            overall[i, j] = _mean(values)
            for name, r in rows.items():
                natural[name][i, j] = _mean(values[r])
        if progress is not None:
            progress(done, len(front))
    return natural, overall


def _mean(values: np.ndarray) -> float:
    """The mean over users with a value, summed as ``MetricRef.compute`` sums."""
    present = values[~np.isnan(values)]
    return float(np.add.reduce(present) / present.size) if present.size else float("nan")


def _agreement(
    front: Sequence[FrontPoint], objectives: tuple[Objective, ...], means: np.ndarray
) -> tuple[int, int]:
    """How many front points' recomputed validation values equal the run's (to 1e-9)."""
    same = 0
    for i, point in enumerate(front):
        stored = np.array([point.validation.get(o.name, np.nan) for o in objectives], float)
        same += bool(np.allclose(stored, means[i], rtol=1e-9, atol=1e-12, equal_nan=True))
    return same, len(front)


def _computed_on(by: str, cuts: Sequence[float] | None, segmentation: Segmentation, n: int) -> str:
    what = "training items" if by == ACTIVITY else f"`{by}`"
    if segmentation.labels is not None:
        return f"the values of `{by}` among the {n} validation users"
    if cuts:
        return f"cut points given (--cuts) on {what}"
    where = ", in the run's train split" if by == ACTIVITY else ""
    return f"terciles of the {what} of the {n} validation users{where}"


def _scores_table(
    front: Sequence[FrontPoint],
    objectives: tuple[Objective, ...],
    natural: dict[str, np.ndarray],
    users: dict[str, int],
    picks: dict[str, Any],
    trials: list[int],
) -> pd.DataFrame:
    frames = []
    for name, table in natural.items():
        chosen = picks[name].index
        frame = pd.DataFrame(table, columns=[o.name for o in objectives])
        frame.insert(0, "users", users[name])
        frame.insert(0, "segment", name)
        frame.insert(0, "model", [p.candidate.model.name for p in front])
        frame.insert(0, "trial", trials)
        frame["chosen"] = [chosen == i for i in range(len(front))]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _lines(
    plan: SegmentPlan, objectives: tuple[Objective, ...], unassigned: int, agree: tuple[int, int]
) -> list[str]:
    seg = plan.segmentation
    lines = [
        f"per segment by {seg.by}: {seg.describe()} ({plan.computed_on})",
        f"validation values recomputed for {agree[1]} front points; {agree[0]} equal the run's",
    ]
    if agree[0] != agree[1]:
        lines.append(
            "  note: some differ from the run's stored values; was the run made by another "
            "paretorec version?"
        )
    if unassigned:
        lines.append(f"{unassigned} validation users have no segment: they get the overall point")
    header = "  ".join(f"{o.name} ({o.direction})" for o in objectives)
    lines.append(f"  {'segment':<16} {'users':>5}  {'trial':>5}  {'model':<10}  {header}")
    for name, p in plan.points.items():
        shown = "  ".join(
            f"{p.values.get(o.name, np.nan):>{len(o.name) + len(o.direction) + 3}.4g}"
            for o in objectives
        )
        lines.append(
            f"  {name[:16]:<16} {p.users:>5}  {p.trial:>5}  {p.candidate.model.name[:10]:<10}  "
            f"{shown}"
        )
    for name, p in plan.points.items():
        lines.append(f"why {name}: {p.selection.get('reason', '')}")
    return lines


# --- a cache of per-user validation values ------------------------------------------------


def _cache_scope(point: OperatingPoint) -> str:
    """What per-user values depend on besides the candidate: data, split, k, similarity."""
    return json.dumps(
        [point.dataset_checksum, dataclasses.asdict(point.split), point.k, point.similarity],
        sort_keys=True,
        default=str,
    )


class PerUserCache:
    """Per-user validation values by (candidate, metric), kept in an ``.npz`` file.

    The file holds ``keys`` (one JSON string per row: scope, candidate, metric), ``users``
    (the validation user codes the columns belong to) and ``values`` ``(rows, users)``. A file
    for other users, or one that does not read, is ignored (and replaced on save), never
    trusted; it is read without pickle.
    """

    def __init__(self, path: str | os.PathLike[str] | None, scope: str, users: np.ndarray) -> None:
        self.path = None if path is None else Path(path)
        self.scope = scope
        self.users = np.asarray(users, dtype=np.int64)
        self.rows: dict[str, np.ndarray] = {}
        self.added = 0
        if self.path is not None and self.path.is_file():
            self._read()

    def _key(self, candidate: Candidate, metric: str) -> str:
        values = json.dumps(candidate.values(), sort_keys=True, default=str)
        return json.dumps([self.scope, values, metric])

    def _read(self) -> None:
        try:
            with np.load(self.path, allow_pickle=False) as data:  # type: ignore[arg-type]
                keys, users, values = data["keys"], data["users"], data["values"]
        except (OSError, ValueError, KeyError):
            return
        if users.shape != self.users.shape or not np.array_equal(users, self.users):
            return
        if values.shape != (len(keys), len(users)):
            return
        self.rows = {str(k): values[i].astype(np.float64) for i, k in enumerate(keys)}

    def get(self, candidate: Candidate, metric: str) -> np.ndarray | None:
        return self.rows.get(self._key(candidate, metric))

    def put(self, candidate: Candidate, metric: str, values: np.ndarray) -> None:
        if self.path is not None:
            self.rows[self._key(candidate, metric)] = values
            self.added += 1

    def save(self) -> None:
        if self.path is None or not self.added:
            return
        keys = list(self.rows)
        values = np.stack([self.rows[k] for k in keys]) if keys else np.zeros((0, len(self.users)))
        buffer = io.BytesIO()
        np.savez_compressed(buffer, keys=np.array(keys), users=self.users, values=values)
        atomic_write_bytes(self.path, buffer.getvalue())
