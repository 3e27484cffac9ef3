"""A catalogue of bad runs, exports and command lines: damaged run files, malformed or crafted
exported points, bad options and configs, unwritable outputs. Each is refused with exit code 2
and at most three lines that start with ``error:`` and name the file and the field (or the
option) and the fix; none gives a traceback, nothing is written outside ``--out``, and files
that were there before (the evidence) are byte-identical afterwards."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from paretorec.cli import main
from tests.test_cli import run_cli

TINY_RUN = """
name = "catalogue"
[data]
dataset = "ml-100k"
[evaluation]
k = 10
record = ["recall@10"]
[search]
population = 4
generations = 2
seed = 5
[space]
model = ["popularity", "itemknn"]
"itemknn.k" = { low = 10, high = 50, levels = 2 }
"rerank.pool" = { low = 10, high = 20 }
"rerank.diversity" = { low = 0.0, high = 1.0 }
"""

# A config whose checks all pass before the data is read; cases change one thing in it.
GOOD = """
[search]
population = 4
generations = 1
[space]
model = ["popularity", "itemknn"]
"rerank.pool" = { low = 10, high = 20 }
"""


@pytest.fixture(scope="module")
def base_run(tmp_path_factory, data_dir) -> Path:
    """A finished tiny run with a chosen point, copied (never changed) by every case."""
    root = tmp_path_factory.mktemp("catalogue")
    config = root / "tiny.toml"
    config.write_text(TINY_RUN)
    run = root / "run"
    main(["tune", str(config), "--out", str(run), "--data-dir", str(data_dir), "--quiet"])
    main(["select", str(run)])
    return run


class Case:
    """What a case builds its command from: a folder of its own and a copy of the run."""

    def __init__(self, tmp: Path, base: Path) -> None:
        self.tmp = tmp
        self.base = base

    def run(self) -> Path:
        """A copy of the tiny run (made once per case)."""
        target = self.tmp / "run"
        if not target.exists():
            shutil.copytree(self.base, target)
        return target

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    def edit_run_json(self, name: str, change: Callable[[dict], object]) -> Path:
        """The run with one of its JSON files changed by ``change`` (returning the new
        content, or None after changing it in place)."""
        run = self.run()
        raw = json.loads((run / name).read_text())
        new = change(raw)
        (run / name).write_text(json.dumps(raw if new is None else new))
        return run

    def point(self, change: Callable[[dict], object]) -> Path:
        """A copy of the run's chosen.json, as ``p.json``, changed by ``change``."""
        raw = json.loads((self.base / "chosen.json").read_text())
        new = change(raw)
        return self.write("p.json", json.dumps(raw if new is None else new))

    def sql(self, statement: str) -> Path:
        run = self.run()
        with sqlite3.connect(run / "trials.sqlite") as db:
            db.execute(statement)
        db.close()
        return run

    def config(self, text: str, name: str = "c.toml") -> Path:
        return self.write(name, text)

    def recommend(self, point: Path) -> list:
        return ["recommend", point, "--out", self.tmp / "recs.csv"]

    def tune(self, config: Path, *more: object) -> list:
        return ["tune", config, "--out", self.tmp / "o", *more]


def unwritable(tmp: Path) -> Path:
    """A folder this process cannot write in: a read-only folder, or (for root, whom file
    modes do not stop) a kernel filesystem."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = tmp / "ro"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o555)
    return folder


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A change that sets the dotted field ``path`` of a JSON object to ``value``."""

    def change(raw: dict) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[part]
        node[last] = value

    return change


def _drop(path: str) -> Callable[[dict], None]:
    def change(raw: dict) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[part]
        del node[last]

    return change


