"""User segments and one operating point per segment.

A ``Segmentation`` says which segment a user belongs to, from one number or one label per
user: its training activity (``activity``: items in the training data) or a column of the
dataset's user table (``age``, ``occupation``, ...).

- Numbers fall into bands by cut points: band 0 is ``value <= cuts[0]``, band i is
  ``cuts[i-1] < value <= cuts[i]``, the last ``value > cuts[-1]``. Activity with one or two cuts
  names its bands ``cold`` / (``medium`` /) ``heavy``. The default cuts are the terciles of the
  values (``numpy.quantile(..., method="inverted_cdf")``, as ``evaluate --segments`` uses),
  ties merged.
- Labels are their own segments.

A user whose value is missing, or a label the segmentation does not hold, is unassigned
(``-1``); whoever serves the segments gives those users the overall point.

``pick_per_segment`` applies one selector within each segment: the front's points scored on
that segment's users, reduced to those non-dominated on that segment, then the selector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from itertools import pairwise

import numpy as np
import pandas as pd

from paretorec.errors import ConfigError
from paretorec.objectives import Objective, finite_min, front_mask, to_min
from paretorec.select.selectors import FrontView, Pick, Selector

# Whether a front view names its rows (for reasons); checked, not assumed, as views grow.
_NAMED = "labels" in {f.name for f in fields(FrontView)}
ACTIVITY = "activity"
UNASSIGNED = -1
# A segment name is written into exported files and printed: short, one line.
MAX_NAME = 64
MAX_CUTS = 16
MAX_LABELS = 1000


@dataclass(frozen=True)
class Segmentation:
    """How users are put into segments.

    Attributes:
        by: ``activity`` (training items per user) or a user-table column name.
        cuts: Increasing cut points for numbers, or None for labels.
        labels: The labels that are segments (each its own), or None for numbers.
    """

    by: str
    cuts: tuple[float, ...] | None = None
    labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if (self.cuts is None) == (self.labels is None):
            raise ConfigError(f"segments by `{self.by}`: give either cut points or labels")
        if self.by == ACTIVITY and self.cuts is None:
            raise ConfigError("segments by activity are bands of cut points, not labels")
        if self.cuts is not None:
            cuts = np.asarray(self.cuts, dtype=np.float64)
            if not 1 <= len(cuts) <= MAX_CUTS or not np.isfinite(cuts).all():
                raise ConfigError(
                    f"segments by `{self.by}`: 1 to {MAX_CUTS} finite cut points must hold, "
                    f"got {list(self.cuts)[:20]}"
                )
            if (np.diff(cuts) <= 0).any():
                raise ConfigError(
                    f"segments by `{self.by}`: cut points must increase, got {list(self.cuts)}"
                )
        if self.labels is not None:
            if not 1 <= len(self.labels) <= MAX_LABELS:
                raise ConfigError(
                    f"segments by `{self.by}`: 1 to {MAX_LABELS} labels must hold, "
                    f"got {len(self.labels)}"
                )
            if len(set(self.labels)) != len(self.labels):
                raise ConfigError(f"segments by `{self.by}`: a label is listed twice")
        for name in self.names:
            if not (0 < len(name) <= MAX_NAME and name.isprintable()):
                raise ConfigError(
                    f"segments by `{self.by}`: a segment name must be 1 to {MAX_NAME} printable "
                    f"characters, got {name[:MAX_NAME]!r}"
                )

    @property
    def names(self) -> tuple[str, ...]:
        """Segment names, in segment-code order."""
        if self.labels is not None:
            return self.labels
        cuts = self.cuts or ()
        if self.by == ACTIVITY and len(cuts) == 1:
            return ("cold", "heavy")
        if self.by == ACTIVITY and len(cuts) == 2:
            return ("cold", "medium", "heavy")
        shown = [_number(c) for c in cuts]
        return (
            f"{self.by}<={shown[0]}",
            *(f"{lo}<{self.by}<={hi}" for lo, hi in pairwise(shown)),
            f"{self.by}>{shown[-1]}",
        )

    def describe(self) -> str:
        """The definition in words, e.g. ``cold: activity <= 27; medium: ...``."""
        if self.labels is not None:
            return f"one segment per value of `{self.by}`: {', '.join(self.labels)}"
        cuts = [_number(c) for c in self.cuts or ()]
        bounds = [f"{self.by} <= {cuts[0]}"]
        bounds += [f"{lo} < {self.by} <= {hi}" for lo, hi in pairwise(cuts)]
        bounds.append(f"{self.by} > {cuts[-1]}")
        return "; ".join(f"{n}: {b}" for n, b in zip(self.names, bounds, strict=True))

    def assign(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """``(n,)`` segment code per user (``-1``: unassigned), from ``(n,)`` values."""
        if self.cuts is not None:
            numbers = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce")
            x = numbers.to_numpy(dtype=np.float64)
            codes = np.searchsorted(np.asarray(self.cuts), x, side="left")
            return np.where(np.isnan(x), UNASSIGNED, codes).astype(np.int64)
        labels = pd.Series(np.asarray(values, dtype=object))
        text = labels.where(labels.isna(), labels.astype(str))
        index = pd.Index(self.labels or ())
        return np.asarray(index.get_indexer(text), dtype=np.int64)


def _number(value: float) -> str:
    """A cut point as written in names: integers without a decimal point."""
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def terciles(values: np.ndarray) -> tuple[float, ...]:
    """The terciles of ``values`` (NaN left out) as observed values, ties merged."""
    x = np.asarray(values, dtype=np.float64)
    x = x[~np.isnan(x)]
    if not len(x):
        raise ConfigError("segments need at least one user with a value, got none")
    cuts = np.quantile(x, [1 / 3, 2 / 3], method="inverted_cdf")
    unique = tuple(float(c) for c in np.unique(cuts))
    if unique[-1] >= x.max():  # a last band with nobody in it says nothing
        unique = unique[:-1]
    if not unique:
        raise ConfigError(
            f"segments: every user has the same value ({_number(x.max())}); there is nothing "
            "to split"
        )
    return unique


def define(
    by: str, values: np.ndarray | pd.Series, cuts: Sequence[float] | None = None
) -> Segmentation:
    """The segmentation of users by ``values`` (activity or a user-table column).

    Args:
        by: ``activity`` or the column's name.
        values: ``(n,)`` the users' values on which default cuts or labels are computed.
        cuts: Cut points for numbers; default the terciles of ``values``. Labels take none.
    """
    series = pd.Series(values)
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    if by == ACTIVITY or numeric:
        chosen = tuple(float(c) for c in cuts) if cuts else terciles(series.to_numpy(float))
        return Segmentation(by, cuts=chosen)
    if cuts:
        raise ConfigError(
            f"--cuts applies to numbers; `{by}` holds labels (e.g. {series.dropna().iloc[0]!r}), "
            "each its own segment; drop --cuts"
        )
    counts = series.dropna().astype(str).value_counts()
    if counts.empty:
        raise ConfigError(f"segments by `{by}`: no user has a value")
    # most users first; equal counts by label, so the order does not depend on the data's order
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return Segmentation(by, labels=tuple(label for label, _ in order))


@dataclass(frozen=True)
class SegmentPick:
    """One segment's choice.

    Attributes:
        index: Row of the front chosen for the segment, or None when it falls back to the
            overall point (too few users).
        reason: Why, in words.
        method: The selector's name, or ``overall`` for a fallback.
        users: Users of the segment the choice was scored on.
        natural: ``(m,)`` the chosen row's objective values on the segment (own units).
    """

    index: int | None
    reason: str
    method: str
    users: int
    natural: np.ndarray


def pick_per_segment(
    natural: Mapping[str, np.ndarray],
    users: Mapping[str, int],
    objectives: tuple[Objective, ...],
    selector: Selector,
    overall: int,
    min_users: int = 50,
    labels: Sequence[str] | None = None,
) -> dict[str, SegmentPick]:
    """Apply ``selector`` within each segment.

    Args:
        natural: Segment name -> ``(n, m)`` the front's objective values on that segment's
            users, in their own units (rows: the run's front points).
        users: Segment name -> its users.
        objectives: The objectives, column-aligned.
        selector: Applied to each segment's non-dominated rows.
        overall: Front row of the overall choice (a small segment's fallback).
        min_users: A segment with fewer users gets the overall point: a choice on a handful
            of users follows their noise.
        labels: One short name per front row (``trial 12 (ease)``) for the selector's reasons,
            where the front view takes them; else rows are named by their place.

    Returns:
        Segment name -> its pick (front row, reason, users, values).
    """
    out: dict[str, SegmentPick] = {}
    for name, table in natural.items():
        n = users[name]
        if n < min_users:
            out[name] = SegmentPick(
                None,
                f"{n} users, fewer than the {min_users} a segment needs for a choice of its "
                "own: served the overall point",
                "overall",
                n,
                np.asarray(table[overall], dtype=np.float64),
            )
            continue
        F = finite_min(to_min(objectives, table))
        keep = np.flatnonzero(front_mask(F))
        view = FrontView(F[keep], table[keep], objectives)
        if labels is not None and _NAMED:  # reasons name rows by the run's trials
            view = FrontView(F[keep], table[keep], objectives, labels=[labels[i] for i in keep])
        try:
            pick: Pick = selector.pick(view)
        except ConfigError as exc:
            raise ConfigError(f"segment `{name}` ({n} users): {exc}") from None
        row = int(keep[pick.index])
        reason = (
            f"On this segment {len(keep)} of {len(table)} front points are non-dominated. "
            f"{pick.reason}"
        )
        out[name] = SegmentPick(row, reason, pick.method, n, np.asarray(table[row], np.float64))
    return out
