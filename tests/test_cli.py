"""The commands a user types, end to end on the real MovieLens-100k, and their bad inputs."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from paretorec.cli import main
from paretorec.data import locate as locate_mod
from paretorec.data import movielens
from paretorec.export import load_point
from tests.conftest import REPO

SMALL_RUN = """
name = "cli-e2e"
[data]
dataset = "ml-100k"
[evaluation]
k = 10
record = ["recall@10", "ild@10", "novelty@10", "coverage@10"]
[search]
population = 6
generations = 2
seed = 3
[space]
model = ["popularity", "itemknn", "ease"]
"itemknn.k" = { low = 10, high = 100, log = true, levels = 3 }
"ease.l2" = { low = 100.0, high = 1000.0, log = true, levels = 2 }
"rerank.pool" = { low = 10, high = 40 }
"rerank.diversity" = { low = 0.0, high = 1.0 }
"rerank.novelty" = { low = 0.0, high = 0.5 }
"""


def run_cli(args, capsys):
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, data_dir):
    root = tmp_path_factory.mktemp("cli")
    config = root / "small.toml"
    config.write_text(SMALL_RUN)
    run = root / "run"
    main(["tune", str(config), "--out", str(run), "--data-dir", str(data_dir), "--quiet"])
    return root, run


def test_tune_writes_the_run(tuned):
    _, run = tuned
    trials = pd.read_csv(run / "trials.csv")
    assert len(trials) == 12 and (trials["val_ndcg@10"] > 0).all()
    history = pd.read_csv(run / "history.csv")
    assert (history["front_size"] > 0).all() and history["hypervolume"].iloc[-1] > 0
    assert len(pd.read_csv(run / "front.csv")) == history["front_size"].iloc[-1]
    meta = json.loads((run / "run.json").read_text())
    assert meta["status"] == "finished" and meta["seed"] == 3
    assert meta["dataset"]["checksum"].startswith("sha256:")
    assert [o["name"] for o in meta["objectives"]] == ["ndcg@10", "satisfaction@10", "cost"]


@pytest.mark.parametrize(
    "args,expect",
    [
        (["--method", "knee"], "knee of the front"),
        (["--method", "utopia", "--weights", "2,1,1"], "closest to the utopia point"),
        (["--method", "weights", "--weights", "1,1,1"], "pseudo-weights"),
        (["--min", "ndcg@10=0.9*best", "--then", "min cost"], "front points satisfy ndcg@10 >="),
    ],
)
def test_select_prints_the_point_and_why(tuned, capsys, args, expect):
    root, run = tuned
    out_file = root / f"chosen-{args[1].replace('=', '')[:6]}.json"
    code, out, err = run_cli(["select", run, *args, "--out", out_file], capsys)
    assert code == 0, err
    assert "chosen: trial" in out and expect in out and "validation" in out
    point = load_point(out_file)
    assert point.data.dataset == "ml-100k" and point.k == 10
    assert set(point.values) == {"validation", "test"}


def test_plot_and_recommend_reproduce_the_run(tuned, capsys, data_dir):
    root, run = tuned
    assert run_cli(["select", run], capsys)[0] == 0
    code, out, _ = run_cli(["plot", run], capsys)
    assert code == 0 and (run / "plots" / "pareto.png").stat().st_size > 10_000
    for name in ("scatter_matrix", "parallel"):  # three objectives: the 4+-objective views too
        assert (run / "plots" / f"{name}.png").stat().st_size > 10_000
        svg = (run / "plots" / f"{name}.svg").read_text()
        assert "operations" in svg  # the cost axis carries its unit (wrapped over lines)
    recs = root / "recs.csv"
    code, out, err = run_cli(
        [
            "recommend",
            run / "chosen.json",
            "--out",
            recs,
            "--fit-on",
            "run",
            "--data-dir",
            data_dir,
        ],
        capsys,
    )
    assert code == 0, out + err
    assert "DIFFERENT" not in out and out.count(" same") >= 5
    frame = pd.read_csv(recs)
    assert list(frame.columns) == ["user", "item", "rank", "score"]
    assert frame.groupby("user").size().eq(10).all()
    # serving: all users, their own ids, nothing they rated
    code, out, err = run_cli(
        ["recommend", run / "chosen.json", "--k", 5, "--out", recs, "--data-dir", data_dir], capsys
    )
    assert code == 0, err
    frame = pd.read_csv(recs)
    assert frame["user"].nunique() == 943 and frame["rank"].max() == 5
    ratings = pd.read_csv(
        data_dir / "ml-100k" / "u.data", sep="\t", names=["user", "item", "r", "t"]
    )
    assert frame.merge(ratings, on=["user", "item"]).empty


def test_data_split_writes_what_the_run_uses(tmp_path, capsys, data_dir, ml100k_split, ml100k):
    code, out, _ = run_cli(
        [
            "data",
            "split",
            "--dataset",
            "ml-100k",
            "--seed",
            42,
            "--out",
            tmp_path,
            "--data-dir",
            data_dir,
        ],
        capsys,
    )
    assert code == 0
    test = pd.read_csv(tmp_path / "test.csv")
    assert len(test) == len(ml100k_split.test)
    expected = ml100k.to_frame(ml100k_split.test)
    pd.testing.assert_frame_equal(test, expected.reset_index(drop=True), check_dtype=False)
    code, out, _ = run_cli(["data", "describe", "--data-dir", data_dir], capsys)
    assert code == 0 and "100,000" in out and "943" in out


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["tune"],
        ["select"],
        ["plot"],
        ["recommend"],
        ["data"],
        ["data", "split"],
        ["data", "describe"],
    ],
)
def test_every_command_has_help(capsys, command):
    code, out, _ = run_cli([*command, "--help"], capsys)
    assert code == 0 and "Usage:" in out


def _bad_config(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


BAD = [
    (
        "[[objectives]]\nmetric='ndcg@10'\n[[objectives]]\nmetric='bliss@10'\n",
        "unknown metric",
    ),
    ("[space]\nmodel = ['ease', 'svd']\n", "unknown model `svd`"),
    ("[space]\nmodel='ease'\n'ease.l2' = { low = 500.0, high = 10.0 }\n", "low <= high"),
    ("[search\n", "not valid toml"),
]


@pytest.mark.parametrize("text,match", BAD)
def test_bad_config_exits_2_with_one_line(tmp_path, capsys, text, match):
    args = ["tune", _bad_config(tmp_path, text), "--out", tmp_path / "r"]
    code, _out, err = run_cli(args, capsys)
    assert code == 2 and match in err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_unreadable_config_and_missing_run(tmp_path, capsys):
    code, _, err = run_cli(["tune", tmp_path / "nope.toml", "--out", tmp_path / "r"], capsys)
    assert code == 2 and "nope.toml: cannot read config" in err
    code, _, err = run_cli(["select", tmp_path], capsys)
    assert code == 2 and "not a paretorec run" in err
    code, _, err = run_cli(["recommend", tmp_path / "x.json", "--out", tmp_path / "o.csv"], capsys)
    assert code == 2 and "cannot read" in err
    code, _, err = run_cli(["select", tmp_path, "--weights", "a,b"], capsys)
    assert code == 2 and err.count("\n") == 1


def test_missing_data_dir_names_the_ways(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(locate_mod, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(
        movielens,
        "ML_100K",
        locate_mod.RemoteDataset(
            "ml-100k", (tmp_path / "none.zip").as_uri(), movielens.ML_100K.files
        ),
    )
    code, _, err = run_cli(["data", "describe", "--data-dir", tmp_path / "empty"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "--data-dir" in err and "PARETOREC_DATA_DIR" in err and "download" in err


def test_python_dash_m_and_no_traceback(tmp_path):
    bad = _bad_config(tmp_path, "[search]\npopulation = -1\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "paretorec", "tune", str(bad), "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2 and "population > 0" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    proc = subprocess.run(
        [sys.executable, "-m", "paretorec", "--version"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0 and "0.1.0" in proc.stdout


def test_exported_point_round_trips(tuned):
    _, run = tuned
    point = load_point(run / "chosen.json")
    from paretorec.export import OperatingPoint

    again = OperatingPoint.from_dict(point.to_dict())
    assert again.candidate == point.candidate and again.split == point.split
    raw = point.to_dict()
    raw["schema_version"] = 99
    with pytest.raises(Exception, match="schema_version 99 is not supported"):
        OperatingPoint.from_dict(raw)
    assert np.isfinite(point.values["test"]["ndcg@10"])


def test_evaluate_prints_intervals_segments_and_a_comparison(tuned, capsys, data_dir):
    root, run = tuned
    assert run_cli(["select", run], capsys)[0] == 0
    other = root / "utopia.json"
    assert run_cli(["select", run, "--method", "utopia", "--out", other], capsys)[0] == 0
    args = [
        "evaluate",
        run / "chosen.json",
        "--metrics",
        "ndcg@10,coverage@10,cost",
        "--segments",
        "--bootstrap",
        200,
        "--compare",
        other,
        "--data-dir",
        data_dir,
    ]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    assert "95% interval" in out and "cold" in out and "heavy" in out
    assert "paired comparison" in out and "ttest_rel" in out
    for line in out.splitlines():
        if line.strip().startswith("ndcg@10") and "[" in line:
            low, high = map(float, line.split("[")[1].split("]")[0].split(","))
            assert low <= float(line.split()[1]) <= high
            break


def test_tune_options_are_checked(tuned, capsys, tmp_path, data_dir):
    root, run = tuned
    config = root / "small.toml"
    code, _, err = run_cli(
        [
            "tune",
            config,
            "--out",
            tmp_path / "a",
            "--workers",
            2,
            "--scheduler",
            "tcp://127.0.0.1:1",
        ],
        capsys,
    )
    assert code == 2 and "not both" in err
    code, _, err = run_cli(
        ["tune", config, "--out", tmp_path / "b", "--warm-start", tmp_path, "--data-dir", data_dir],
        capsys,
    )
    assert code == 2 and "not a paretorec run" in err
    code, _, err = run_cli(["check", run, "--data", tmp_path / "new.txt"], capsys)
    assert code == 2 and "expected an experiment config" in err


def test_corrupt_run_files_and_points_are_one_line_errors(tmp_path, capsys):
    for name in ("run.json", "config.json", "trials.csv", "front.csv", "history.csv"):
        (tmp_path / name).write_text("{not json")
    (tmp_path / "trials.sqlite").write_bytes(b"")
    code, _, err = run_cli(["select", tmp_path], capsys)
    assert code == 2 and "not valid JSON" in err and err.count("\n") == 1
    (tmp_path / "run.json").write_text("{}")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "trials.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x07" * 200)
    code, _, err = run_cli(["select", tmp_path], capsys)
    assert code == 2 and "trials.sqlite" in err and err.count("\n") == 1
    point = tmp_path / "point.json"
    point.write_text("[1, 2]")
    code, _, err = run_cli(["recommend", point, "--out", tmp_path / "r.csv"], capsys)
    assert code == 2 and "not a paretorec operating point" in err
