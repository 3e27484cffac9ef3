"""Cleaning and validation of raw interactions, every rule counted.

Input: a frame with columns ``user``, ``item`` and optionally ``rating`` and ``timestamp``,
indexed by the row's position in its file. Two kinds of rule:

- *problems* (a missing id, a missing / non-numeric / out-of-scale rating, an unparsable
  timestamp, a duplicate user-item pair): in strict mode the first one raises a DataError that
  names the file, line and column and says what to do; by default the rows are dropped (for
  duplicates the latest event is kept) and counted;
- *filters* the config asks for (explicit -> implicit threshold, iterated k-core): applied and
  counted in both modes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from paretorec.errors import DataError


@dataclass(frozen=True)
class Step:
    """One cleaning rule's outcome."""

    rule: str
    dropped: int
    note: str = ""


@dataclass(frozen=True)
class CleaningReport:
    """What cleaning did to one source, rule by rule."""

    source: str
    rows_in: int
    steps: tuple[Step, ...]
    rows_out: int
    users_out: int
    items_out: int

    def noted(self, rule: str, note: str) -> CleaningReport:
        """The same report with an informational first step (nothing dropped)."""
        return dataclasses.replace(self, steps=(Step(rule, 0, note), *self.steps))

    def dropped(self, rule: str) -> int:
        """Rows dropped by ``rule`` (0 if it dropped none or did not run)."""
        return sum(s.dropped for s in self.steps if s.rule == rule)

    def lines(self) -> list[str]:
        out = [f"cleaning report for {self.source}: {self.rows_in:,} rows read"]
        for s in self.steps:
            note = f" ({s.note})" if s.note else ""
            out.append(f"  {s.rule:<40} {s.dropped:>9,} dropped{note}")
        out.append(
            f"  kept {self.rows_out:,} rows, {self.users_out:,} users, {self.items_out:,} items"
        )
        return out


@dataclass(frozen=True)
class CleaningOptions:
    """The cleaning a source asks for.

    Attributes:
        rating_scale: ``(lowest, highest)`` allowed rating, or None to accept any number.
        min_user_interactions: k-core minimum per user (1 = no filter).
        min_item_interactions: k-core minimum per item (1 = no filter).
        implicit_threshold: Keep only ratings >= this and treat them as implicit positives.
        strict: Fail on the first problem instead of dropping and counting.
    """

    rating_scale: tuple[float, float] | None = None
    min_user_interactions: int = 1
    min_item_interactions: int = 1
    implicit_threshold: float | None = None
    strict: bool = False


class _Cleaner:
    def __init__(self, frame: pd.DataFrame, source: str, line_offset: int, strict: bool) -> None:
        self.frame = frame
        self.source = source
        self.line_offset = line_offset  # file line of index 0 (2 for a CSV with a header)
        self.strict = strict
        self.steps: list[Step] = []

    def problem(self, rule: str, bad: pd.Series, column: str, what: str, fix: str) -> None:
        """Drop (and count) the rows flagged in ``bad``, or fail on the first in strict mode."""
        count = int(bad.sum())
        if count and self.strict:
            first = bad.index[bad.to_numpy()][0]
            where = f"line {first + self.line_offset}" if self.line_offset else f"row {first}"
            value = self.frame.at[first, column] if column in self.frame else None
            raise DataError(
                f"{self.source}: {where}, column `{column}`: {what} ({value!r}); {fix} "
                f"({count} such row{'s' if count > 1 else ''}; without strict mode they are "
                "dropped and counted)"
            )
        if count:
            self.frame = self.frame[~bad.to_numpy()]
        self.steps.append(Step(rule, count))

    def filtered(self, rule: str, keep: np.ndarray, note: str = "") -> None:
        self.steps.append(Step(rule, int((~keep).sum()), note))
        self.frame = self.frame[keep]


def _missing(series: pd.Series) -> pd.Series:
    missing = series.isna()
    if not pd.api.types.is_numeric_dtype(series):  # text: a blank value is missing too
        missing |= series.astype(str).str.strip().eq("")
    return missing


