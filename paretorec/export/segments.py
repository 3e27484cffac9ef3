"""Per-segment operating points in an export: the segment definition, one point per segment,
and lists served by segment.

A per-segment ``chosen.json`` is an ordinary exported point (the overall choice, at the top
level) with a ``segments`` table: how users are put into segments (activity cut points computed
on the training data, or a user-table column), and for each segment the model, re-rank settings
and the values it was chosen on. A user is served its segment's point; a user without a
segment (a missing attribute, a label the export does not hold) gets the top-level point. A user
unseen in training has activity 0 and is in the first (``cold``) band.

Files without ``segments`` (every file exported before it existed) read as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from paretorec import names
from paretorec.errors import ConfigError, DataError
from paretorec.metrics import Judged
from paretorec.select.segments import ACTIVITY, Segmentation
from paretorec.study import Candidate, Pipeline, RankedLists

# What a ``segments`` table holds, and what each of its points holds.
SEGMENT_FIELDS = (
    "by",
    "cuts",
    "labels",
    "definition",
    "computed_on",
    "min_users",
    "unassigned",
    "objectives",
    "points",
)
POINT_FIELDS = ("model", "rerank", "run", "selection", "users", "values")
UNASSIGNED_TEXT = "served the top-level (overall) point"


@dataclass(frozen=True)
class SegmentPoint:
    """One segment's point.

    Attributes:
        candidate: Model, hyperparameters and re-rank settings.
        trial: The run's trial it came from.
        selection: ``method`` and ``reason``.
        users: Validation users of the segment it was chosen on.
        values: The objectives' values on the segment's validation users.
    """

    candidate: Candidate
    trial: int
    selection: dict[str, str] = field(default_factory=dict)
    users: int = 0
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SegmentPlan:
    """How users are segmented and which point serves each segment.

    Attributes:
        segmentation: The definition (activity cut points, or a user-table column).
        points: Segment name -> its point, one for every segment, in segment order.
        objectives: Objective name -> ``max`` / ``min``: what the choice was made on.
        min_users: Segments with fewer validation users got the overall point.
        computed_on: Where the cut points or labels came from, in words.
    """

    segmentation: Segmentation
    points: dict[str, SegmentPoint]
    objectives: dict[str, str] = field(default_factory=dict)
    min_users: int = 1
    computed_on: str = ""

    def __post_init__(self) -> None:
        if list(self.points) != list(self.segmentation.names):
            raise ConfigError(
                f"segments: one point per segment ({', '.join(self.segmentation.names)}) must "
                f"hold, got {', '.join(self.points) or 'none'}"
            )

    def candidates(self) -> list[Candidate]:
        return [p.candidate for p in self.points.values()]

    def to_dict(self) -> dict[str, Any]:
        seg = self.segmentation
        return {
            "by": seg.by,
            "cuts": None if seg.cuts is None else [_plain(c) for c in seg.cuts],
            "labels": None if seg.labels is None else list(seg.labels),
            "definition": seg.describe(),
            "computed_on": self.computed_on,
            "min_users": self.min_users,
            "unassigned": UNASSIGNED_TEXT,
            "objectives": dict(self.objectives),
            "points": {
                name: {
                    **candidate_fields(p.candidate),
                    "run": {"trial": p.trial},
                    "selection": dict(p.selection),
                    "users": p.users,
                    "values": {"validation": dict(p.values)},
                }
                for name, p in self.points.items()
            },
        }

    @classmethod
    def from_dict(
        cls, raw: Any, where: str, read_candidate: Callable[[dict[str, Any], str], Candidate]
    ) -> SegmentPlan:
        """Validate and read a ``segments`` table; every failure names the field.

        Args:
            raw: The table.
            where: The file, for messages.
            read_candidate: Reads a point's ``model`` and ``rerank`` (the exported point's own
                reader, so both are checked alike).
        """
        table = _table(raw, "segments", where)
        _known(table, SEGMENT_FIELDS, "segments", where)
        by = _string(table.get("by"), "segments.by", where)
        cuts = table.get("cuts")
        labels = table.get("labels")
        if cuts is not None:
            cuts = [
                _number(c, f"segments.cuts[{i}]", where)
                for i, c in enumerate(_list(cuts, "segments.cuts", where))
            ]
        if labels is not None:
            labels = [
                _string(v, f"segments.labels[{i}]", where)
                for i, v in enumerate(_list(labels, "segments.labels", where))
            ]
        try:
            segmentation = Segmentation(
                by, None if cuts is None else tuple(cuts), None if labels is None else tuple(labels)
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}: field `segments`: {exc}") from None
        for key in ("definition", "computed_on", "unassigned"):
            if key in table:
                _string(table[key], f"segments.{key}", where, limit=10_000)
        min_users = table.get("min_users", 1)
        if isinstance(min_users, bool) or not isinstance(min_users, int) or min_users < 1:
            raise ConfigError(
                f"{where}: field `segments.min_users` must be an integer >= 1, got "
                f"{_short(min_users)}"
            )
        objectives = _table(table.get("objectives", {}), "segments.objectives", where)
        for name, direction in objectives.items():
            if direction not in ("max", "min"):
                raise ConfigError(
                    f"{where}: field `segments.objectives.{name[:40]}` must be `max` or `min`, "
                    f"got {_short(direction)}"
                )
        points_raw = _table(table.get("points"), "segments.points", where)
        for name in points_raw:
            if name not in segmentation.names:
                raise ConfigError(
                    f"{where}: field `segments.points.{name[:40]}`: not a segment of this "
                    f"definition ({', '.join(segmentation.names)[:200]})"
                )
        points = {}
        for name in segmentation.names:
            dotted = f"segments.points.{name}"
            if name not in points_raw:
                raise ConfigError(f"{where}: field `{dotted}` is missing; export it again")
            points[name] = _read_point(points_raw[name], dotted, where, read_candidate)
        return cls(
            segmentation,
            points,
            dict(objectives),
            min_users,
            table.get("computed_on", ""),
        )


def candidate_fields(candidate: Candidate) -> dict[str, Any]:
    """A candidate's ``model`` (name, parameters, members) and ``rerank`` tables, as exported."""
    values = candidate.values()
    model = candidate.model.name
    return {
        "model": {
            "name": model,
            "params": names.model_params(values, model),
            # models it is built from (a hybrid's members), with their own parameters
            "members": {m: names.model_params(values, m) for m in names.members(values, model)},
        },
        "rerank": {
            key.split(".", 1)[1]: v for key, v in values.items() if names.parse(key).is_rerank
        },
    }