def _truncate(c: Case, name: str) -> Path:
    run = c.run()
    data = (run / name).read_bytes()
    (run / name).write_bytes(data[: len(data) // 2])
    return run


def _replace(c: Case, name: str, content: bytes) -> Path:
    run = c.run()
    (run / name).write_bytes(content)
    return run


def _remove(c: Case, name: str) -> Path:
    run = c.run()
    (run / name).unlink()
    return run


def _foreign_store(c: Case) -> Path:
    run = c.run()
    (run / "trials.sqlite").unlink()
    with sqlite3.connect(run / "trials.sqlite") as db:
        db.execute("CREATE TABLE contacts (name TEXT)")
    db.close()
    return run


def _config_with(c: Case, extra: str, name: str = "c.toml") -> Path:
    return c.config(GOOD + extra, name)


def _segmented(change: Callable[[dict], object] | None = None) -> Callable[[dict], None]:
    """A change that makes the point per-segment (cold / medium / heavy, each served the
    point itself), then applies ``change`` to its ``segments`` table."""

    def make(raw: dict) -> None:
        point = {"model": raw["model"], "rerank": raw["rerank"], "run": {"trial": 0}}
        raw["segments"] = {
            "by": "activity",
            "cuts": [20, 60],
            "labels": None,
            "objectives": {"recall@10": "max"},
            "points": {name: json.loads(json.dumps(point)) for name in ("cold", "medium", "heavy")},
        }
        if change is not None:
            change(raw["segments"])

    return make


def _by_labels(column: str) -> Callable[[dict], None]:
    def change(segments: dict) -> None:
        segments.update(by=column, cuts=None, labels=["cold", "medium", "heavy"])

    return change


BY_OCCUPATION = ["--per-segment", "occupation", "--allow-demographic"]


def _secret_point(c: Case) -> Path:
    """A crafted point whose data file is a file the user never named as data."""
    secret = c.write("secret.txt", "TOPSECRET-LINE-1\nTOPSECRET,LINE,2\n")
    return c.point(
        _set(
            "dataset.config",
            {"dataset": "file", "path": str(secret), "columns": {"user": "a", "item": "b"}},
        )
    )


CASES = {
    # --- damaged run files -----------------------------------------------------------------
    "store truncated": (
        lambda c: ["select", _truncate(c, "trials.sqlite")],
        ["trials.sqlite", "not a readable trial store", "left as it is", "trials.csv"],
    ),
    "store zero bytes": (
        lambda c: ["select", _replace(c, "trials.sqlite", b"")],
        ["trials.sqlite", "holds 0 trials", "run.json records 8 evaluations", "trials.csv"],
    ),
    "store is garbage": (
        lambda c: ["select", _replace(c, "trials.sqlite", b"garbage" * 300)],
        ["trials.sqlite", "not a readable trial store"],
    ),
    "store row with broken params": (
        lambda c: ["select", c.sql("UPDATE trials SET params = '{bad' WHERE trial = 1")],
        ["trials.sqlite", "trial 1 is damaged", "JSONDecodeError", "trials before it"],
    ),
    "store row with a short vector": (
        lambda c: ["select", c.sql("UPDATE trials SET x = X'0102' WHERE trial = 2")],
        ["trials.sqlite", "trial 2 is damaged"],
    ),
    "store row with params not an object": (
        lambda c: ["select", c.sql("UPDATE trials SET results = '[1]' WHERE trial = 0")],
        ["trials.sqlite", "trial 0 is damaged", "JSON objects"],
    ),
    "store history row damaged": (
        lambda c: ["plot", c.sql("UPDATE history SET hypervolume = 'x' WHERE generation = 1")],
        ["trials.sqlite", "history row of generation 1", "history.csv"],
    ),
    "store parameter of the wrong type": (
        lambda c: [
            "select",
            c.sql("""UPDATE trials SET params = json_set(params, '$."rerank.pool"', 'abc')"""),
        ],
        ["trials.sqlite", "a trial holds a value of the wrong type", "left as it is"],
    ),
    "store result of the wrong type": (
        lambda c: [
            "select",
            c.sql("""UPDATE trials SET results = json_set(results, '$."val_cost"', 'x')"""),
        ],
        ["trials.sqlite", "a trial holds a value of the wrong type"],
    ),
    "store of another program": (
        lambda c: ["select", _foreign_store(c)],
        ["trials.sqlite", "holds 0 trials", "8 evaluations"],
    ),
    "store missing": (
        lambda c: ["select", _remove(c, "trials.sqlite")],
        ["trials.sqlite missing", "a damaged run", "trials.csv lists 8 trials"],
    ),
    "run.json broken": (
        lambda c: ["select", _replace(c, "run.json", b'{"status": ')],
        ["run.json", "not valid JSON", "left as it is"],
    ),
    "run.json is a list": (
        lambda c: ["select", _replace(c, "run.json", b"[1, 2]")],
        ["run.json", "expected a JSON object, got list"],
    ),
    "run.json not UTF-8": (
        lambda c: ["select", _replace(c, "run.json", b'{"a": "\xff\xfe"}')],
        ["run.json", "not valid JSON"],
    ),
    "run.json without dataset": (
        lambda c: ["select", c.edit_run_json("run.json", _drop("dataset"))],
        ["run.json", "field `dataset` is missing"],
    ),
    "run.json checksum a number": (
        lambda c: ["select", c.edit_run_json("run.json", _set("dataset.checksum", 5))],
        ["run.json", "field `dataset.checksum` must be a str"],
    ),
    "run.json objectives a string": (
        lambda c: ["select", c.edit_run_json("run.json", _set("objectives", "ndcg"))],
        ["run.json", "field `objectives` must be a list"],
    ),
    "run.json objective without direction": (
        lambda c: ["select", c.edit_run_json("run.json", lambda r: r["objectives"][0].clear())],
        ["run.json", "malformed objectives", "KeyError"],
    ),
    "run.json missing": (
        lambda c: ["select", _remove(c, "run.json")],
        ["run.json missing", "a damaged run"],
    ),
    "report: run.json without split": (
        lambda c: ["report", c.edit_run_json("run.json", _drop("split")), "--out", c.tmp / "rep"],
        ["run.json", "field `split.method` is missing"],
    ),
    "report: run.json sizes not numbers": (
        lambda c: [
            "report",
            c.edit_run_json("run.json", _set("split.sizes.train", "many")),
            "--out",
            c.tmp / "rep",
        ],
        ["run.json", "field `split.sizes.train` must be a int"],
    ),
    "config.json broken": (
        lambda c: ["select", _replace(c, "config.json", b"{")],
        ["config.json", "not valid JSON"],
    ),
    "config.json is a list": (
        lambda c: ["select", _replace(c, "config.json", b"[]")],
        ["config.json", "expected a JSON object"],
    ),
    "config.json unknown key": (
        lambda c: ["select", c.edit_run_json("config.json", _set("colour", "red"))],
        ["config.json", "unknown key `colour`"],
    ),
    "config.json unknown model": (
        lambda c: ["select", c.edit_run_json("config.json", _set("space.model", ["svd"]))],
        ["config.json", "unknown model `svd`"],
    ),
    "config.json missing": (
        lambda c: ["select", _remove(c, "config.json")],
        ["config.json missing"],
    ),
    "report: chosen.json broken": (
        lambda c: ["report", _replace(c, "chosen.json", b"{"), "--out", c.tmp / "rep"],
        ["chosen.json", "not valid JSON", "line 1"],
    ),
    "plot: chosen.json with a bad field": (
        lambda c: ["plot", c.edit_run_json("chosen.json", _set("run", [1]))],
        ["chosen.json", "field `run` must be a table"],
    ),
    "check: chosen.json with a bad k": (
        lambda c: [
            "check",
            c.edit_run_json("chosen.json", _set("k", 7.9)),
            "--data",
            c.config(GOOD, "new.toml"),
        ],
        ["chosen.json", "field `k` must be an integer"],
    ),
    "check: chosen trial not in the run": (
        lambda c: [
            "check",
            c.edit_run_json("chosen.json", _set("run.trial", 999)),
            "--data",
            c.config(GOOD, "new.toml"),
        ],
        ["chosen.json", "field `run.trial`", "999"],
    ),
    "check: no chosen point": (
        lambda c: ["check", _remove(c, "chosen.json"), "--data", c.config(GOOD, "new.toml")],
        ["no chosen point", "paretorec select"],
    ),
    "check: new config with a bad split": (
        lambda c: [
            "check",
            c.run(),
            "--data",
            c.config(GOOD + "[split]\nmethod = 'random'\n", "new.toml"),
        ],
        ["new.toml", "[split] method"],
    ),
    "check: the run's own data and split": (
        lambda c: ["check", c.run(), "--data", c.config(GOOD, "new.toml")],
        ["--data", "new.toml", "the same data as the run's", "same split", "new data"],
    ),
    "tune --resume on a damaged store": (
        lambda c: ["tune", c.config(TINY_RUN), "--out", _truncate(c, "trials.sqlite"), "--resume"],
        ["trials.sqlite", "not a readable trial store", "left as it is"],
    ),
    "tune --resume with a broken config.json": (
        lambda c: [
            "tune",
            c.config(TINY_RUN),
            "--out",
            _replace(c, "config.json", b"{"),
            "--resume",
        ],
        ["config.json", "not valid JSON"],
    ),
    "tune --resume with a broken run.json": (
        lambda c: ["tune", c.config(TINY_RUN), "--out", _replace(c, "run.json", b"["), "--resume"],
        ["run.json", "not valid JSON"],
    ),
    "tune over a run whose store is empty": (
        lambda c: ["tune", c.config(TINY_RUN), "--out", _replace(c, "trials.sqlite", b"")],
        ["trials.sqlite holds no trials", "8 trials listed", "nothing was started or overwritten"],
    ),
    "tune over a run whose store is missing": (
        lambda c: ["tune", c.config(TINY_RUN), "--out", _remove(c, "trials.sqlite")],
        ["trials.sqlite is missing", "nothing was started or overwritten"],
    ),
    "tune into another program's database": (
        lambda c: [
            "tune",
            c.config(TINY_RUN),
            "--out",
            _foreign_store(c),
        ],
        ["trials.sqlite is not a paretorec trial store", "another --out"],
    ),
    "tune into a folder of someone's files": (
        lambda c: ["tune", c.config(GOOD), "--out", c.write("mine/config.json", "{}").parent],
        ["trials.sqlite is missing", "holds run files", "nothing was started or overwritten"],
    ),
    "tune with a planted .lock link": (
        lambda c: [
            "tune",
            c.config(GOOD),
            "--out",
            _planted_lock(c),
        ],
        [".lock", "symbolic link", "not followed"],
    ),
    "tune --warm-start from a damaged run": (
        lambda c: [*c.tune(c.config(TINY_RUN)), "--warm-start", _replace(c, "run.json", b"{")],
        ["run.json", "not valid JSON"],
    ),
    # --- exported points (chosen.json) ------------------------------------------------------
    "point k not an integer (7.9)": (
        lambda c: c.recommend(c.point(_set("k", 7.9))),
        ["p.json", "field `k` must be an integer", "7.9"],
    ),
    "point k a string": (
        lambda c: c.recommend(c.point(_set("k", "10"))),
        ["p.json", "field `k` must be an integer"],
    ),
    "point k a boolean": (
        lambda c: c.recommend(c.point(_set("k", True))),
        ["p.json", "field `k` must be an integer"],
    ),
    "point k zero": (
        lambda c: c.recommend(c.point(_set("k", 0))),
        ["p.json", "field `k`", "1 <= k"],
    ),
    "point k huge": (
        lambda c: c.recommend(c.point(_set("k", 10**30))),
        ["p.json", "field `k`", "<= 10000"],
    ),
    "point seed a string": (
        lambda c: c.recommend(c.point(_set("seed", "x"))),
        ["p.json", "field `seed` must be an integer"],
    ),
    "point seed negative": (
        lambda c: c.recommend(c.point(_set("seed", -1))),
        ["p.json", "field `seed`", "0 <= seed"],
    ),
    "point model a string": (
        lambda c: c.recommend(c.point(_set("model", "ease"))),
        ["p.json", "field `model` must be a table"],
    ),
    "point model params a list": (
        lambda c: c.recommend(c.point(_set("model.params", [1]))),
        ["p.json", "field `model.params` must be a table"],
    ),
    "point member params a list": (
        lambda c: c.recommend(c.point(_set("model.members", {"ease": [1]}))),
        ["p.json", "field `model.members.ease` must be a table"],
    ),
    "point unknown model": (
        lambda c: c.recommend(c.point(_set("model.name", "svd"))),
        ["p.json", "unknown model `svd`"],
    ),
    "point unknown model parameter": (
        lambda c: c.recommend(c.point(_set("model.params.depth", 3))),
        ["p.json", "has no parameter `depth`"],
    ),
    "point model parameter out of range": (
        lambda c: c.recommend(
            c.point(lambda r: r.update(model={"name": "itemknn", "params": {"k": -5}}))
        ),
        ["p.json", "itemknn.k", "got k=-5"],
    ),
    "point rerank a list": (
        lambda c: c.recommend(c.point(_set("rerank", [10]))),
        ["p.json", "field `rerank` must be a table"],
    ),
    "point pool a string": (
        lambda c: c.recommend(c.point(_set("rerank.pool", "10"))),
        ["p.json", "rerank.pool", "an integer"],
    ),
    "point pool huge": (
        lambda c: c.recommend(c.point(_set("rerank.pool", 10**12))),
        ["p.json", "rerank.pool", "<= 10000"],
    ),
    "point unknown re-rank term": (
        lambda c: c.recommend(c.point(_set("rerank.sparkle", 0.5))),
        ["p.json", "sparkle"],
    ),
    "point similarity unknown": (
        lambda c: c.recommend(c.point(_set("similarity", "vibes"))),
        ["p.json", "field `similarity`", "genres"],
    ),
    "point checksum a number": (
        lambda c: c.recommend(c.point(_set("dataset.checksum", 5))),
        ["p.json", "field `dataset.checksum` must be a string"],
    ),
    "point checksum malformed": (
        lambda c: c.recommend(c.point(_set("dataset.checksum", "md5:abc"))),
        ["p.json", "field `dataset.checksum`", "sha256"],
    ),
    "point data config unknown key": (
        lambda c: c.recommend(c.point(_set("dataset.config.colour", "red"))),
        ["p.json", "dataset.config", "unknown key `colour`"],
    ),
    "point split method unknown": (
        lambda c: c.recommend(c.point(_set("split.method", "random"))),
        ["p.json", "[split] method"],
    ),
    "point values a string": (
        lambda c: c.recommend(c.point(_set("values", "good"))),
        ["p.json", "field `values` must be a table"],
    ),
    "point value not a number": (
        lambda c: c.recommend(c.point(_set("values.test.ndcg@10", "high"))),
        ["p.json", "field `values.test.ndcg@10` must be a number"],
    ),
    "point selection a list": (
        lambda c: c.recommend(c.point(_set("selection", ["knee"]))),
        ["p.json", "field `selection` must be a table"],
    ),
    "point reason not text": (
        lambda c: c.recommend(c.point(_set("selection.reason", 3))),
        ["p.json", "field `selection.reason` must be a string"],
    ),
    "point run a list": (
        lambda c: c.recommend(c.point(_set("run", [1]))),
        ["p.json", "field `run` must be a table"],
    ),
    "point unknown top-level field": (
        lambda c: c.recommend(c.point(_set("K", 5))),
        ["p.json", "unknown field `K`"],
    ),
    "point wrong schema": (
        lambda c: c.recommend(c.point(_set("schema", "other/thing"))),
        ["p.json", "not a paretorec operating point", "other/thing"],
    ),
    "point newer schema version": (
        lambda c: c.recommend(c.point(_set("schema_version", 2))),
        ["p.json", "schema_version 2 is not supported"],
    ),
    "point is a list": (
        lambda c: c.recommend(c.write("p.json", "[1, 2]")),
        ["p.json", "not a paretorec operating point (list)"],
    ),
    "point not UTF-8": (
        lambda c: c.recommend(c.write("p.json", b'{"schema": "\xff"}')),
        ["p.json", "not UTF-8"],
    ),
    "point truncated": (
        lambda c: c.recommend(c.write("p.json", (c.base / "chosen.json").read_text()[:300])),
        ["p.json", "not valid JSON", "line"],
    ),
    "point empty": (
        lambda c: c.recommend(c.write("p.json", "")),
        ["p.json", "not valid JSON"],
    ),
    "point nested too deeply": (
        lambda c: c.recommend(c.write("p.json", "[" * 100_000)),
        ["p.json", "not valid JSON"],
    ),
    "segments not a table": (
        lambda c: c.recommend(c.point(_set("segments", [1]))),
        ["p.json", "field `segments` must be a table"],
    ),
    "segments cut points decreasing": (
        lambda c: c.recommend(c.point(_segmented(_set("cuts", [60, 20])))),
        ["p.json", "field `segments`", "cut points must increase"],
    ),
    "segments cut point not a number": (
        lambda c: c.recommend(c.point(_segmented(_set("cuts", ["20"])))),
        ["p.json", "field `segments.cuts[0]` must be a finite number"],
    ),
    "segments point missing": (
        lambda c: c.recommend(c.point(_segmented(_drop("points.heavy")))),
        ["p.json", "field `segments.points.heavy` is missing"],
    ),
    "segments point for no segment": (
        lambda c: c.recommend(c.point(_segmented(_set("points.vip", {})))),
        ["p.json", "segments.points.vip", "not a segment"],
    ),
    "segments point with an unknown model": (
        lambda c: c.recommend(c.point(_segmented(_set("points.cold.model.name", "nosuch")))),
        ["p.json", "segments.points.cold", "nosuch"],
    ),
    "segments point with a bad trial": (
        lambda c: c.recommend(c.point(_segmented(_set("points.cold.run.trial", 1.5)))),
        ["p.json", "field `segments.points.cold.run.trial` must be an integer"],
    ),
    "segments objective direction": (
        lambda c: c.recommend(c.point(_segmented(_set("objectives.recall@10", "up")))),
        ["p.json", "segments.objectives.recall@10", "`max` or `min`"],
    ),
    "segments by a column the data lacks": (
        lambda c: c.recommend(c.point(_segmented(_by_labels("shoe_size")))),
        ["p.json", "shoe_size", "no such user column"],
    ),
    "select --per-segment by age without the flag": (
        lambda c: ["select", c.run(), "--per-segment", "age"],
        ["--per-segment age", "protected", "--allow-demographic"],
    ),
    "select --cuts without --per-segment": (
        lambda c: ["select", c.run(), "--cuts", "20,100"],
        ["--cuts applies with --per-segment"],
    ),
    "select --cuts not numbers": (
        lambda c: ["select", c.run(), "--per-segment", "activity", "--cuts", "20,lots"],
        ["--cuts", "numbers separated by commas"],
    ),
    "select --per-segment by a column the data lacks": (
        lambda c: ["select", c.run(), "--per-segment", "shoe_size", "--allow-demographic"],
        ["--per-segment shoe_size", "no such user column", "occupation"],
    ),
    "select --per-segment occupation with --cuts": (
        lambda c: ["select", c.run(), *BY_OCCUPATION, "--cuts", "3"],
        ["--per-segment occupation", "--cuts applies to numbers"],
    ),
    "evaluate --out with a single point": (
        lambda c: ["evaluate", c.base / "chosen.json", "--out", c.tmp / "ev"],
        ["--out applies to a per-segment export"],
    ),
    "point names a file the user did not name as data": (
        lambda c: c.recommend(_secret_point(c)),
        ["p.json", "dataset.config", "content is not shown", "paretorec data describe"],
    ),
    "recommend --k above the pool": (
        lambda c: [*c.recommend(c.base / "chosen.json"), "--k", 500],
        ["--k", "rerank.pool"],
    ),
    "recommend --out in a missing folder": (
        lambda c: ["recommend", c.base / "chosen.json", "--out", c.tmp / "no" / "recs.csv"],
        ["--out", "does not exist", "create it first"],
    ),
    "recommend --out a folder": (
        lambda c: ["recommend", c.base / "chosen.json", "--out", c.tmp],
        ["--out", "is a directory"],
    ),
    "recommend --out not writable": (
        lambda c: ["recommend", c.base / "chosen.json", "--out", unwritable(c.tmp) / "r.csv"],
        ["--out", "cannot write in"],
    ),
    "evaluate --compare a broken point": (
        lambda c: ["evaluate", c.base / "chosen.json", "--compare", c.write("o.json", "{")],
        ["o.json", "not valid JSON"],
    ),
    # --- command-line options ---------------------------------------------------------------
    "--weights nan": (
        lambda c: ["select", c.run(), "--method", "utopia", "--weights", "nan,1,1"],
        ["--weights", "finite"],
    ),
    "--weights inf": (
        lambda c: ["select", c.run(), "--method", "weights", "--weights", "inf,1,1"],
        ["--weights", "finite"],
    ),
    "--weights negative": (
        lambda c: ["select", c.run(), "--method", "utopia", "--weights", "-1,1,1"],
        ["--weights", "non-negative"],
    ),
    "--weights all zero": (
        lambda c: ["select", c.run(), "--method", "utopia", "--weights", "0,0,0"],
        ["--weights", "not all 0"],
    ),
    "--weights not numbers": (
        lambda c: ["select", c.run(), "--method", "utopia", "--weights", "a,b"],
        ["--weights", "numbers separated by commas"],
    ),
    "--weights with knee": (
        lambda c: ["select", c.run(), "--weights", "1,1,1"],
        ["--weights", "utopia or weights", "not knee", "ignored"],
    ),
    "--weights with bounds": (
        lambda c: ["select", c.run(), "--min", "ndcg@10=0.5*best", "--weights", "1,1,1"],
        ["--weights", "not constraint"],
    ),
    "--weights one too few": (
        lambda c: ["select", c.run(), "--method", "utopia", "--weights", "1,1"],
        ["weights", "3 non-negative numbers"],
    ),
    "--min with a broken number": (
        lambda c: ["select", c.run(), "--min", "ndcg@10=1e"],
        ["ndcg@10=1e", "`1e` is not a number"],
    ),
    "--min nan": (
        lambda c: ["select", c.run(), "--min", "ndcg@10=nan"],
        ["ndcg@10=nan", "NAME=VALUE"],
    ),
    "--max infinite": (
        lambda c: ["select", c.run(), "--max", "cost=1e999"],
        ["cost=1e999", "finite limit"],
    ),
    "--min unknown objective": (
        lambda c: ["select", c.run(), "--min", "bliss@10=0.1"],
        ["bliss@10", "not an objective", "ndcg@10"],
    ),
    "--min no point meets": (
        lambda c: ["select", c.run(), "--min", "ndcg@10=0.99"],
        ["no front point satisfies ndcg@10 >= 0.99", "loosen a bound"],
    ),
    "--then unknown objective": (
        lambda c: ["select", c.run(), "--min", "ndcg@10=0.1", "--then", "max bliss"],
        ["bliss", "not an objective"],
    ),
    "--then without bounds": (
        lambda c: ["select", c.run(), "--then", "min cost"],
        ["--then", "--min / --max"],
    ),
    "select --out in a missing folder": (
        lambda c: ["select", c.run(), "--out", c.tmp / "no" / "c.json"],
        ["--out", "does not exist"],
    ),
    "select into an unwritable folder": (
        lambda c: ["select", c.run(), "--out", unwritable(c.tmp) / "c.json"],
        ["--out", "cannot write in"],
    ),
    "--scheduler not an address": (
        lambda c: c.tune(c.config(GOOD), "--scheduler", "not a url"),
        ["--scheduler", "not a Dask scheduler address", "tcp://HOST:PORT"],
    ),
    "--scheduler without a port": (
        lambda c: c.tune(c.config(GOOD), "--scheduler", "tcp://10.0.0.5"),
        ["--scheduler", "not a Dask scheduler address"],
    ),
    "--scheduler unknown scheme": (
        lambda c: c.tune(c.config(GOOD), "--scheduler", "http://host:8786"),
        ["--scheduler", "not a Dask scheduler address"],
    ),
    "--workers beyond the cores": (
        lambda c: c.tune(c.config(GOOD), "--workers", 100_000),
        ["--workers 100000", "at most", "per core"],
    ),
    "--workers with --scheduler": (
        lambda c: c.tune(c.config(GOOD), "--workers", 2, "--scheduler", "tcp://h:1"),
        ["not both"],
    ),
    "tune without --out": (
        lambda c: ["tune", c.config(GOOD)],
        ["--out is required", "--check"],
    ),
    "--data-dir not a folder": (
        lambda c: c.tune(c.config(GOOD), "--data-dir", c.tmp / "nowhere"),
        ["--data-dir", "no such folder"],
    ),
    # --- configs ----------------------------------------------------------------------------
    "config negative seed": (
        lambda c: c.tune(_config_with(c, "[split]\nseed = -1\n")),
        ["c.toml", "[split]", "0 <= seed"],
    ),
    "JSON config a list": (
        lambda c: c.tune(c.config("[1, 2]", "c.json")),
        ["c.json", "expected a table, got list"],
    ),
    "JSON config nested too deeply": (
        lambda c: c.tune(c.config("[" * 100_000, "c.json")),
        ["c.json"],
    ),
    "choice mixing text and numbers": (
        lambda c: c.tune(c.config('[space]\nmodel = "itemknn"\n"itemknn.k" = [10, "a"]\n')),
        ["c.toml", "space `itemknn.k`", "mixes number and text"],
    ),
    "choice listing a value twice": (
        lambda c: c.tune(c.config('[space]\nmodel = "itemknn"\n"itemknn.k" = [10, 10]\n')),
        ["c.toml", "space `itemknn.k`", "twice"],
    ),
    "pool high 1e8": (
        lambda c: c.tune(
            c.config(
                '[space]\nmodel = "popularity"\n"rerank.pool" = {low = 10, high = 100000000}\n'
            )
        ),
        ["c.toml", "rerank.pool", "<= 10000"],
    ),
    "range bound not finite": (
        lambda c: c.tune(
            c.config(
                json.dumps({"space": {"model": "ease", "ease.l2": {"low": 1.0, "high": 1e999}}}),
                "c.json",
            )
        ),
        ["c.json", "ease.l2", "finite"],
    ),
    "grid with a billion levels": (
        lambda c: c.tune(
            c.config(
                '[space]\nmodel = "ease"\n"ease.l2" = {low = 1.0, high = 9.0, levels = 10**9}\n'
            )
        ),
        ["c.toml"],
    ),
    "grid levels beyond the limit": (
        lambda c: c.tune(
            c.config(
                '[space]\nmodel = "ease"\n"ease.l2" = {low = 1.0, high = 9.0, levels = 5000}\n'
            )
        ),
        ["c.toml", "levels <= 1000"],
    ),
    "every parameter fixed": (
        lambda c: c.tune(c.config('[space]\nmodel = "popularity"\n"rerank.pool" = 20\n')),
        ["c.toml", "nothing to search"],
    ),
    "space error names the file": (
        lambda c: c.tune(c.config('[space]\nmodel = ["ease", "svd"]\n')),
        ["c.toml", "unknown model `svd`"],
    ),
    "metric error names the file": (
        lambda c: c.tune(
            c.config("[[objectives]]\nmetric = 'bliss@10'\n[[objectives]]\nmetric = 'cost'\n")
        ),
        ["c.toml", "unknown metric `bliss`"],
    ),
    "unknown algorithm names the file": (
        lambda c: c.tune(c.config("[search]\nalgorithm = 'annealing'\n")),
        ["c.toml", "annealing"],
    ),
    "bad constraint names the file": (
        lambda c: c.tune(
            c.config(GOOD.replace("[search]", "constraints = ['cost < 5']\n[search]"))
        ),
        ["c.toml", "constraint `cost < 5`"],
    ),
    "population of a billion": (
        lambda c: c.tune(c.config("[search]\npopulation = 1000000000\n")),
        ["c.toml", "population <= 10000"],
    ),
    "list length of a million": (
        lambda c: c.tune(c.config("[evaluation]\nk = 1000000\n")),
        ["c.toml", "[evaluation]", "k <= 10000"],
    ),
    "name with a line break": (
        lambda c: c.tune(c.config(GOOD.replace("[search]", 'name = "a\\nb"\n[search]'))),
        ["c.toml", "name", "printable"],
    ),
    "config not UTF-8": (
        lambda c: c.tune(c.write("c.toml", b"name = '\xff'\n")),
        ["c.toml", "cannot read config"],
    ),
    "config is a folder": (
        lambda c: c.tune(c.write("c.toml/x", "").parent),
        ["c.toml", "cannot read config"],
    ),
    "plug-in that does not import": (
        lambda c: c.tune(c.config(GOOD.replace("[search]", "plugins = ['no_such_mod']\n[search]"))),
        ["c.toml", "plugins", "no_such_mod"],
    ),
    "data file missing, before any load": (
        lambda c: c.tune(
            c.config(
                GOOD.replace(
                    "[search]", f"[data]\ndataset = 'file'\npath = '{c.tmp}/x.csv'\n[search]"
                )
            )
        ),
        ["[data] path", "x.csv", "no such file"],
    ),
    # --- output paths, before any data load ---------------------------------------------------
    "tune --out under a file": (
        lambda c: ["tune", c.config(GOOD), "--out", c.write("f.txt", "x") / "run"],
        ["--out", "f.txt is a file, not a folder"],
    ),
    "tune --out not writable": (
        lambda c: ["tune", c.config(GOOD), "--out", unwritable(c.tmp) / "run"],
        ["--out", "cannot write there"],
    ),
    "tune --check with a bad config": (
        lambda c: ["tune", c.config("[search]\npopulation = 0\n"), "--check"],
        ["c.toml", "population > 0"],
    ),
    "tune --check with --out under a file": (
        lambda c: ["tune", c.config(GOOD), "--check", "--out", c.write("f.txt", "x") / "run"],
        ["--out", "is a file"],
    ),
    "report --out a file": (
        lambda c: ["report", c.run(), "--out", c.write("f.txt", "x")],
        ["--out", "is a file"],
    ),
    "report --out not writable": (
        lambda c: ["report", c.run(), "--out", unwritable(c.tmp) / "rep"],
        ["--out", "cannot write there"],
    ),
    "plot --out a file": (
        lambda c: ["plot", c.run(), "--out", c.write("f.txt", "x")],
        ["--out", "is a file"],
    ),
    "data split --out under a file, before loading": (
        lambda c: ["data", "split", "--out", c.write("f.txt", "x") / "split"],
        ["--out", "f.txt is a file, not a folder"],
    ),
}


def _planted_lock(c: Case) -> Path:
    run = c.tmp / "locked"
    run.mkdir()
    victim = c.write("victim.txt", "do not truncate me\n")
    (run / ".lock").symlink_to(victim)
    return run


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by content; aside are the lock (rewritten by design) and
    SQLite's own -wal / -shm companions, which any reader of a write-ahead-log database makes
    and which hold no data of a closed store."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and not p.is_symlink()
        and p.name != ".lock"
        and not p.name.endswith(("-wal", "-shm"))
    }


def _out(args: list) -> Path | None:
    return Path(str(args[args.index("--out") + 1])) if "--out" in args else None


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_run_input_exits_2_with_a_short_message(tmp_path, capsys, base_run, name):
    make_args, expected = CASES[name]
    args = make_args(Case(tmp_path, base_run))
    before = _snapshot(tmp_path)
    code, out, err = run_cli(args, capsys)
    assert code == 2, (name, out, err)
    assert err.startswith("error: "), (name, err)
    assert 1 <= err.count("\n") <= 3, (name, err)
    assert "Traceback" not in err and "TOPSECRET" not in err, (name, err)
    for fragment in expected:
        assert fragment in err, (name, fragment, err)
    after = _snapshot(tmp_path)
    for path, content in before.items():  # the evidence is left as it was
        assert after.get(path) == content, (name, path)
    out_dir = _out(args)
    new = [
        p for p in set(after) - set(before) if out_dir is None or not _under(tmp_path / p, out_dir)
    ]
    assert not new, (name, new)


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def test_catalogue_is_large_enough():
    assert len(CASES) >= 60


def test_an_impossible_constraint_is_said_early_and_at_the_end(tmp_path, capsys, data_dir):
    config = tmp_path / "c.toml"
    config.write_text(GOOD.replace("[search]", "constraints = ['ndcg@10 >= 0.99']\n[search]"))
    config.write_text(config.read_text().replace("generations = 1", "generations = 2"))
    run = tmp_path / "run"
    code, _, err = run_cli(
        ["tune", config, "--out", run, "--data-dir", data_dir, "--quiet"], capsys
    )
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 2, err
    assert lines[0].startswith("warning: after generation 1, no evaluated point meets")
    assert lines[1].startswith("error: ") and "c.toml" in lines[1]
    for line in lines:  # which constraint, the best value reached, by how much it missed
        assert "`ndcg@10 >= 0.99`" in line and "short by" in line
    assert "8 trials are kept" in lines[1] and (run / "trials.csv").is_file()
    code, _, err = run_cli(["select", run], capsys)
    assert code == 2 and "the front is empty" in err and "short by" in err
    assert "did the run evaluate anything" not in err


def test_tune_check_runs_the_preflight_alone(tmp_path, capsys, data_dir):
    config = tmp_path / "c.toml"
    config.write_text(GOOD)
    out = tmp_path / "new" / "run"
    code, stdout, err = run_cli(["tune", config, "--check", "--out", out], capsys)
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0].startswith(f"{config}: valid; nsga2, up to 4 evaluations")
    assert any(line.startswith(f"output {out}: writable") for line in lines)
    assert any(line.startswith("data: ml-100k in ") for line in lines)
    assert any(line.startswith("memory: about") for line in lines)
    assert not (tmp_path / "new").exists()  # a check leaves nothing behind


