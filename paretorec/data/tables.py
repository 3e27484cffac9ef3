"""Reading the bytes of a CSV or Parquet file into a raw table, or refusing them.

What is wrong with the file itself is decided here, before any column is interpreted, so that
it is never blamed on the column mapping or a value: a binary or compressed file named .csv, an
encoding other than the configured one (byte-order marks and NUL bytes tell), a row with more
fields than the header, an unclosed quote, a header naming a column twice. A CSV is read as text
only (every cell a string or missing), so nothing is coerced before cleaning looks at it.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from paretorec.errors import DataError

SNIFF_BYTES = 1 << 16
# UTF-32's little-endian mark starts with UTF-16's: it must be looked for first.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
MAGIC = (
    (b"PAR1", "a Parquet file", 'set [data] format = "parquet" or name it .parquet'),
    (b"\x1f\x8b", "gzip-compressed", "name it .csv.gz (it is then unpacked) or unpack it"),
    (b"PK\x03\x04", "a zip archive", "name it .csv.zip (it is then unpacked) or unpack it"),
    (b"BZh", "bzip2-compressed", "name it .csv.bz2 (it is then unpacked) or unpack it"),
    (b"\xfd7zXZ", "xz-compressed", "name it .csv.xz (it is then unpacked) or unpack it"),
)
NUL = b"\0"
COMPRESSED_SUFFIXES = {".gz", ".bz2", ".zip", ".xz", ".zst", ".tar"}
LIKELY_SEPARATORS = ("\t", ";", "|", ",")


def table_format(path: Path, fmt: str | None) -> str:
    """``csv`` or ``parquet``: as configured, else from the file suffix."""
    return fmt or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")


def read_table(
    path: Path,
    fmt: str | None = None,
    separator: str = ",",
    encoding: str = "utf-8",
    strict: bool = False,
) -> tuple[pd.DataFrame, str]:
    """Read a CSV (every column as text, so nothing is silently coerced) or a Parquet file.

    Returns:
        The frame and a note ("" or how the file was decoded). A CSV frame's index is the file
        line minus 2 (header on line 1; blank lines skipped but counted); a Parquet frame's is
        the row number from 0.

    Raises:
        DataError: missing, empty, binary or unreadable file; an encoding that does not fit
            (always for UTF-16 / UTF-32 clues, in strict mode for any undecodable byte); a row
            with more fields than the header; a duplicated column name.
    """
    if not path.is_file():
        raise DataError(
            f"{path}: no such file; check [data] path (relative paths start at the "
            "directory you run paretorec from)"
        )
    if table_format(path, fmt) == "parquet":
        return _read_parquet(path), ""
    return _read_csv(path, separator, encoding, strict)


def _first_line(exc: BaseException, limit: int = 160) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _refuse_duplicates(path: Path, names: list[str], where: str) -> None:
    counts = Counter(n for n in names if n != "")
    twice = [n for n in names if counts.get(n, 0) > 1]
    if twice:
        positions = [i + 1 for i, n in enumerate(names) if n == twice[0]]
        raise DataError(
            f"{path}: {where}column name `{twice[0]}` appears {len(positions)} times (columns "
            f"{', '.join(map(str, positions))}); rename all but one, so that [data] columns "
            "can say which is meant"
        )


# --- Parquet ------------------------------------------------------------------------------


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
        names = list(file.schema_arrow.names)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataError(
            f"{path}: not a readable Parquet file ({_first_line(exc)}); "
            'set [data] format = "csv" if it is text'
        ) from None
    _refuse_duplicates(path, names, "")
    try:
        table = file.read()
        # integer columns with nulls stay Python ints (pandas would make them float64, which
        # rounds ids above 2**53); the pandas index metadata is ignored so that an id column
        # saved as the index is still a column
        frame = table.to_pandas(
            integer_object_nulls=True, date_as_object=False, ignore_metadata=True
        )
    except (OSError, ValueError, TypeError, pa.ArrowException) as exc:
        raise DataError(
            f"{path}: cannot read the Parquet data ({_first_line(exc)}); write it again with "
            "plain columns (integers, floats, text, timestamps)"
        ) from None
    return frame.reset_index(drop=True)


# --- CSV ----------------------------------------------------------------------------------


def _read_csv(path: Path, separator: str, encoding: str, strict: bool) -> tuple[pd.DataFrame, str]:
    note = ""
    if path.suffix.lower() not in COMPRESSED_SUFFIXES:
        head = _head(path)
        _refuse_binary(path, head)
        encoding, note = _encoding_of(path, head, encoding)
    try:
        rows = _parse(path, separator, encoding)
    except UnicodeDecodeError:
        line = _undecodable_line(path, encoding)
        if strict or not _ascii_based(encoding):
            raise DataError(
                f"{path}: line {line} is not valid {encoding}; set [data] encoding to the "
                'file\'s encoding (e.g. "latin-1")'
            ) from None
        rows = _parse(path, separator, "latin-1")
        note = f"line {line} not valid {encoding}: read as latin-1"
    return _with_header(path, rows), note


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({_first_line(exc)}); check its permissions") from (
            None
        )


def _refuse_binary(path: Path, head: bytes) -> None:
    for magic, what, fix in MAGIC:
        if head.startswith(magic):
            raise DataError(f"{path}: the file is {what}, not CSV text; {fix}")


def _encoding_of(path: Path, head: bytes, configured: str) -> tuple[str, str]:
    """The encoding to read with: a byte-order mark wins (it cannot be misread), NUL bytes
    without one mean UTF-16 / UTF-32 or binary, which no 8-bit encoding reads correctly."""
    try:
        family = codecs.lookup(configured).name
    except LookupError:
        raise DataError(
            f'{path}: unknown encoding {configured!r}; set [data] encoding to e.g. "utf-8"'
        ) from None
    for mark, name in BYTE_ORDER_MARKS:
        if head.startswith(mark):
            same = codecs.lookup(name).name == family or (name, family) == ("utf-8-sig", "utf-8")
            return name, "" if same else f"{name} byte-order mark: read as {name}"
    wide = family.startswith(("utf-16", "utf-32"))
    if b"\0" in head and not wide:
        raise DataError(_nul_message(path, head))
    if wide and head and b"\0" not in head:
        raise DataError(
            f"{path}: [data] encoding is {configured}, but the file has no NUL bytes, which "
            f"CSV text in {configured} always has; set [data] encoding to the file's encoding "
            '(e.g. "utf-8")'
        )
    return configured, ""


def _nul_message(path: Path, head: bytes) -> str:
    guess = _wide_layout(head)
    if guess is None:
        return (
            f"{path}: byte {head.index(NUL)} is a NUL byte, so the file is binary, not CSV "
            'text; export it as CSV (or set [data] format = "parquet" if it is Parquet)'
        )
    return (
        f"{path}: the file holds NUL bytes, as {guess} text without a byte-order mark does; "
        f'set [data] encoding = "{guess}" or save the file as UTF-8'
    )


def _wide_layout(head: bytes) -> str | None:
    """Which UTF-16 / UTF-32 byte order ASCII text in ``head`` has, if any."""
    sample = head[: len(head) - len(head) % 4]
    if len(sample) < 4:
        return None
    quads = [sample[i : i + 4] for i in range(0, len(sample), 4)]
    if all(q[1:] == b"\0\0\0" for q in quads[:8]):
        return "utf-32-le"
    if all(q[:3] == b"\0\0\0" for q in quads[:8]):
        return "utf-32-be"
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.8 * len(odd) and even.count(0) < 0.2 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.8 * len(even) and odd.count(0) < 0.2 * len(odd):
        return "utf-16-be"
    return None


def _ascii_based(encoding: str) -> bool:
    """Whether Latin-1 reads the same separators and digits (a fallback may be tried)."""
    return not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))


def _undecodable_line(path: Path, encoding: str) -> int:
    """The line of the first byte ``encoding`` cannot decode (1 if it cannot be found)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return line + block[: max(exc.start, 0)].count(b"\n")
            line += block.count(b"\n")
    return line


