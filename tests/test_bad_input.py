"""A catalogue of malformed inputs, written by the tests: each exits 2 with one line that names
the file, row or column and what to do; none gives a traceback. The lenient mode's report counts
match what was injected."""

import pandas as pd
import pytest

from paretorec.config import DataConfig
from paretorec.data import load_dataset
from tests.test_cli import run_cli

GOOD = "user,item,rating,timestamp\n1,10,4,100\n1,11,3,200\n2,10,5,300\n2,12,2,400\n"


def _file(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if mode == "wb":
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _config(tmp_path, data_table, extra=""):
    path = tmp_path / "exp.toml"
    path.write_text(f"[data]\n{data_table}\n{extra}")
    return path


def _strict_scaled(tmp_path, name, extra_row):
    path = _file(tmp_path, name, GOOD + extra_row)
    table = f'dataset = "file"\npath = "{path}"\nrating_scale = [1.0, 5.0]\nstrict = true'
    return ["data", "describe", "--config", _config(tmp_path, table)]


def describe(path, *more):
    return ["data", "describe", "--path", path, *more]


CASES = {
    "empty file": (lambda t: describe(_file(t, "e.csv", "")), ["e.csv", "empty"]),
    "header only": (
        lambda t: describe(_file(t, "h.csv", "user,item\n")),
        ["h.csv", "no interactions below the header"],
    ),
    "missing user column": (
        lambda t: describe(_file(t, "m.csv", "item,rating\n1,2\n")),
        ["m.csv", "column `user`", "[data] columns"],
    ),
    "misnamed item column": (
        lambda t: describe(_file(t, "n.csv", GOOD), "--columns", "user=user,item=movie"),
        ["n.csv", "`movie` (item) not found", "user, item, rating, timestamp"],
    ),
    "wrong separator": (
        lambda t: describe(_file(t, "tab.csv", GOOD.replace(",", "\t"))),
        ["tab.csv", "not found", "the file has"],
    ),
    "non-numeric rating": (
        lambda t: describe(_file(t, "r.csv", GOOD + "3,10,five,500\n"), "--strict"),
        ["r.csv", "line 6", "column `rating`", "not a number", "as a number"],
    ),
    "missing rating": (
        lambda t: describe(_file(t, "r2.csv", GOOD + "3,10,,500\n"), "--strict"),
        ["r2.csv", "line 6", "column `rating`", "missing rating"],
    ),
    "out-of-scale rating": (
        lambda t: _strict_scaled(t, "s.csv", "3,10,9,500\n"),
        ["s.csv", "line 6", "outside the rating scale [1, 5]", "rating_scale"],
    ),
    "negative rating": (
        lambda t: _strict_scaled(t, "neg.csv", "3,10,-1,500\n"),
        ["neg.csv", "line 6", "outside the rating scale"],
    ),
    "missing user id": (
        lambda t: describe(_file(t, "u.csv", GOOD + ",10,4,500\n"), "--strict"),
        ["u.csv", "line 6", "column `user`", "missing user id"],
    ),
    "missing item id": (
        lambda t: describe(_file(t, "i.csv", GOOD + "3, ,4,500\n"), "--strict"),
        ["i.csv", "line 6", "column `item`", "missing item id"],
    ),
    "unparsable timestamp": (
        lambda t: describe(_file(t, "t.csv", GOOD + "3,10,4,yesterday\n"), "--strict"),
        ["t.csv", "line 6", "column `timestamp`", "ISO 8601"],
    ),
    "duplicate pair": (
        lambda t: describe(_file(t, "d.csv", GOOD + "1,10,2,900\n"), "--strict"),
        ["d.csv", "same user and item"],
    ),
    "wrong encoding": (
        lambda t: describe(
            _file(t, "enc.csv", GOOD.encode() + "3,caf\xe9,4,500\n".encode("latin-1"), "wb"),
            "--strict",
        ),
        ["enc.csv", "not valid utf-8", "encoding"],
    ),
    "no such file": (lambda t: describe(t / "missing.csv"), ["missing.csv", "no such file"]),
    "corrupt parquet": (
        lambda t: describe(_file(t, "c.parquet", b"not parquet at all", "wb")),
        ["c.parquet", "not a readable Parquet file"],
    ),
    "parquet missing column": (
        lambda t: describe(_parquet(t, pd.DataFrame({"u": [1], "item": [2]}))),
        ["p.parquet", "column `user`"],
    ),
    "items file without its id column": (
        lambda t: describe(
            _file(t, "g.csv", GOOD), "--items", _file(t, "it.csv", "id,genres\n10,A\n")
        ),
        ["it.csv", "column `item` (item) not found", "item_columns"],
    ),
    "items file missing": (
        lambda t: describe(_file(t, "g2.csv", GOOD), "--items", t / "nope.csv"),
        ["nope.csv", "no such file"],
    ),
    "k-core removes everything": (
        lambda t: describe(_file(t, "k.csv", GOOD), "--min-user", "50"),
        ["k.csv", "no interactions left after cleaning", "k-core"],
    ),
    "rating scale low above high": (
        lambda t: [
            "data",
            "describe",
            "--config",
            _config(t, 'dataset = "file"\npath = "x.csv"\nrating_scale = [5.0, 1.0]'),
        ],
        ["exp.toml", "rating_scale", "low < high"],
    ),
    "unknown column key": (
        lambda t: [
            "data",
            "describe",
            "--config",
            _config(t, 'dataset = "file"\npath = "x.csv"\ncolumns = { usr = "u" }'),
        ],
        ["exp.toml", "unknown key `usr`"],
    ),
    "temporal split without timestamps": (
        lambda t: [
            "data",
            "split",
            "--path",
            _file(t, "nt.csv", "user,item\n1,2\n1,3\n"),
            "--method",
            "temporal",
            "--out",
            t / "out",
        ],
        ["temporal needs timestamps"],
    ),
    "unknown dataset": (
        lambda t: ["data", "describe", "--dataset", "netflix"],
        ["unknown dataset `netflix`", "ml-100k"],
    ),
    "malformed column mapping": (
        lambda t: describe(_file(t, "mc.csv", GOOD), "--columns", "user:u"),
        ["NAME=COLUMN"],
    ),
    "file dataset without a path": (
        lambda t: ["data", "describe", "--config", _config(t, 'dataset = "file"')],
        ["exp.toml", "`path` is required"],
    ),
}


def _parquet(tmp_path, frame):
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_input_exits_2_with_one_line(tmp_path, capsys, name):
    make_args, expected = CASES[name]
    code, out, err = run_cli(make_args(tmp_path), capsys)
    assert code == 2, (name, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in expected:
        assert fragment in err, (name, fragment, err)


def test_catalogue_is_large_enough():
    assert len(CASES) >= 20


def test_lenient_mode_counts_exactly_what_was_injected(tmp_path, capsys):
    rows = ["user,item,rating,timestamp"]
    rows += [f"{u},{i},4,{u * 100 + i}" for u in range(1, 21) for i in range(1, 6)]  # 100 good
    rows += ["30,1,five,1", "31,1,n/a,1", "32,1,x,1"]  # 3 non-numeric ratings
    rows += [",1,4,1", ",2,4,1"]  # 2 missing user ids
    rows += ["1,1,3,9999", "1,2,3,9999", "2,1,3,9999", "2,2,3,9999"]  # 4 duplicates (newer)
    rows += ["33,1,7,1"]  # 1 out of scale
    rows += ["34,1,4,someday", "35,1,4,?"]  # 2 bad timestamps
    rows += ["36,1,,1"]  # 1 missing rating
    path = _file(tmp_path, "lenient.csv", "\n".join(rows) + "\n")
    cfg = DataConfig(dataset="file", path=str(path), rating_scale=(1.0, 5.0))
    report = load_dataset(cfg).cleaning
    assert report.rows_in == 113
    assert report.dropped("non-numeric rating") == 3
    assert report.dropped("missing user id") == 2
    assert report.dropped("duplicate user-item pair (kept latest)") == 4
    assert report.dropped("rating outside the scale") == 1
    assert report.dropped("unparsable timestamp") == 2
    assert report.dropped("missing rating") == 1
    assert report.rows_out == 100
    config = _config(tmp_path, f'dataset = "file"\npath = "{path}"\nrating_scale = [1.0, 5.0]')
    code, out, _ = run_cli(["data", "describe", "--config", config], capsys)
    assert code == 0
    assert "non-numeric rating" in out and "        3 dropped" in out
    assert "kept 100 rows, 20 users, 5 items" in out