def _read_point(
    raw: Any, dotted: str, where: str, read_candidate: Callable[[dict[str, Any], str], Candidate]
) -> SegmentPoint:
    table = _table(raw, dotted, where)
    _known(table, POINT_FIELDS, dotted, where)
    candidate = read_candidate(table, f"{where}: {dotted}")
    run = _table(table.get("run", {}), f"{dotted}.run", where)
    trial = run.get("trial", -1)
    if isinstance(trial, bool) or not isinstance(trial, int) or not -1 <= trial < 2**63:
        raise ConfigError(
            f"{where}: field `{dotted}.run.trial` must be an integer >= 0, got {_short(trial)}"
        )
    selection = {
        key: _string(value, f"{dotted}.selection.{key[:40]}", where, limit=10_000)
        for key, value in _table(table.get("selection", {}), f"{dotted}.selection", where).items()
    }
    users = table.get("users", 0)
    if isinstance(users, bool) or not isinstance(users, int) or users < 0:
        raise ConfigError(
            f"{where}: field `{dotted}.users` must be an integer >= 0, got {_short(users)}"
        )
    values_table = _table(table.get("values", {}), f"{dotted}.values", where)
    _known(values_table, ("validation",), f"{dotted}.values", where)
    values = {}
    for name, value in _table(
        values_table.get("validation", {}), f"{dotted}.values.validation", where
    ).items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConfigError(
                f"{where}: field `{dotted}.values.validation.{name[:40]}` must be a number, "
                f"got {_short(value)}"
            )
        values[name] = math.nan if value is None else float(value)
    return SegmentPoint(candidate, trial, selection, users, values)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _table(value: Any, dotted: str, where: str) -> dict[str, Any]:
    if value is None:
        raise ConfigError(f"{where}: field `{dotted}` is missing; export it again")
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: field `{dotted}` must be a table (JSON object), got {_short(value)}"
        )
    return value