def _parse(path: Path, separator: str, encoding: str) -> pd.DataFrame:
    """Every row as text, the header row included (so its names are checked, not mangled)."""
    options: dict[str, object] = {
        "header": None,
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
        "skip_blank_lines": False,  # kept as empty rows, so row numbers stay line numbers
        "encoding": encoding,
    }
    if len(separator) == 1:
        options["sep"] = separator
    else:  # the python engine reads a separator longer than one character as a pattern
        options.update(sep=re.escape(separator), engine="python")
    try:
        return pd.read_csv(path, **options)  # type: ignore[call-overload]
    except UnicodeDecodeError:
        raise
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty; it needs a header row and interactions"
        ) from None
    except pd.errors.ParserError as exc:
        raise DataError(_parser_message(path, exc, separator)) from None
    except (ValueError, OSError, OverflowError) as exc:
        raise DataError(
            f"{path}: cannot read as CSV ({_first_line(exc)}); check [data] separator and encoding"
        ) from None


def _parser_message(path: Path, exc: Exception, separator: str) -> str:
    text = str(exc)
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if fields:
        expected, line, saw = fields.groups()
        return (
            f"{path}: line {line} has {saw} fields but the header has {expected}; remove the "
            f"extra {separator!r} (a trailing separator?) or quote values that contain it"
        )
    quote = re.search(r"EOF inside string starting at row (\d+)", text)
    if quote:
        return (
            f'{path}: line {int(quote.group(1)) + 1} opens a quote (") that is never closed; '
            "close it or remove it"
        )
    return f"{path}: cannot parse as CSV ({_first_line(exc)}); check [data] separator"


def _with_header(path: Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Row 0's cells as column names (stripped; checked for repeats); data rows indexed so that
    index + 2 is the file line; blank lines dropped."""
    header = ["" if pd.isna(v) else str(v).strip() for v in rows.iloc[0]]
    _refuse_duplicates(path, header, "line 1: ")
    frame = rows.iloc[1:]
    frame.columns = [name or f"(unnamed column {j + 1})" for j, name in enumerate(header)]
    frame.index = frame.index - 1
    return frame[~frame.isna().all(axis=1).to_numpy()]


def separator_hint(columns: list[str]) -> str:
    """A hint when a one-column header holds another separator (the file's real one)."""
    if len(columns) != 1:
        return ""
    found = [s for s in LIKELY_SEPARATORS if s in str(columns[0])]
    if not found:
        return ""
    quoted = json.dumps(found[0])  # a TOML basic string: "\t" is a tab there
    return f"; the header looks {quoted}-separated: set [data] separator = {quoted}"
