"""Metrics per user segment: cold, medium and heavy users by training activity.

Activity is ``Reference.history_length``, the number of training items of each evaluated user.
Default boundaries are the terciles of the evaluated users' activity: ``low`` is the smallest
observed activity with at least a third of the users at or below it, ``high`` the same for two
thirds (``numpy.quantile(..., method="inverted_cdf")``). Then

    cold: ``activity <= low``,  medium: ``low < activity <= high``,  heavy: ``activity > high``.

A user's segment depends on its activity alone, so users tied at a boundary share a segment and
the segments can be uneven (or empty, when most users are tied); the sizes are reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from paretorec.errors import ConfigError
from paretorec.metrics import ListContext, MetricRef, parse_metric

SEGMENTS = ("cold", "medium", "heavy")


@dataclass(frozen=True)
class SegmentReport:
    """Every requested metric in every segment.

    Attributes:
        boundaries: ``(low, high)`` training items: cold ``<= low < `` medium ``<= high <`` heavy.
        rows: Segment name -> ``(m,)`` row indices into the context's users.
        values: Segment name -> metric name -> ``(mean, users averaged)``.
    """

    boundaries: tuple[int, int]
    rows: dict[str, np.ndarray]
    values: dict[str, dict[str, tuple[float, int]]]

    def sizes(self) -> dict[str, int]:
        """Users per segment."""
        return {name: len(rows) for name, rows in self.rows.items()}


def activity_boundaries(activity: np.ndarray) -> tuple[int, int]:
    """``(low, high)``: the terciles of ``activity`` as observed values (see module docstring)."""
    if len(activity) == 0:
        raise ConfigError("user segments need at least one evaluated user, got 0")
    low, high = np.quantile(activity, [1 / 3, 2 / 3], method="inverted_cdf")
    return int(low), int(high)


def segment_rows(
    activity: np.ndarray, boundaries: tuple[int, int] | None = None
) -> dict[str, np.ndarray]:
    """Segment name -> ascending row indices of the users in it.

    Args:
        activity: ``(n,)`` training items per user.
        boundaries: ``(low, high)`` with ``0 <= low <= high``; terciles when None.
    """
    low, high = activity_boundaries(activity) if boundaries is None else boundaries
    if not 0 <= low <= high:
        raise ConfigError(f"segment boundaries need `0 <= low <= high`, got ({low}, {high})")
    return {
        "cold": np.flatnonzero(activity <= low),
        "medium": np.flatnonzero((activity > low) & (activity <= high)),
        "heavy": np.flatnonzero(activity > high),
    }


def segment_metrics(
    ctx: ListContext,
    metrics: Sequence[MetricRef | str],
    boundaries: tuple[int, int] | None = None,
) -> SegmentReport:
    """Compute every metric on the cold, medium and heavy users of ``ctx`` separately.

    Args:
        ctx: The scored lists of a stage.
        metrics: Metric references or names (``ndcg@10``).
        boundaries: ``(low, high)`` training-item boundaries; terciles of activity when None.

    Returns:
        The boundaries, each segment's rows, and each metric's mean and user count per segment.
    """
    refs = [parse_metric(m) if isinstance(m, str) else m for m in metrics]
    activity = ctx.reference.history_length
    bounds = activity_boundaries(activity) if boundaries is None else boundaries
    rows = segment_rows(activity, bounds)
    values: dict[str, dict[str, tuple[float, int]]] = {}
    for name, seg in rows.items():
        sub = ctx.take(seg)
        values[name] = {ref.name: ref.compute(sub) for ref in refs}
    return SegmentReport(boundaries=bounds, rows=rows, values=values)
