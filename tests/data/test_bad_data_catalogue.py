"""The data boundary (issue 14, "Nothing silently wrong"): every malformed file or [data] config
is either read exactly or refused with exit code 2 and a short `error:` line that names the file,
the line or field, and the fix; never a traceback. Then the inputs that used to be read wrongly
(uint64 ids, ids above 2**53 beside one `3.0`, Parquet datetimes) are shown to be read exactly.
"""

import codecs
import gzip
import io
import zipfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paretorec.config import DataConfig
from paretorec.data import load_dataset
from paretorec.data.interactions import Interactions
from paretorec.data.split import check_list_length
from paretorec.errors import ConfigError
from tests.test_cli import run_cli

HEADER = "user,item,rating,timestamp\n"
GOOD = HEADER + "1,10,4,878887116\n1,11,3,878887117\n2,10,5,878887118\n2,12,2,878887119\n"
BIG = 18446744073709551000  # uint64, above int64's range: wrapped to -616 before


def _file(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _config(tmp_path, data_table, extra=""):
    path = tmp_path / "exp.toml"
    path.write_text(f"[data]\n{data_table}\n{extra}", encoding="utf-8")
    return path


def _parquet(tmp_path, name, columns, names=None):
    """A Parquet file from ``{name: pyarrow array or list}`` (names may repeat)."""
    arrays = [c if isinstance(c, pa.Array) else pa.array(c) for c in columns.values()]
    path = tmp_path / name
    pq.write_table(pa.Table.from_arrays(arrays, names=names or list(columns)), path)
    return path


def describe(path, *more):
    return ["data", "describe", "--path", path, *more]


def described_config(tmp_path, table, extra=""):
    return ["data", "describe", "--config", _config(tmp_path, table, extra)]


def file_config(tmp_path, name, content, more=""):
    path = _file(tmp_path, name, content)
    return described_config(tmp_path, f'dataset = "file"\npath = "{path}"\n{more}')


def split(path, *more):
    return ["data", "split", "--path", path, *more, "--out", path.parent / "out"]


def _rows(*rows):
    return HEADER + "".join(r + "\n" for r in rows)


def _strict_row(tmp_path, name, row):
    return describe(_file(tmp_path, name, GOOD + row + "\n"), "--strict")


def _zipped(text):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("r.csv", text)
    return buffer.getvalue()


def _parquet_bytes(tmp_path):
    path = _parquet(tmp_path, "inner.parquet", {"user": [1, 2], "item": [3, 4]})
    return path.read_bytes()


def _many_users(n_users=6, per_user=3):
    """user,item,rating,timestamp rows: n_users users with per_user events each."""
    rows = [
        f"{u},{10 + (u + j) % 7},{1 + j % 5},{878887116 + 10 * u + j}"
        for u in range(1, n_users + 1)
        for j in range(per_user)
    ]
    return _rows(*rows)


PARQUET_BASE = {"user": [1, 1, 2], "item": [10, 11, 10], "rating": [4.0, 3.0, 5.0]}


def _parquet_with(tmp_path, name, **replace):
    return describe(_parquet(tmp_path, name, {**PARQUET_BASE, **replace}), "--strict")


CASES = {
    # --- the file's bytes and rows ------------------------------------------------------------
    "trailing comma on a row": (
        lambda t: describe(_file(t, "tc.csv", GOOD + "3,10,4,878887120,\n")),
        ["tc.csv", "line 6 has 5 fields", "header has 4", "trailing separator"],
    ),
    "trailing comma on a row, strict (the formatter crashed)": (
        lambda t: describe(_file(t, "tcs.csv", GOOD + "3,10,4,878887120,\n"), "--strict"),
        ["tcs.csv", "line 6 has 5 fields", "remove the extra ','"],
    ),
    "trailing comma after a blank line keeps the line number": (
        lambda t: describe(_file(t, "tcb.csv", GOOD + "\n3,10,4,878887120,\n")),
        ["tcb.csv", "line 7 has 5 fields"],
    ),
    "ragged Latin-1 file (the fallback re-read was unguarded)": (
        lambda t: describe(
            _file(t, "rl.csv", GOOD.encode() + "3,caf\xe9,4,1,2\n".encode("latin-1"))
        ),
        ["rl.csv", "line 6 has 5 fields", "header has 4"],
    ),
    "ragged Latin-1 file, strict": (
        lambda t: describe(
            _file(t, "rls.csv", GOOD.encode() + "3,caf\xe9,4,1,2\n".encode("latin-1")), "--strict"
        ),
        ["rls.csv", "line 6 has 5 fields"],
    ),
    "Latin-1 byte in the header, strict": (
        lambda t: describe(_file(t, "lh.csv", "us\xe9r,item\n1,2\n".encode("latin-1")), "--strict"),
        ["lh.csv", "line 1 is not valid utf-8", "encoding"],
    ),
    "unclosed quote": (
        lambda t: describe(_file(t, "q.csv", GOOD + '3,"10,4,878887120\n4,10,4,1\n')),
        ["q.csv", "line 6", "quote", "never closed"],
    ),
    "header shorter than the rows": (
        lambda t: describe(_file(t, "hs.csv", "user,item\n1,10,4\n")),
        ["hs.csv", "line 2 has 3 fields", "header has 2"],
    ),
    "duplicate header names": (
        lambda t: describe(_file(t, "dh.csv", "user,item,user\n1,2,3\n")),
        ["dh.csv", "line 1", "`user` appears 2 times", "columns 1, 3", "rename"],
    ),
    "duplicate header name that the mapping names": (
        lambda t: describe(_file(t, "dm.csv", "u,i,i\n1,2,3\n"), "--columns", "user=u,item=i"),
        ["dm.csv", "`i` appears 2 times", "columns 2, 3"],
    ),
    "semicolon-separated file": (
        lambda t: describe(_file(t, "semi.csv", GOOD.replace(",", ";"))),
        ["semi.csv", "not found", 'separator = ";"'],
    ),
    "tab-separated file read with commas": (
        lambda t: describe(_file(t, "tabs.csv", GOOD.replace(",", "\t"))),
        ["tabs.csv", "not found", 'separator = "\\t"'],
    ),
    "UTF-16 without a byte-order mark (was blamed on the mapping)": (
        lambda t: describe(_file(t, "u16.csv", GOOD.encode("utf-16-le"))),
        ["u16.csv", "NUL bytes", 'encoding = "utf-16-le"'],
    ),
    "UTF-16 big-endian without a byte-order mark": (
        lambda t: describe(_file(t, "u16be.csv", GOOD.encode("utf-16-be"))),
        ["u16be.csv", 'encoding = "utf-16-be"'],
    ),
    "UTF-32 without a byte-order mark": (
        lambda t: describe(_file(t, "u32.csv", GOOD.encode("utf-32-le"))),
        ["u32.csv", 'encoding = "utf-32-le"'],
    ),
    "Parquet file named .csv": (
        lambda t: describe(_file(t, "pq.csv", _parquet_bytes(t))),
        ["pq.csv", "a Parquet file", 'format = "parquet"'],
    ),
    "gzip file named .csv": (
        lambda t: describe(_file(t, "gz.csv", gzip.compress(GOOD.encode()))),
        ["gz.csv", "gzip-compressed", ".csv.gz"],
    ),
    "zip archive named .csv": (
        lambda t: describe(_file(t, "zp.csv", _zipped(GOOD))),
        ["zp.csv", "zip archive", "unpack"],
    ),
    "binary file": (
        lambda t: describe(_file(t, "bin.csv", b"\x07\x00\x13\x99binary\x00\x00")),
        ["bin.csv", "NUL byte", "binary"],
    ),
    "blank lines only": (
        lambda t: describe(_file(t, "blank.csv", "\n\n\n")),
        ["blank.csv", "empty"],
    ),
    "header only, behind a UTF-8 byte-order mark": (
        lambda t: describe(_file(t, "bom.csv", codecs.BOM_UTF8 + HEADER.encode())),
        ["bom.csv", "no interactions below the header"],
    ),
    "configured UTF-16 for a UTF-8 file": (
        lambda t: file_config(t, "e16.csv", GOOD, 'encoding = "utf-16"'),
        ["e16.csv", "encoding is utf-16", "no NUL bytes"],
    ),
    # --- the [data] config --------------------------------------------------------------------
    "empty separator": (
        lambda t: file_config(t, "s0.csv", GOOD, 'separator = ""'),
        ["exp.toml", "[data] separator", "one or more characters", "''"],
    ),
    "line break as separator": (
        lambda t: file_config(t, "s1.csv", GOOD, 'separator = "\\n"'),
        ["exp.toml", "[data] separator", "line breaks"],
    ),
    "quote as separator": (
        lambda t: file_config(t, "s2.csv", GOOD, 'separator = "\\""'),
        ["exp.toml", "[data] separator", "quotes"],
    ),
    "empty feature separator": (
        lambda t: file_config(t, "s3.csv", GOOD, 'feature_separator = ""'),
        ["exp.toml", "[data] feature_separator"],
    ),
    "unknown encoding": (
        lambda t: file_config(t, "enc.csv", GOOD, 'encoding = "utf9"'),
        ["exp.toml", "[data] encoding", "'utf9'", "utf-8"],
    ),
    "a codec that is no text encoding": (
        lambda t: file_config(t, "rot.csv", GOOD, 'encoding = "rot13"'),
        ["exp.toml", "[data] encoding", "'rot13'"],
    ),
    "ml-100k with a path (tuned on MovieLens)": (
        lambda t: described_config(t, 'dataset = "ml-100k"\npath = "ratings.csv"'),
        ["exp.toml", "[data] path", 'only dataset = "file"', "'ml-100k'"],
    ),
    "ml-100k with a column mapping": (
        lambda t: described_config(t, 'dataset = "ml-100k"\ncolumns = { user = "u", item = "i" }'),
        ["exp.toml", "[data] columns", 'dataset = "file"'],
    ),
    "ml-100k with an items file": (
        lambda t: described_config(t, 'dataset = "ml-100k"\nitems = "movies.csv"'),
        ["exp.toml", "[data] items"],
    ),
    "ml-latest-small with a separator": (
        lambda t: described_config(t, 'dataset = "ml-latest-small"\nseparator = ";"'),
        ["exp.toml", "[data] separator", "'ml-latest-small'"],
    ),
    "synthetic with a format": (
        lambda t: described_config(t, 'dataset = "synthetic"\nformat = "csv"'),
        ["exp.toml", "[data] format", "'synthetic'"],
    ),
    "--dataset ml-100k with --columns": (
        lambda t: ["data", "describe", "--dataset", "ml-100k", "--columns", "user=u,item=i"],
        ["[data] columns", 'only dataset = "file"'],
    ),
    "one column mapped to user and item": (
        lambda t: file_config(t, "ui.csv", GOOD, 'columns = { user = "id", item = "id" }'),
        ["exp.toml", "[data] columns", "`id` is mapped to both user and item"],
    ),
    "rating and timestamp from one column": (
        lambda t: file_config(
            t,
            "rt.csv",
            GOOD,
            'columns = { user = "user", item = "item", rating = "x", timestamp = "x" }',
        ),
        ["exp.toml", "`x` is mapped to both rating and timestamp"],
    ),
    "--columns mapping one column twice": (
        lambda t: describe(_file(t, "cc.csv", GOOD), "--columns", "user=user,item=user"),
        ["[data] columns", "`user` is mapped to both user and item"],
    ),
    "item_columns mapping one column twice": (
        lambda t: file_config(
            t,
            "ic.csv",
            GOOD,
            'items = "it.csv"\nitem_columns = { item = "id", genres = "g", tags = "g" }',
        ),
        ["exp.toml", "[data] item_columns", "`g` is mapped to both genres and tags"],
    ),
    "item_columns without an items file": (
        lambda t: file_config(t, "ni.csv", GOOD, 'item_columns = { item = "id" }'),
        ["exp.toml", "[data] item_columns", "only used with `items`"],
    ),
    "column mapped to an empty name": (
        lambda t: file_config(t, "en.csv", GOOD, 'columns = { user = "", item = "item" }'),
        ["exp.toml", "[data] columns", "`user` must name a column", "''"],
    ),
    "rating_scale up to inf": (
        lambda t: file_config(t, "rs.csv", GOOD, "rating_scale = [1.0, inf]"),
        ["exp.toml", "[data] rating_scale", "finite low < high"],
    ),
    "rating_scale with nan": (
        lambda t: file_config(t, "rn.csv", GOOD, "rating_scale = [nan, 5.0]"),
        ["exp.toml", "[data] rating_scale", "finite"],
    ),
    "implicit_threshold inf": (
        lambda t: file_config(t, "it1.csv", GOOD, "implicit_threshold = inf"),
        ["exp.toml", "[data] implicit_threshold", "finite"],
    ),
    "implicit_threshold nan": (
        lambda t: file_config(t, "it2.csv", GOOD, "implicit_threshold = nan"),
        ["exp.toml", "[data] implicit_threshold", "finite"],
    ),
    # --- values in a CSV ----------------------------------------------------------------------
    "inf rating, strict (was accepted as scale 1-inf)": (
        lambda t: _strict_row(t, "inf.csv", "3,10,inf,878887120"),
        ["inf.csv", "line 6", "column `rating`", "not a finite number", "as a number"],
    ),
    "-inf rating, strict": (
        lambda t: _strict_row(t, "ninf.csv", "3,10,-inf,878887120"),
        ["ninf.csv", "line 6", "not a finite number"],
    ),
    "rating that overflows float64, strict": (
        lambda t: _strict_row(t, "huge.csv", "3,10,1e400,878887120"),
        ["huge.csv", "line 6", "not a finite number"],
    ),
    "rating beyond float32, strict": (
        lambda t: _strict_row(t, "f32.csv", "3,10,1e39,878887120"),
        ["f32.csv", "line 6", "|x| <= 3.4e38"],
    ),
    "nan rating, strict": (
        lambda t: _strict_row(t, "nan.csv", "3,10,nan,878887120"),
        ["nan.csv", "line 6", "not a number ('nan')"],
    ),
    "very long rating text is cut in the message": (
        lambda t: _strict_row(t, "long.csv", "3,10," + "x" * 5000 + ",878887120"),
        ["long.csv", "line 6", "not a number ('xxxx", "...)"],
    ),
    "inf timestamp, strict": (
        lambda t: _strict_row(t, "tinf.csv", "3,10,4,inf"),
        ["tinf.csv", "line 6", "column `timestamp`", "not a time", "epoch seconds"],
    ),
    "timestamp beyond any unit, strict": (
        lambda t: _strict_row(t, "t30.csv", "3,10,4,1e30"),
        ["t30.csv", "line 6", "column `timestamp`", "years 1 to 9999"],
    ),
    "timestamp before year 1, strict": (
        lambda t: _strict_row(t, "tneg.csv", "3,10,4,-99999999999"),
        ["tneg.csv", "line 6", "years 1 to 9999"],
    ),
    "ISO date after year 9999, strict": (
        lambda t: _strict_row(t, "tiso.csv", "3,10,4,12000-01-01"),
        ["tiso.csv", "line 6", "not a time"],
    ),
    "short row: missing timestamp, strict": (
        lambda t: _strict_row(t, "short.csv", "3,10,4"),
        ["short.csv", "line 6", "column `timestamp`", "missing timestamp"],
    ),
    "seconds mixed with milliseconds, strict (half was in 1970)": (
        lambda t: _strict_row(t, "mix.csv", "3,10,4,878887120000"),
        ["mix.csv", "mixes time units", "line 2 reads as seconds", "line 6 as milliseconds"],
    ),
    "seconds mixed with milliseconds, lenient": (
        lambda t: describe(_file(t, "mixl.csv", GOOD + "3,10,4,878887120000\n")),
        ["mixl.csv", "mixes time units", "one unit"],
    ),
    "milliseconds mixed with microseconds": (
        lambda t: describe(
            _file(t, "mixu.csv", _rows("1,10,4,878887116000", "2,10,4,878887116000000"))
        ),
        ["mixu.csv", "line 2 reads as milliseconds", "line 3 as microseconds"],
    ),
    "all-identical ratings beside a split too long (was best=1.0, worst=nan)": (
        lambda t: split(
            _file(t, "same.csv", _many_users(6, 3).replace(",1,", ",4,").replace(",2,", ",4,")),
            "--method",
            "leave_last",
            "--test",
            "3",
            "--validation",
            "1",
        ),
        ["same.csv", "[split] method = leave_last, test = 3", "validation part is empty"],
    ),
    # --- Parquet ------------------------------------------------------------------------------
    "Parquet float ids above 2**53 (were rounded)": (
        lambda t: _parquet_with(t, "fb.parquet", user=[2.0**60, 2.0**60 + 256, 1.0]),
        ["fb.parquet", "row 0", "column `user`", "2**53", "as integers or as text"],
    ),
    "Parquet ids that are not whole numbers": (
        lambda t: _parquet_with(t, "fw.parquet", item=[10.0, 10.5, 11.0]),
        ["fw.parquet", "row 1", "column `item`", "not a whole number"],
    ),
    "Parquet true/false as user ids": (
        lambda t: _parquet_with(t, "bo.parquet", user=[True, False, True]),
        ["bo.parquet", "column `user`", "true/false, not ids", "[data] columns"],
    ),
    "Parquet times as item ids": (
        lambda t: _parquet_with(
            t, "ti.parquet", item=pa.array([datetime(2020, 1, 1)] * 3, pa.timestamp("s"))
        ),
        ["ti.parquet", "column `item`", "times, not ids"],
    ),
    "Parquet list column as item": (
        lambda t: _parquet_with(t, "li.parquet", item=[[1], [2], [3]]),
        ["li.parquet", "row 0", "column `item` (item)", "holds ndarray values", "plain values"],
    ),
    "Parquet struct column as user": (
        lambda t: _parquet_with(t, "st.parquet", user=[{"a": 1}, {"a": 2}, {"a": 3}]),
        ["st.parquet", "column `user` (user)", "holds dict values"],
    ),
    "Parquet binary ids": (
        lambda t: _parquet_with(t, "by.parquet", user=pa.array([b"a", b"b", b"a"], pa.binary())),
        ["by.parquet", "column `user` (user)", "holds bytes values"],
    ),
    "Parquet duplicate column names": (
        lambda t: describe(
            _parquet(t, "dup.parquet", {"a": [1], "b": [2], "c": [3]}, ["user", "item", "user"])
        ),
        ["dup.parquet", "`user` appears 2 times", "columns 1, 3"],
    ),
    "Parquet with no rows": (
        lambda t: describe(
            _parquet(
                t,
                "none.parquet",
                {"user": pa.array([], pa.int64()), "item": pa.array([], pa.int64())},
            )
        ),
        ["none.parquet", "no interactions in the file (0 rows)"],
    ),
    "truncated Parquet": (
        lambda t: describe(_file(t, "cut.parquet", _parquet_bytes(t)[:-20])),
        ["cut.parquet", "not a readable Parquet file", 'format = "csv"'],
    ),
    "Parquet inf rating, strict": (
        lambda t: _parquet_with(t, "pinf.parquet", rating=[4.0, float("inf"), 5.0]),
        ["pinf.parquet", "row 1", "column `rating`", "not a finite number"],
    ),
    "Parquet rating as text, strict": (
        lambda t: _parquet_with(t, "ptxt.parquet", rating=["4", "five", "5"]),
        ["ptxt.parquet", "row 1", "not a number ('five')"],
    ),
    "Parquet null user id, strict": (
        lambda t: _parquet_with(t, "pnull.parquet", user=pa.array([1, None, 2], pa.int64())),
        ["pnull.parquet", "row 1", "missing user id"],
    ),
    "Parquet missing time, strict": (
        lambda t: _parquet_with(
            t,
            "pnat.parquet",
            timestamp=pa.array(
                [datetime(2020, 1, 1), None, datetime(2020, 1, 2)], pa.timestamp("s")
            ),
        ),
        ["pnat.parquet", "row 1", "column `timestamp`", "missing timestamp"],
    ),
    "Parquet integer times in mixed units": (
        lambda t: _parquet_with(t, "pmix.parquet", timestamp=[878887116, 878887116000, 878887117]),
        ["pmix.parquet", "mixes time units", "row 0 reads as seconds", "row 1 as milliseconds"],
    ),
    # --- the items file -----------------------------------------------------------------------
    "items file in UTF-16 without a byte-order mark": (
        lambda t: describe(
            _file(t, "g1.csv", GOOD),
            "--items",
            _file(t, "it16.csv", "item,genres\n10,A\n".encode("utf-16-le")),
        ),
        ["it16.csv", "NUL bytes", "utf-16-le"],
    ),
    "items file with a duplicate header": (
        lambda t: describe(
            _file(t, "g2.csv", GOOD), "--items", _file(t, "itd.csv", "item,genres,item\n10,A,1\n")
        ),
        ["itd.csv", "`item` appears 2 times"],
    ),
    "items file with float ids above 2**53": (
        lambda t: describe(
            _file(t, "g3.csv", GOOD),
            "--items",
            _parquet(t, "itf.parquet", {"item": [2.0**60], "genres": ["A"]}),
        ),
        ["itf.parquet", "row 0", "column `item`", "2**53"],
    ),
    # --- what cannot be split or ranked -------------------------------------------------------
    "leave_last counts longer than the histories": (
        lambda t: split(
            _file(t, "ll.csv", _many_users(6, 3)),
            "--method",
            "leave_last",
            "--test",
            "5",
            "--validation",
            "5",
        ),
        ["ll.csv", "[split]", "validation part is empty", "every user has 3", "lower [split]"],
    ),
    "holdout counts longer than the histories": (
        lambda t: split(_file(t, "ho.csv", _many_users(6, 3)), "--test", "4", "--validation", "2"),
        ["ho.csv", "[split] method = holdout, test = 4", "validation part is empty"],
    ),
    "temporal cutoffs that leave validation empty": (
        lambda t: [
            "data",
            "split",
            "--config",
            _config(
                t,
                f'dataset = "file"\npath = "{_file(t, "tc2.csv", _many_users(6, 3))}"',
                '[split]\nmethod = "temporal"\ntest_cutoff = 878887150\n'
                "validation_cutoff = 878887150",
            ),
            "--out",
            t / "out",
        ],
        ["tc2.csv", "validation_cutoff = 878887150", "validation part is empty", "test_cutoff"],
    ),
    "test users without any event to fit on": (
        lambda t: split(
            _file(
                t, "new.csv", _rows(*[f"1,{i},4,{i}" for i in range(1, 9)], "3,1,4,9", "3,2,4,10")
            ),
            "--method",
            "temporal",
        ),
        ["new.csv", "no user with test events has an event to fit on"],
    ),
    "a single user": (
        lambda t: split(_file(t, "one.csv", _rows(*[f"7,{i},4,{i}" for i in range(1, 9)]))),
        ["one.csv", "the data has 1 user", "at least 2 users"],
    ),
    "a single item": (
        lambda t: split(_file(t, "oneitem.csv", _rows(*[f"{u},5,4,{u}" for u in range(1, 9)]))),
        ["oneitem.csv", "the data has 1 item", "at least 2 items"],
    ),
    "a k-core that leaves a single user": (
        lambda t: split(
            _file(
                t,
                "core.csv",
                _rows(*[f"1,{i},4,{i}" for i in range(1, 6)], "2,1,4,7", "2,2,4,8"),
            ),
            "--min-user",
            "3",
        ),
        ["core.csv", "the data has 1 user", "min_user_interactions"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_data_exits_2_with_a_short_line(tmp_path, capsys, name):
    make_args, expected = CASES[name]
    code, out, err = run_cli(make_args(tmp_path), capsys)
    assert code == 2, (name, out, err)
    assert err.startswith("error: "), err
    assert len(err.strip().splitlines()) <= 3, err
    assert "Traceback" not in err
    for fragment in expected:
        assert fragment in err, (name, fragment, err)


def test_the_catalogue_is_large_enough():
    assert len(CASES) >= 60


def test_k_at_or_above_the_catalogue_is_refused():
    inter = Interactions(np.array([0, 1]), np.array([0, 1]), None, None, 2, 2, "r.csv")
    check_list_length(inter, 1)
    with pytest.raises(ConfigError, match=r"r.csv: \[evaluation\] k = 5.*only 2 items.*below 2"):
        check_list_length(inter, 5)


# --- read exactly ---------------------------------------------------------------------------


def _load(path, **more):
    return load_dataset(DataConfig(dataset="file", path=str(path), **more))


def _split_ids(tmp_path, capsys, path, column="user"):
    out = tmp_path / "out"
    code, _, err = run_cli(["data", "split", "--path", path, "--out", out], capsys)
    assert code == 0, err
    parts = [pd.read_csv(out / f"{n}.csv", dtype=str) for n in ("train", "validation", "test")]
    return set(pd.concat(parts)[column])


def test_uint64_ids_come_back_exactly_in_the_dataset_and_the_split(tmp_path, capsys):
    users = [BIG, BIG - 1, 5, 6]
    rows = [f"{u},{i},{1 + i % 5},{878887116 + i}" for u in users for i in range(1, 7)]
    path = _file(tmp_path, "u64.csv", _rows(*rows))
    ds = _load(path, strict=True)
    assert sorted(int(u) for u in ds.user_ids) == sorted(users)
    assert set(ds.to_frame()["user"].map(int)) == set(users)
    assert _split_ids(tmp_path, capsys, path) == {str(u) for u in users}
    code, out, _ = run_cli(describe(path, "--strict"), capsys)
    assert code == 0 and "users          4;" in out


def test_uint64_ids_in_parquet_come_back_exactly(tmp_path, capsys):
    users = pa.array([BIG] * 6 + [3] * 6, pa.uint64())
    items = pa.array(list(range(6)) * 2, pa.int64())
    path = _parquet(tmp_path, "u64.parquet", {"user": users, "item": items})
    ds = _load(path, strict=True)
    assert ds.user_ids.tolist() == [3, BIG]
    assert _split_ids(tmp_path, capsys, path) == {"3", str(BIG)}


def test_ids_above_2_53_beside_one_whole_float_stay_distinct(tmp_path):
    # 41 users became 22 and 380 rows vanished as duplicates when one `3.0` sent ids through
    # float64; now `3.0` is the id 3 and every large id keeps all its digits
    base = 2**60
    users = [base + k for k in range(40)]
    rows = [f"{u},{i},4,{878887116 + i}" for u in users for i in range(1, 11)]
    rows.append("3.0,1,4,878887116")
    ds = _load(_file(tmp_path, "big.csv", _rows(*rows)), strict=True)
    assert ds.n_users == 41 and len(ds.interactions) == 401
    assert sorted(int(u) for u in ds.user_ids) == sorted([3, *users])
    assert ds.cleaning.dropped("duplicate user-item pair (kept latest)") == 0


def test_ids_beyond_uint64_and_negative_ones_are_python_ints(tmp_path):
    users = [-(2**70), 2**70, -1]
    rows = [f"{u},{i},4,{i}" for u in users for i in range(1, 4)]
    ds = _load(_file(tmp_path, "huge.csv", _rows(*rows)))
    assert ds.user_ids.tolist() == sorted(users)
    assert set(ds.to_frame()["user"]) == set(users)


def test_text_ids_keep_leading_zeros_when_any_id_is_text(tmp_path):
    ds = _load(_file(tmp_path, "zip.csv", _rows("02134,a,4,1", "10001,b,4,2", "x7,a,3,3")))
    assert sorted(ds.user_ids.tolist()) == ["02134", "10001", "x7"]


def test_parquet_int_ids_with_nulls_keep_their_digits(tmp_path):
    users = pa.array([2**62 + 1, None, 2**62 + 3, 2**62 + 1], pa.int64())
    path = _parquet(tmp_path, "nul.parquet", {"user": users, "item": [1, 2, 3, 4]})
    ds = _load(path)
    assert sorted(ds.user_ids.tolist()) == [2**62 + 1, 2**62 + 3]
    assert ds.cleaning.dropped("missing user id") == 1


@pytest.mark.parametrize(
    "arrow_type",
    [pa.timestamp("s"), pa.timestamp("ms"), pa.timestamp("us"), pa.timestamp("ns")],
)
def test_parquet_datetimes_are_read_as_seconds(tmp_path, capsys, arrow_type):
    # was 1000x too large: split wrote 878887116000 and describe died on year 29690
    when = [datetime(1997, 11, 7, 7, 18, 36), datetime(1998, 4, 22, 23, 10, 38)] * 3
    path = _parquet(
        tmp_path,
        "dt.parquet",
        {
            "user": [1, 1, 2, 2, 3, 3],
            "item": [1, 2, 1, 3, 2, 3],
            "timestamp": pa.array(when, arrow_type),
        },
    )
    ds = _load(path, strict=True)
    expected = {int(w.replace(tzinfo=UTC).timestamp()) for w in when}
    assert set(ds.interactions.timestamp.tolist()) == expected == {878887116, 893286638}
    code, out, err = run_cli(describe(path), capsys)
    assert code == 0, err
    assert "time span      1997-11-07 to 1998-04-22" in out


def test_time_zones_and_dates_in_parquet(tmp_path):
    berlin = ZoneInfo("Europe/Berlin")  # 08:18:36 there is 07:18:36 UTC
    aware = pa.array(
        [datetime(1997, 11, 7, 8, 18, 36, tzinfo=berlin)] * 2, pa.timestamp("s", tz="Europe/Berlin")
    )
    dates = pa.array([datetime(1997, 11, 7).date()] * 2, pa.date32())
    for name, column, expected in [
        ("tz.parquet", aware, 878887116),
        ("date.parquet", dates, 878860800),
    ]:
        path = _parquet(tmp_path, name, {"user": [1, 2], "item": [1, 1], "timestamp": column})
        assert _load(path, strict=True).interactions.timestamp.tolist() == [expected] * 2


def test_millisecond_csv_is_read_and_noted(tmp_path, capsys):
    path = _file(tmp_path, "ms.csv", _rows("1,1,4,878887116000", "2,1,4,878887117999"))
    ds = _load(path, strict=True)
    assert ds.interactions.timestamp.tolist() == [878887116, 878887117]
    code, out, _ = run_cli(describe(path), capsys)
    assert code == 0 and "milliseconds read as such" in out


def test_a_utf16_file_with_a_byte_order_mark_is_read_and_noted(tmp_path, capsys):
    text = _rows("1,caf\xe9,4,1", "2,th\xe9,5,2")
    path = _file(tmp_path, "bom16.csv", text.encode("utf-16"))
    ds = _load(path, strict=True)
    assert sorted(ds.item_ids.tolist()) == ["caf\xe9", "th\xe9"]
    code, out, _ = run_cli(describe(path), capsys)
    assert code == 0 and "utf-16 byte-order mark: read as utf-16" in out


def test_inf_ratings_are_dropped_and_counted_when_lenient(tmp_path, capsys):
    path = _file(tmp_path, "infl.csv", GOOD + "3,10,inf,878887120\n3,11,-inf,878887121\n")
    ds = _load(path)
    assert ds.rating_scale == (2.0, 5.0) and ds.cleaning.dropped("non-numeric rating") == 2
    code, out, _ = run_cli(describe(path), capsys)
    assert code == 0 and "(scale 2-5)" in out


def test_identical_ratings_are_read_as_implicit_and_said_so(tmp_path, capsys):
    path = _file(
        tmp_path, "same.csv", GOOD.replace(",3,", ",4,").replace(",5,", ",4,").replace(",2,", ",4,")
    )
    ds = _load(path)
    assert ds.interactions.rating is None and ds.rating_scale is None
    code, out, _ = run_cli(describe(path), capsys)
    assert code == 0 and "every `rating` is 4: read as implicit feedback" in out
    scaled = _load(path, rating_scale=(1.0, 5.0))  # with a scale the ratings mean something
    assert scaled.rating_scale == (1.0, 5.0) and set(scaled.interactions.rating) == {4.0}


def test_item_features_find_numeric_ids_when_the_ratings_ids_are_text(tmp_path):
    path = _file(tmp_path, "mixed.csv", _rows("1,10,4,1", "1,x,3,2", "2,10,5,3"))
    items = _file(tmp_path, "items.csv", "item,genres\n10,Drama\n")
    ds = load_dataset(DataConfig(dataset="file", path=str(path), items=str(items)))
    assert ds.item_ids.tolist() == ["10", "x"]
    assert ds.item_features.matrix.toarray().tolist() == [[1.0], [0.0]]


def test_a_bad_value_after_a_blank_line_names_its_own_line(tmp_path, capsys):
    path = _file(tmp_path, "gap.csv", GOOD + "\n\n3,10,five,878887120\n")
    code, _, err = run_cli(describe(path, "--strict"), capsys)
    assert code == 2 and "line 8, column `rating`" in err


def test_an_items_file_read_as_latin1_is_noted(tmp_path, capsys):
    items = _file(tmp_path, "it1.csv", "item,genres\n10,Caf\xe9\n".encode("latin-1"))
    code, out, err = run_cli(describe(_file(tmp_path, "r1.csv", GOOD), "--items", items), capsys)
    assert code == 0, err
    assert "it1.csv: line 2 not valid utf-8: read as latin-1" in out


def test_describe_survives_times_out_of_range_built_in_code():
    from paretorec.data.describe import describe as describe_lines
    from paretorec.data.interactions import Dataset

    inter = Interactions(np.array([0, 1]), np.array([0, 1]), None, np.array([0, 10**15]), 2, 2)
    ds = Dataset("x", inter, np.array([1, 2]), np.array([1, 2]), None, None, "sha256:" + "0" * 64)
    assert "time span      1970-01-01 to epoch second 1000000000000000" in "\n".join(
        describe_lines(ds)
    )