def clean(
    frame: pd.DataFrame,
    source: str,
    options: CleaningOptions,
    columns: dict[str, str] | None = None,
    line_offset: int = 2,
) -> tuple[pd.DataFrame, CleaningReport]:
    """Apply every rule in order and report what each dropped.

    Args:
        frame: Raw rows with ``user``, ``item`` [, ``rating``] [, ``timestamp``] columns.
        source: File name for messages.
        options: Scale, k-core, implicit threshold, strictness.
        columns: Original column names for messages (``user`` -> ``userId``).
        line_offset: File line number of the frame's index 0 (0 when rows are not lines).

    Returns:
        The cleaned frame (``rating`` as float32, ``timestamp`` as int64 seconds) and the report.
    """
    names = columns or {}
    rows_in = len(frame)
    c = _Cleaner(frame, source, line_offset, options.strict)
    col = lambda key: names.get(key, key)  # noqa: E731 - message helper

    for key in ("user", "item"):
        c.problem(
            f"missing {key} id",
            _missing(c.frame[key]),
            key,
            f"missing {key} id",
            f"fill in the {col(key)} column or delete the row",
        )
        # before duplicates are looked for: "5", " 5" and "5.0" are one id
        c.frame = c.frame.assign(**{key: normalise_ids(c.frame[key])})

    if "rating" in c.frame:
        raw = c.frame["rating"]
        c.problem(
            "missing rating",
            _missing(raw),
            "rating",
            "missing rating",
            f"fill in {col('rating')} or delete the row",
        )
        raw = c.frame["rating"]
        numeric = pd.to_numeric(raw, errors="coerce")
        c.problem(
            "non-numeric rating",
            numeric.isna(),
            "rating",
            "not a number",
            f"write {col('rating')} as a number",
        )
        c.frame = c.frame.assign(rating=pd.to_numeric(c.frame["rating"]).astype(np.float64))
        if options.rating_scale is not None:
            low, high = options.rating_scale
            outside = (c.frame["rating"] < low) | (c.frame["rating"] > high)
            c.problem(
                "rating outside the scale",
                outside,
                "rating",
                f"outside the rating scale [{low:g}, {high:g}]",
                "correct the value or set [data] rating_scale",
            )

    if "timestamp" in c.frame:
        seconds = _to_seconds(c.frame["timestamp"])
        c.problem(
            "unparsable timestamp",
            seconds.isna(),
            "timestamp",
            "not a time (epoch seconds or an ISO date)",
            f"write {col('timestamp')} as epoch seconds or ISO 8601",
        )
        seconds = _to_seconds(c.frame["timestamp"])
        if len(seconds) and seconds.median() > MILLISECONDS:
            seconds = seconds // 1000
            c.steps.append(Step("timestamp unit", 0, "milliseconds read as such"))
        c.frame = c.frame.assign(timestamp=seconds.astype(np.int64))

    order = c.frame.sort_values("timestamp", kind="stable") if "timestamp" in c.frame else c.frame
    duplicate = order.duplicated(subset=["user", "item"], keep="last").reindex(c.frame.index)
    c.problem(
        "duplicate user-item pair (kept latest)",
        duplicate,
        "item",
        "a second event for the same user and item",
        "keep one event per user and item",
    )

    if options.implicit_threshold is not None and "rating" in c.frame:
        keep = (c.frame["rating"] >= options.implicit_threshold).to_numpy()
        c.filtered(
            "below the implicit threshold",
            keep,
            f"ratings >= {options.implicit_threshold:g} kept as positives",
        )
        c.frame = c.frame.drop(columns="rating")

    if options.min_user_interactions > 1 or options.min_item_interactions > 1:
        keep = _k_core(c.frame, options.min_user_interactions, options.min_item_interactions)
        c.filtered(
            "k-core (min per user / per item)",
            keep,
            f"users >= {options.min_user_interactions}, "
            f"items >= {options.min_item_interactions}, iterated",
        )

    out = c.frame
    if out.empty:
        raise DataError(
            f"{source}: no interactions left after cleaning ({rows_in:,} read; "
            + ", ".join(f"{s.rule}: {s.dropped:,}" for s in c.steps if s.dropped)
            + "); check the column mapping and the cleaning options"
        )
    if "rating" in out:
        out = out.assign(rating=out["rating"].astype(np.float32))
    report = CleaningReport(
        source, rows_in, tuple(c.steps), len(out), out["user"].nunique(), out["item"].nunique()
    )
    return out, report


MILLISECONDS = 1e11  # epoch values above this are milliseconds (seconds reach it in year 5138)


def normalise_ids(values: pd.Series) -> pd.Series:
    """Ids as int64 when every id is a whole number, else as stripped strings."""
    if pd.api.types.is_integer_dtype(values):
        return values.astype(np.int64)
    as_number = pd.to_numeric(values, errors="coerce")
    if as_number.notna().all() and (as_number == np.floor(as_number)).all():
        return as_number.astype(np.int64)
    return values.astype(str).str.strip()


def _to_seconds(series: pd.Series) -> pd.Series:
    """Epoch seconds as float; NaN where the value is not a time."""
    numeric = pd.to_numeric(series, errors="coerce")
    if pd.api.types.is_numeric_dtype(series):
        return numeric
    text = series[numeric.isna() & series.notna()]
    if not text.empty:
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
        seconds = (parsed - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
        numeric.loc[text.index] = seconds.astype("float64")
    return numeric


def _k_core(frame: pd.DataFrame, min_user: int, min_item: int) -> np.ndarray:
    """Mask of rows in the iterated (min_user, min_item)-core."""
    if frame.empty:
        return np.zeros(0, dtype=bool)
    users = pd.factorize(frame["user"])[0]
    items = pd.factorize(frame["item"])[0]
    keep = np.ones(len(frame), dtype=bool)
    while True:
        user_count = np.bincount(users[keep], minlength=users.max() + 1)
        item_count = np.bincount(items[keep], minlength=items.max() + 1)
        ok = keep & (user_count[users] >= min_user) & (item_count[items] >= min_item)
        if ok.sum() == keep.sum():
            return ok
        keep = ok
