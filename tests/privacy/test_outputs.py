"""Data minimisation: a run's files, its report and its exported lists hold no raw user id
and no absolute path; `recommend --pseudonymize` writes keyed hashes."""

import hashlib
import hmac
import json

import pandas as pd
import pytest

from paretorec.cli import main
from paretorec.data.synthetic import generate

SECRET = "user-SECRET-"

CONFIG = """
name = "privacy-scan"
[data]
dataset = "file"
path = "{path}"
columns = {{ user = "uid", item = "iid", rating = "stars", timestamp = "ts" }}
[evaluation]
k = 10
[search]
population = 4
generations = 3
seed = 1
[[objectives]]
metric = "ndcg@10"
[[objectives]]
metric = "privacy_epsilon"
[space]
model = ["dp_popularity", "dp_itemknn", "itemknn"]
"dp_popularity.epsilon" = {{ low = 0.1, high = 10.0, log = true }}
"dp_itemknn.epsilon" = {{ low = 0.1, high = 10.0, log = true }}
"rerank.pool" = {{ low = 10, high = 30 }}
"""


def _cli(args):
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code or 0
    return 0


def _fixture(root, path_in_config):
    dataset = generate(n_users=150, n_items=220, n_interactions=6000, n_genres=8, seed=5)
    events = dataset.interactions
    pd.DataFrame(
        {
            "uid": [f"{SECRET}{u:04d}" for u in dataset.user_ids[events.user]],
            "iid": dataset.item_ids[events.item],
            "stars": events.rating,
            "ts": events.timestamp,
        }
    ).to_csv(root / "ratings.csv", index=False)
    (root / "tiny.toml").write_text(CONFIG.format(path=path_in_config))


def _leaks(files, needles):
    out = []
    for f in files:
        data = f.read_bytes()
        out += [f"{f.name}: {n}" for n in needles if n.encode() in data]
    return out


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy")
    _fixture(root, "ratings.csv")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        assert _cli(["tune", "tiny.toml", "--out", "run", "--quiet"]) == 0
        assert _cli(["select", "run"]) == 0
        assert _cli(["report", "run", "--out", "report", "--bootstrap", "20"]) == 0
        (root / "salt.key").write_bytes(bytes(range(32)))
        args = ["recommend", "run/chosen.json", "--pseudonymize", "salt.key"]
        assert _cli([*args, "--out", "recs.csv"]) == 0
        assert _cli([*args, "--fit-on", "run", "--out", "recs_run.csv"]) == 0
    return root


def test_no_output_holds_a_raw_user_id_or_an_absolute_path(served):
    outputs = [f for f in served.rglob("*") if f.is_file() and f.name != "ratings.csv"]
    outputs = [f for f in outputs if f.name not in ("tiny.toml", "salt.key")]
    names = {f.relative_to(served).as_posix() for f in outputs}
    assert {"run/run.json", "run/chosen.json", "run/trials.csv", "report/report.html"} <= names
    assert {"report/results.md", "recs.csv", "recs_run.csv"} <= names
    needles = [SECRET, str(served), str(served.resolve())]
    assert _leaks(outputs, needles) == []


def test_recommend_writes_keyed_hashes_and_results_record_epsilon(served):
    recs = pd.read_csv(served / "recs.csv", dtype={"user": str})
    salt = bytes(range(32))
    want = {
        hmac.new(salt, f"{SECRET}{u:04d}".encode(), hashlib.sha256).hexdigest()
        for u in range(1, 151)
    }
    assert set(recs["user"]) == want
    trials = pd.read_csv(served / "run" / "trials.csv")
    for _, row in trials.iterrows():
        private = row["model"].startswith("dp_")
        expected = row[f"{row['model']}.epsilon"] if private else 100.0  # ∞: the cap
        assert row["val_privacy_epsilon"] == pytest.approx(expected)


def test_a_short_salt_is_one_line_and_exit_2(served, capsys):
    (served / "short.key").write_bytes(b"abc")
    code = _cli(
        [
            "recommend",
            served / "run/chosen.json",
            "--out",
            served / "x.csv",
            "--pseudonymize",
            served / "short.key",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "holds 3 bytes" in err
    assert not (served / "x.csv").exists()


def test_an_absolute_data_path_is_not_written(tmp_path, monkeypatch):
    _fixture(tmp_path, (tmp_path / "ratings.csv").as_posix())
    monkeypatch.chdir(tmp_path)
    assert _cli(["tune", "tiny.toml", "--out", "run", "--quiet"]) == 0
    assert _cli(["select", "run"]) == 0, "select failed"
    files = [f for f in (tmp_path / "run").rglob("*") if f.is_file()]
    assert _leaks(files, [str(tmp_path)]) == []
    # written relative to each file, and read back from anywhere: the run resumes as finished,
    # and its export serves from another working directory
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"]["path"] == "../ratings.csv"
    assert _cli(["tune", "tiny.toml", "--out", "run", "--resume", "--quiet"]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    chosen = tmp_path / "run" / "chosen.json"
    assert _cli(["recommend", str(chosen), "--out", "recs.csv"]) == 0
    assert (elsewhere / "recs.csv").is_file()


def test_a_run_stored_with_working_directory_paths_still_resumes(tmp_path, monkeypatch):
    _fixture(tmp_path, "ratings.csv")
    monkeypatch.chdir(tmp_path)
    assert _cli(["tune", "tiny.toml", "--out", "run", "--quiet"]) == 0
    stored = tmp_path / "run" / "config.json"
    config = json.loads(stored.read_text())
    config["data"]["path"] = "ratings.csv"  # as runs stored it before: from the working dir
    stored.write_text(json.dumps(config, indent=2) + "\n")
    assert _cli(["tune", "tiny.toml", "--out", "run", "--resume", "--quiet"]) == 0
