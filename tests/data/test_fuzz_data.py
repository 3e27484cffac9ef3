"""Fuzzing the data boundary: a valid small CSV or Parquet file, mutated (byte flips, truncation,
insertions, other encodings, swapped columns, extreme numbers, unicode), is either read exactly
or refused with exit code 2 and a short `error:` line naming the file; never a traceback.

"Read exactly" is checked against a trusted parse that shares no code with the loader: Python's
``csv`` module and ``int`` / ``float`` for CSV, pyarrow's ``to_pylist`` for Parquet, and the
documented rules (ids: whole numbers when every id is one, else the stripped text; ratings as
float32; times to epoch seconds by magnitude: s < 1e11 <= ms < 1e14 <= us < 1e17 <= ns < 1e20).
In strict mode an accepted file must equal that parse row for row; in lenient mode every loaded
row must be one of the file's rows (problem rows are dropped and counted, never altered).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from paretorec.config import DataConfig
from paretorec.data import load_dataset
from tests.test_cli import run_cli

ROWS = [
    (1, 10, 4.0, 878887116),
    (1, 11, 3.0, 878887200),
    (2, 10, 5.0, 878887300),
    (2, 12, 2.5, 878887400),
    (3, 11, 1.0, 878887500),
    (3, 12, 4.5, 878887600),
]
COLUMNS = ["user", "item", "rating", "timestamp"]
BASE_TEXT = ",".join(COLUMNS) + "\n" + "".join(f"{u},{i},{r:g},{t}\n" for u, i, r, t in ROWS)

# Seconds per example at most: generous on a loaded machine, yet a hang (a pathological regex,
# a quadratic loop on one odd byte) still fails instead of stalling CI.
FUZZ = settings(
    max_examples=150,
    deadline=5000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

EXTREMES = [
    "",
    " ",
    "0",
    "-0",
    "3.0",
    "1e400",
    "-1e400",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e39",
    "9007199254740993",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    str(2**100),
    "878887116000",
    "878887116000000",
    "878887116000000000",
    "1e30",
    "-99999999999",
    "2020-01-01",
    "2020-01-01T10:00:00Z",
    "12000-01-01",
    "007",
    "1_000",
    "0x10",
    "\u0661\u0662",  # Arabic-Indic digits: int() reads them, an id must not be merged with 12
    "caf\u00e9",
    "\U0001f600",
    "a,b",
    '"quoted"',
    "\u00a05",
    "5\u2028",
]
INSERTS = [b",", b"\n", b"\r", b'"', b"\x00", b"\xff", b"\xe9", b" ", b"-", b".", b"e", b"\t"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1"]


# --- mutations -------------------------------------------------------------------------------


def _cells(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.split("\n")]


def _join(cells: list[list[str]]) -> str:
    return "\n".join(",".join(row) for row in cells)


@st.composite
def text_mutation(draw, text: str) -> str:
    cells = _cells(text)
    kind = draw(
        st.sampled_from(["extreme", "unicode", "big id", "swap", "swap header", "drop column"])
    )
    if kind == "big id":  # odd and above 2**54: no float64 holds it, so any rounding shows
        number = (2 * draw(st.integers(2**53, 2**70)) + 1) * draw(st.sampled_from([1, -1]))
        suffix = draw(st.sampled_from(["", ".0", " "]))
        cells[draw(st.integers(1, len(cells) - 2))][draw(st.integers(0, 1))] = f"{number}{suffix}"
        return _join(cells)
    if kind in ("extreme", "unicode"):
        row = draw(st.integers(0, len(cells) - 2))
        col = draw(st.integers(0, len(cells[row]) - 1))
        value = (
            draw(st.sampled_from(EXTREMES))
            if kind == "extreme"
            else draw(st.text(min_size=0, max_size=6))
        )
        cells[row][col] = value
        return _join(cells)
    a, b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    rows = cells[:1] if kind == "swap header" else cells
    for row in rows:
        if len(row) > max(a, b):
            if kind == "drop column":
                del row[a]
            else:
                row[a], row[b] = row[b], row[a]
    return _join(cells)


@st.composite
def byte_mutation(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.sampled_from(INSERTS)) + data[at:]
    return data[:at] + data[at + draw(st.integers(1, 8)) :]


@st.composite
def mutated_csv(draw) -> bytes:
    text = BASE_TEXT
    for _ in range(draw(st.integers(0, 2))):
        text = draw(text_mutation(text))
    data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    for _ in range(draw(st.integers(0, 2))):
        data = draw(byte_mutation(data))
    return data


# --- the trusted parse -----------------------------------------------------------------------

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
WHOLE = re.compile(r"[+-]?[0-9]+(\.0*)?")
INTEGER = re.compile(r"[+-]?[0-9]+")
BOUNDS = [1e11, 1e14, 1e17, 1e20]
FIRST_SECOND, LAST_SECOND = -62_135_596_800, 253_402_300_799


def _decode(data: bytes, strict: bool) -> str | None:
    for mark, name in BOMS:
        if data.startswith(mark):
            return data.decode(name)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None if strict else data.decode("latin-1")


def _csv_rows(data: bytes, strict: bool) -> tuple[list[str], list[list[str | None]]] | None:
    text = _decode(data, strict)
    if text is None:
        return None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return None
    header = [h.strip() for h in rows[0]]
    body = []
    for row in rows[1:]:
        cells: list[str | None] = [c if c != "" else None for c in row]
        cells += [None] * (len(header) - len(cells))
        if any(c is not None for c in cells):
            body.append(cells)
    return header, body


def _id_forms(token: object) -> set[object]:
    """The values an id may be loaded as: the stripped text, or its whole number."""
    if isinstance(token, bool) or token is None:
        return set()
    if isinstance(token, int):
        return {token, str(token)}
    if isinstance(token, float):
        return {int(token)} if token.is_integer() and abs(token) <= 2**53 else set()
    text = str(token).strip()
    forms: set[object] = {text}
    if WHOLE.fullmatch(text):
        forms.add(int(text.split(".")[0]))
    return forms


def _seconds(value: object) -> int | None:
    """Epoch seconds by the documented rules, or None where the value is no time."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return math.floor(aware.timestamp())
    if isinstance(value, date):
        return _seconds(datetime(value.year, value.month, value.day))
    if isinstance(value, str):
        text = value.strip()
        if INTEGER.fullmatch(text):
            value = int(text)
        else:
            try:
                value = float(text)
            except ValueError:
                return _iso_seconds(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    unit = sum(abs(value) >= b for b in BOUNDS)
    if unit == len(BOUNDS):
        return None
    seconds = value // 1000**unit if isinstance(value, int) else math.floor(value / 1000**unit)
    return int(seconds) if FIRST_SECOND <= seconds <= LAST_SECOND else None


def _iso_seconds(text: str) -> int | None:
    try:
        return _seconds(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def _rating(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or abs(number) > float(np.finfo(np.float32).max):
        return None
    return float(np.float32(number))


def _matches(loaded: tuple, source: dict[str, object]) -> bool:
    user, item, rating, timestamp = loaded
    if user not in _id_forms(source["user"]) or item not in _id_forms(source["item"]):
        return False
    if "rating" in source and rating is not None and rating != _rating(source["rating"]):
        return False
    return not ("timestamp" in source and timestamp != _seconds(source["timestamp"]))


def _loaded_rows(ds) -> list[tuple]:
    frame = ds.to_frame()
    ratings = frame["rating"] if "rating" in frame else [None] * len(frame)
    times = frame["timestamp"] if "timestamp" in frame else [None] * len(frame)
    return [
        (_plain(u), _plain(i), None if r is None else float(r), None if t is None else int(t))
        for u, i, r, t in zip(frame["user"], frame["item"], ratings, times, strict=True)
    ]


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _check_against(ds, sources: list[dict[str, object]], strict: bool) -> None:
    """Every loaded row is a source row; in strict mode each source row is loaded once."""
    loaded = _loaded_rows(ds)
    unused = list(range(len(sources)))
    for row in loaded:
        match = next((k for k in unused if _matches(row, sources[k])), None)
        assert match is not None, ("a loaded row is no row of the file", row, sources)
        unused.remove(match)
    if strict:
        assert not unused, ("rows of the file were not loaded", [sources[k] for k in unused])
    for ids in (ds.user_ids, ds.item_ids):  # one kind per vocabulary: never 5 beside "5"
        assert len({isinstance(v, str) for v in ids.tolist()}) <= 1, ids


# --- running ---------------------------------------------------------------------------------


def _count(outcome: str) -> None:
    """Shown by ``--hypothesis-show-statistics``: both outcomes must stay common."""
    if currently_in_test_context():
        event(outcome)


def _outcome(path: Path, strict: bool, capsys) -> object:
    """The loaded Dataset, or None after checking the refusal's form."""
    args = ["data", "describe", "--path", path, *(["--strict"] if strict else [])]
    code, out, err = run_cli(args, capsys)
    if code == 2:
        assert err.startswith("error: ") and "Traceback" not in err, err
        assert len(err.strip().splitlines()) <= 3, err
        assert path.name in err, err
        _count("refused")
        return None
    assert code == 0, (code, out, err)
    _count("read")
    return load_dataset(DataConfig(dataset="file", path=str(path), strict=strict))


def _fuzz_csv(data: bytes, strict: bool, capsys) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        ds = _outcome(path, strict, capsys)
    if ds is None:
        return
    parsed = _csv_rows(data, strict)
    assert parsed is not None, "the loader read a file the trusted parse cannot decode"
    header, body = parsed
    wanted = [c for c in COLUMNS if c in header]
    sources = [{c: row[header.index(c)] for c in wanted} for row in body]
    _check_against(ds, sources, strict)


@FUZZ
@given(mutated_csv())
def test_mutated_csv_strict_is_exact_or_refused(capsys, data):
    _fuzz_csv(data, True, capsys)


@settings(FUZZ, max_examples=100)
@given(mutated_csv())
def test_mutated_csv_lenient_drops_but_never_alters(capsys, data):
    _fuzz_csv(data, False, capsys)


def test_the_unmutated_file_is_read_exactly(capsys):
    _fuzz_csv(BASE_TEXT.encode(), True, capsys)


# --- Parquet ---------------------------------------------------------------------------------

ID_COLUMNS = st.one_of(
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=8).map(pa.array),
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=8).map(
        lambda v: pa.array(v, pa.uint64())
    ),
    st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=1, max_size=8).map(
        lambda v: pa.array(v, pa.int64())
    ),
    st.lists(
        st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-5, 5).map(float)),
        min_size=1,
        max_size=8,
    ).map(lambda v: pa.array(v, pa.float64())),
    st.lists(
        st.one_of(st.none(), st.text(max_size=5), st.sampled_from(EXTREMES)), min_size=1, max_size=8
    ).map(lambda v: pa.array(v, pa.string())),
)
RATINGS = st.lists(
    st.one_of(
        st.none(), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 4.0])
    ),
    min_size=1,
    max_size=8,
).map(lambda v: pa.array(v, pa.float64()))
TIMES = st.one_of(
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=8).map(pa.array),
    st.lists(
        st.sampled_from([878887116, 878887116000, 878887116000000, -1, 0]), min_size=1, max_size=8
    ).map(pa.array),
    st.lists(st.one_of(st.none(), st.floats()), min_size=1, max_size=8).map(
        lambda v: pa.array(v, pa.float64())
    ),
    st.tuples(
        st.lists(
            st.one_of(st.none(), st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31))),
            min_size=1,
            max_size=8,
        ),
        st.sampled_from(["s", "ms", "us"]),
    ).map(lambda v: pa.array(v[0], pa.timestamp(v[1]))),
    st.lists(st.one_of(st.none(), st.sampled_from(EXTREMES)), min_size=1, max_size=8).map(
        lambda v: pa.array(v, pa.string())
    ),
)