def _list(value: Any, dotted: str, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: field `{dotted}` must be a list or null, got {_short(value)}")
    return value


def _string(value: Any, dotted: str, where: str, limit: int = 64) -> str:
    if not isinstance(value, str) or not (0 < len(value) <= limit):
        raise ConfigError(
            f"{where}: field `{dotted}` must be a string of 1 to {limit} characters, got "
            f"{_short(value)}"
        )
    return value


def _number(value: Any, dotted: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: field `{dotted}` must be a finite number, got {_short(value)}")
    return float(value)


def _known(table: dict[str, Any], allowed: tuple[str, ...], dotted: str, where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(
            f"{where}: unknown field `{dotted}.{unknown[0][:40]}`; expected {', '.join(allowed)}"
        )


def _plain(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


# --- serving by segment -------------------------------------------------------------------


def segment_values(by: str, pipeline: Pipeline, stage: str) -> np.ndarray:
    """``(n,)`` the value segments are made of for each user of ``stage``: training items
    in the stage's fit data (``activity``), or the user-table column ``by``."""
    data = pipeline.stage(stage)
    if by == ACTIVITY:
        return data.fit.history_length[data.users]
    table = pipeline.dataset.users
    if by not in table.columns or by == "user":
        have = ", ".join(c for c in table.columns if c != "user") or "none"
        raise DataError(
            f"segments by `{by}`: the data at hand has no such user column (user columns: {have})"
        )
    return table[by].to_numpy()[data.users]


def user_segments(plan: SegmentPlan, pipeline: Pipeline, stage: str) -> np.ndarray:
    """``(n,)`` segment code of each user of ``stage`` (``-1``: none, the overall point)."""
    return plan.segmentation.assign(segment_values(plan.segmentation.by, pipeline, stage))


def segment_lists(
    pipeline: Pipeline,
    stage: str,
    overall: Candidate,
    plan: SegmentPlan,
    k: int | None = None,
) -> tuple[RankedLists, np.ndarray]:
    """Each user's lists from its segment's point (the overall point for unassigned users).

    Returns:
        The combined lists (row-aligned with the stage's users) and each user's segment code.
        Each distinct point is re-ranked for the whole stage and its segment's rows kept, so
        the lists equal what serving each segment's point alone gives those users.
    """
    codes = user_segments(plan, pipeline, stage)
    chosen = [overall, *plan.candidates()]  # code + 1 indexes this list
    which = codes + 1
    built: dict[Candidate, RankedLists] = {}
    for candidate in chosen:
        if candidate not in built:
            built[candidate] = pipeline.recommend(stage, candidate, k)
    first = built[chosen[0]]
    items, values = first.items.copy(), first.values.copy()
    ops = first.ops.copy()
    hit = None if first.judged is None else first.judged.hit.copy()
    rating = None if first.judged is None else first.judged.rating.copy()
    seconds = 0.0
    for index, candidate in enumerate(chosen):
        rows = which == index
        lists = built[candidate]
        seconds += lists.ms_per_user * rows.sum()
        if index == 0:
            continue
        items[rows], values[rows] = lists.items[rows], lists.values[rows]
        ops[rows] = lists.ops[rows]
        if hit is not None and rating is not None and lists.judged is not None:
            hit[rows], rating[rows] = lists.judged.hit[rows], lists.judged.rating[rows]
    used = {chosen[i] for i in np.unique(which)}
    combined = RankedLists(
        first.users,
        items,
        values,
        ops,
        seconds / max(len(codes), 1),
        None if hit is None or rating is None else Judged(hit, rating),
        # serving several points holds each of their models
        sum(built[c].model_mb for c in {_model_of(c): c for c in used}.values()),
    )
    return combined, codes


def _model_of(candidate: Candidate) -> tuple:
    return names.model_key(candidate.values())