def test_writes_never_follow_planted_links(tmp_path, capsys, base_run, data_dir):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    run = tmp_path / "run"
    run.mkdir()
    for name in ("config.json.tmp", ".config.json.tmp", "run.json.tmp", "trials.csv.tmp"):
        (run / name).symlink_to(victim)
    config = tmp_path / "c.toml"
    config.write_text(GOOD)
    code, _, err = run_cli(
        ["tune", config, "--out", run, "--data-dir", data_dir, "--quiet"], capsys
    )
    assert code == 0, err
    report = tmp_path / "rep"
    report.mkdir()
    for name in ("results.md", "front.csv", "run.json", "chosen.json"):
        (report / name).symlink_to(victim)
    code, _, err = run_cli(["report", base_run, "--out", report], capsys)
    assert code == 0, err
    assert victim.read_text() == "precious\n"
    assert (
        not (report / "results.md").is_symlink()
        and "# catalogue" in (report / "results.md").read_text()
    )


def test_user_strings_are_escaped_in_the_report(tmp_path, capsys, base_run):
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    raw = json.loads((run / "config.json").read_text())
    raw["name"] = "<script>alert(1)</script> # *x* [y](http://z) $\\frac{"
    (run / "config.json").write_text(json.dumps(raw))
    code, _, err = run_cli(["report", run, "--out", tmp_path / "rep"], capsys)
    assert code == 0, err
    heading = (tmp_path / "rep" / "results.md").read_text().splitlines()[0]
    assert "<script>" not in heading and "\\<script\\>" in heading
    assert "\\# \\*x\\* \\[y\\]" in heading and "\\$" in heading