@st.composite
def parquet_file(draw) -> tuple[dict[str, pa.Array], list[int]]:
    columns = {"user": draw(ID_COLUMNS), "item": draw(ID_COLUMNS)}
    if draw(st.booleans()):
        columns["rating"] = draw(RATINGS)
    if draw(st.booleans()):
        columns["timestamp"] = draw(TIMES)
    n = min(len(c) for c in columns.values())
    columns = {k: v.slice(0, n) for k, v in columns.items()}
    flips = draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=2))
    return columns, flips


@FUZZ
@given(parquet_file(), st.booleans())
def test_generated_parquet_is_exact_or_refused(capsys, spec, strict):
    columns, flips = spec
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.parquet"
        pq.write_table(pa.table(columns), path)
        data = bytearray(path.read_bytes())
        for at, byte in flips:
            data[at % len(data)] = byte
        path.write_bytes(bytes(data))
        try:  # the trusted parse: pyarrow's own, value by value
            sources = pq.read_table(path).to_pylist()
        except (OSError, ValueError, pa.ArrowException):
            sources = None
        ds = _outcome(path, strict, capsys)
    if ds is None:
        return
    assert sources is not None, "the loader read a file pyarrow cannot"
    _check_against(ds, sources, strict)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_encoding_of_the_valid_file_is_read_exactly_or_refused(capsys, encoding):
    _fuzz_csv(BASE_TEXT.encode(encoding), True, capsys)
