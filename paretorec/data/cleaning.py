"""Cleaning and validation of raw interactions, every rule counted.

Input: a frame with columns ``user``, ``item`` and optionally ``rating`` and ``timestamp``,
indexed by the row's position in its file. Two kinds of rule:

- *problems* (a missing id, a missing / non-numeric / out-of-scale rating, an unparsable
  timestamp, a duplicate user-item pair): in strict mode the first one raises a DataError that
  names the file, line and column and says what to do; by default the rows are dropped (for
  duplicates the latest event is kept) and counted;
- *filters* the config asks for (explicit -> implicit threshold, iterated k-core): applied and
  counted in both modes.

What cannot be read exactly is refused in both modes, because dropping it would hide that the
whole column is misread: ids a float column cannot hold exactly, a column that is not ids at
all, timestamps in more than one unit.
"""

from __future__ import annotations

import dataclasses
import numbers
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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


class BadValue(ValueError):
    """A value that cannot be read exactly; whoever knows the file adds its name and line."""

    def __init__(self, label: Any, value: Any, what: str, fix: str) -> None:
        super().__init__(what)
        self.label, self.value, self.what, self.fix = label, value, what, fix


def shown(value: Any, limit: int = 40) -> str:
    """``repr`` cut to ``limit`` characters: a message line must stay a line."""
    text = repr(value.item() if isinstance(value, np.generic) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def where(label: Any, line_offset: int) -> str:
    """``line N`` for a CSV row (its index + the offset), ``row N`` otherwise."""
    if isinstance(label, numbers.Integral) and line_offset:
        return f"line {int(label) + line_offset}"
    return f"row {label}" if isinstance(label, numbers.Integral) else f"row {label!r}"


class _Cleaner:
    def __init__(self, frame: pd.DataFrame, source: str, line_offset: int, strict: bool) -> None:
        self.frame = frame
        self.source = source
        self.line_offset = line_offset  # file line of index 0 (2 for a CSV with a header)
        self.strict = strict
        self.steps: list[Step] = []

    def where(self, label: Any) -> str:
        return where(label, self.line_offset)

    def refuse(self, column: str, bad: BadValue) -> DataError:
        """The error for a value that cannot be read exactly, in either mode."""
        return DataError(
            f"{self.source}: {self.where(bad.label)}, column `{column}`: {bad.what} "
            f"({shown(bad.value)}); {bad.fix}"
        )

    def problem(self, rule: str, bad: pd.Series, column: str, what: str, fix: str) -> None:
        """Drop (and count) the rows flagged in ``bad``, or fail on the first in strict mode."""
        count = int(bad.sum())
        if count and self.strict:
            first = bad.index[bad.to_numpy()][0]
            value = self.frame.at[first, column] if column in self.frame else None
            raise DataError(
                f"{self.source}: {self.where(first)}, column `{column}`: {what} "
                f"({shown(value)}); {fix} ({count} such row{'s' if count > 1 else ''}; without "
                "strict mode they are dropped and counted)"
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

    Raises:
        DataError: a problem row in strict mode; in either mode ids that cannot be kept exactly,
            timestamps in mixed units, or nothing left.
    """
    names = columns or {}
    rows_in = len(frame)
    c = _Cleaner(frame, source, line_offset, options.strict)
    col = lambda key: names.get(key, key)  # noqa: E731 - message helper

    for key in ("user", "item"):
        _clean_ids(c, key, col(key))
    if "rating" in c.frame:
        _clean_ratings(c, col("rating"), options.rating_scale)
    if "timestamp" in c.frame:
        _clean_timestamps(c, col("timestamp"))

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


def _clean_ids(c: _Cleaner, key: str, name: str) -> None:
    c.problem(
        f"missing {key} id",
        _missing(c.frame[key]),
        key,
        f"missing {key} id",
        f"fill in the {name} column or delete the row",
    )
    try:  # before duplicates are looked for: "5", " 5" and "5.0" are one id
        c.frame = c.frame.assign(**{key: normalise_ids(c.frame[key])})
    except BadValue as bad:
        raise c.refuse(name, bad) from None


def _clean_ratings(c: _Cleaner, name: str, scale: tuple[float, float] | None) -> None:
    c.problem(
        "missing rating",
        _missing(c.frame["rating"]),
        "rating",
        "missing rating",
        f"fill in {name} or delete the row",
    )
    numeric = _numbers(c.frame["rating"])
    # inf, and what float32 (the models' type) would make inf, is no rating either
    bad = ~(np.isfinite(numeric.to_numpy(np.float64)) & (numeric.abs() <= FLOAT32_MAX))
    first_is_number = bad.any() and not np.isnan(numeric[bad].iloc[0])
    c.problem(
        "non-numeric rating",
        bad,
        "rating",
        "not a finite number (|x| <= 3.4e38)" if first_is_number else "not a number",
        f"write {name} as a number",
    )
    c.frame = c.frame.assign(rating=_numbers(c.frame["rating"]).astype(np.float64))
    if scale is not None:
        low, high = scale
        outside = (c.frame["rating"] < low) | (c.frame["rating"] > high)
        c.problem(
            "rating outside the scale",
            outside,
            "rating",
            f"outside the rating scale [{low:g}, {high:g}]",
            "correct the value or set [data] rating_scale",
        )


def _clean_timestamps(c: _Cleaner, name: str) -> None:
    epoch = _epoch(c.frame["timestamp"])
    bad = epoch["seconds"].isna()
    first_missing = bad.any() and _missing(c.frame["timestamp"][bad]).iloc[0]
    c.problem(
        "unparsable timestamp",
        bad,
        "timestamp",
        "missing timestamp"
        if first_missing
        else "not a time (epoch seconds, ms, us or ns, or an ISO date) in years 1 to 9999",
        f"write {name} as epoch seconds or ISO 8601",
    )
    epoch = epoch.loc[c.frame.index]
    units = epoch["unit"].to_numpy()
    classes = np.unique(units[units >= 0])  # dates (-1) carry no unit to agree on
    if len(classes) > 1:
        a = epoch.index[units == classes[0]][0]
        b = epoch.index[units == classes[1]][0]
        (a, ua), (b, ub) = sorted([(a, classes[0]), (b, classes[1])])
        raise DataError(
            f"{c.source}: column `{name}` mixes time units: {c.where(a)} reads as {UNITS[ua]} "
            f"({shown(c.frame.at[a, 'timestamp'])}), {c.where(b)} as {UNITS[ub]} "
            f"({shown(c.frame.at[b, 'timestamp'])}); write every {name} in one unit"
        )
    if len(classes) and classes[0] > 0:
        c.steps.append(Step("timestamp unit", 0, f"{UNITS[classes[0]]} read as such"))
    c.frame = c.frame.assign(timestamp=epoch["seconds"].astype(np.int64))


FLOAT32_MAX = float(np.finfo(np.float32).max)
MILLISECONDS = 1e11  # epoch values above this are milliseconds (seconds reach it in year 5138)
# Epoch values by magnitude: below 1e11 seconds, then ms, us, ns, each 1000x the last.
UNITS = ("seconds", "milliseconds", "microseconds", "nanoseconds")
# datetime's range (years 1 to 9999): what `describe` and every date shown can print
FIRST_SECOND, LAST_SECOND = -62_135_596_800, 253_402_300_799
EXACT_FLOAT = 2**53  # beyond it float64 no longer holds every whole number
INT64 = np.iinfo(np.int64)
UINT64_MAX = int(np.iinfo(np.uint64).max)
# "5", "+5", "5.0", "5."; never through a float. A leading zero ("007") marks text ids: "007"
# and "7" are then two ids, as the file wrote them.
_WHOLE = re.compile(r"[+-]?(0|[1-9][0-9]*)(\.0*)?")


def normalise_ids(values: pd.Series) -> pd.Series:
    """Ids, exactly: integer columns keep their values (uint64 too), text whose every id is a
    whole number ("5", " 5", "5.0") becomes integers of any size without passing through a float,
    other text (an id with a leading zero such as "007" included) is kept as stripped strings.

    Raises:
        BadValue: a float id float64 may not hold exactly (not whole, beyond 2**53, inf), or a
            column that does not hold ids at all (true/false, times, lists, bytes).
    """
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return normalise_ids(values.astype(object))
    if pd.api.types.is_bool_dtype(dtype) or dtype.kind in "mM":
        kind = "true/false" if pd.api.types.is_bool_dtype(dtype) else "times"
        raise BadValue(values.index[0], values.iloc[0], f"a column of {kind}, not ids", _ID_FIX)
    if pd.api.types.is_integer_dtype(dtype):
        return _integer_ids(values)
    if pd.api.types.is_float_dtype(dtype):
        return _float_ids(values)
    return _text_ids(values)


_ID_FIX = "map [data] columns to the column of ids, written as integers or text"


def _integer_ids(values: pd.Series) -> pd.Series:
    if len(values) and values.min() >= 0 and int(values.max()) > INT64.max:
        return values.astype(np.uint64)
    return values.astype(np.int64)


def _float_ids(values: pd.Series) -> pd.Series:
    v = values.to_numpy(np.float64)
    with np.errstate(invalid="ignore"):
        fractional = ~np.isfinite(v) | (v != np.floor(v))
        rounded = ~fractional & (np.abs(v) > EXACT_FLOAT)
    for bad, what in (
        (fractional, "an id that is not a whole number"),
        (rounded, "a floating-point id above 2**53, which float64 may have rounded"),
    ):
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            fix = "store the ids as integers or as text"
            raise BadValue(values.index[first], values.iloc[first], what, fix)
    return pd.Series(v.astype(np.int64), index=values.index, name=values.name)


def _text_ids(values: pd.Series) -> pd.Series:
    try:
        codes, uniques = pd.factorize(values)  # each distinct id once, not each row
    except TypeError:  # unhashable: lists, arrays
        raise BadValue(values.index[0], values.iloc[0], "not an id", _ID_FIX) from None
    tokens = []
    for position, raw in enumerate(uniques):
        token = _id_token(raw)
        if token is None:
            label = values.index[int(np.argmax(codes == position))]
            raise BadValue(label, raw, f"not an id (a {type(raw).__name__})", _ID_FIX)
        tokens.append(token)
    if all(isinstance(t, int) or _WHOLE.fullmatch(t) for t in tokens):
        vocabulary = _integer_array([t if isinstance(t, int) else _whole(t) for t in tokens])
    else:
        vocabulary = np.array([str(t) for t in tokens] + [""], dtype=object)[:-1]
    out = vocabulary[np.maximum(codes, 0)] if len(vocabulary) else np.array([], dtype=object)
    if (codes < 0).any():  # only where the caller kept missing ids (item tables)
        out = out.astype(object)
        out[codes < 0] = None
    return pd.Series(out, index=values.index, name=values.name)


def _id_token(raw: Any) -> int | str | None:
    """A text id stripped, a whole number as int; None for what is no id."""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool | np.bool_):
        return None
    if isinstance(raw, numbers.Integral):
        return int(raw)
    if isinstance(raw, float | Decimal) and raw == raw and abs(raw) <= EXACT_FLOAT:
        return int(raw) if raw == int(raw) else None
    return None


def _whole(token: str) -> int:
    return int(token.split(".", 1)[0])


def _integer_array(ints: list[int]) -> np.ndarray:
    """The narrowest exact array: int64, else uint64, else Python ints (object)."""
    low, high = (min(ints), max(ints)) if ints else (0, 0)
    if INT64.min <= low and high <= INT64.max:
        return np.array(ints, dtype=np.int64)
    if low >= 0 and high <= UINT64_MAX:
        return np.array(ints, dtype=np.uint64)
    out = np.empty(len(ints), dtype=object)
    out[:] = ints
    return out


def _numbers(series: pd.Series) -> pd.Series:
    """Numbers as float64 (NaN where not a number); text is stripped first."""
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype(np.float64)
    text = series.map(lambda v: v.strip() if isinstance(v, str) else v, na_action="ignore")
    try:
        return pd.to_numeric(text, errors="coerce").astype(np.float64)
    except (TypeError, ValueError):  # objects no parser reads (lists): each on its own
        return text.map(_number).astype(np.float64)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _epoch(series: pd.Series) -> pd.DataFrame:
    """Per value: epoch ``seconds`` (float, NaN where no time or outside years 1 to 9999) and
    the ``unit`` its number was read in (an index into UNITS; -1 for dates, which have none).

    A number's unit follows from its magnitude alone, so a column mixing units shows up as
    more than one unit instead of being scaled by its median.
    """
    if series.dtype.kind == "M":
        return pd.DataFrame({"seconds": _datetime_seconds(series), "unit": -1}, series.index)
    raw = series if pd.api.types.is_numeric_dtype(series.dtype) else _parse_numbers(series)
    seconds, unit = _scaled(raw.to_numpy())
    frame = pd.DataFrame({"seconds": seconds, "unit": unit}, series.index)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        text = series[np.isnan(raw.to_numpy(np.float64)) & series.notna().to_numpy()]
        if not text.empty:
            parsed = pd.to_datetime(
                text.astype(str).str.strip(), errors="coerce", utc=True, format="ISO8601"
            )
            frame.loc[text.index, "seconds"] = _datetime_seconds(parsed)
            frame.loc[text.index, "unit"] = -1
    return frame


def _parse_numbers(series: pd.Series) -> pd.Series:
    """Numbers from text, int64 when every value is a whole number (ns need all 19 digits)."""
    try:
        return pd.to_numeric(series, errors="coerce")
    except (TypeError, ValueError):
        return series.map(_number).astype(np.float64)


def _scaled(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and unit of epoch numbers; NaN seconds (unit 0) where out of every unit's range."""
    if raw.dtype == np.bool_ or raw.dtype.kind not in "iuf":
        raw = raw.astype(np.float64)
    magnitude = np.abs(raw.astype(np.float64))
    bounds = MILLISECONDS * 1000.0 ** np.arange(len(UNITS))
    unit = np.searchsorted(bounds, magnitude, side="right")  # len(UNITS): beyond ns
    valid = np.isfinite(magnitude) & (unit < len(UNITS))
    unit = np.where(valid, unit, 0)
    divisor = (1000**unit).astype(raw.dtype if raw.dtype.kind in "iu" else np.float64)
    if raw.dtype.kind in "iu":  # whole numbers: exact integer division
        seconds = (raw // divisor).astype(np.float64)
    else:
        with np.errstate(invalid="ignore"):
            seconds = np.floor(raw / divisor)
    seconds[~valid | (seconds < FIRST_SECOND) | (seconds > LAST_SECOND)] = np.nan
    return seconds, unit


def _datetime_seconds(series: pd.Series) -> np.ndarray:
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_convert(None)
    raw = series.to_numpy().astype("datetime64[s]")
    seconds = raw.astype(np.int64).astype(np.float64)
    seconds[np.isnat(raw) | (seconds < FIRST_SECOND) | (seconds > LAST_SECOND)] = np.nan
    return seconds


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