def test_run_files_keep_no_absolute_machine_paths(tmp_path, capsys, base_run):
    meta = (base_run / "run.json").read_text()
    assert str(base_run) not in meta and str(shared_root()) not in meta
    point = json.loads((base_run / "chosen.json").read_text())
    assert point["run"]["dir"] == "."  # the run, relative to the exported file
    code, _, err = run_cli(["report", base_run, "--out", tmp_path / "rep"], capsys)
    assert code == 0, err
    assert str(shared_root()) not in (tmp_path / "rep" / "run.json").read_text()


def shared_root() -> Path:
    from tests.conftest import shared_data_dir

    return shared_data_dir().resolve()


def test_workers_are_told_where_the_data_is(monkeypatch, data_dir, tmp_path):
    from paretorec.config import ExperimentConfig
    from paretorec.study import Study

    monkeypatch.setenv("PARETOREC_DATA_DIR", str(data_dir))
    study = Study.prepare(ExperimentConfig(space={"model": ["popularity", "itemknn"]}), None)
    recipe = study.recipe()
    assert recipe.data_dir == os.path.abspath(data_dir)  # a Dask worker lacks our environment
    monkeypatch.delenv("PARETOREC_DATA_DIR")
    monkeypatch.chdir(tmp_path)  # nor our working directory
    assert recipe.build().dataset.checksum == study.dataset.checksum


def test_check_uses_the_new_configs_split_and_says_so(tmp_path, capsys, base_run, data_dir):
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    new = tmp_path / "new.toml"
    new.write_text(GOOD + "[split]\nseed = 7\n")
    code, out, err = run_cli(["check", run, "--data", new, "--data-dir", data_dir], capsys)
    assert code == 0, err
    assert "split: " in out and "seed 7" in out and "not the run's" in out
    report = json.loads((run / "check.json").read_text())
    assert report["split"]["seed"] == 7
