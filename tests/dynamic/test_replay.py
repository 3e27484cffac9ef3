"""The replay end to end on a small synthetic dataset whose adaptive trigger is known.

The space holds one fixed point, so every re-tune finds the same point again, no point can
dominate it, and the deployed model is only ever updated (exactly, ItemKNN): every policy must
then score exactly what ``frozen`` scores, and the adaptive policy re-tunes at every decision
boundary with threshold 0 (the point always moves a little on new data) and never with a
threshold no move reaches."""

import json
import re

import numpy as np
import pytest

from paretorec.config import load_config
from paretorec.dynamic.check import assess
from paretorec.dynamic.replay import ReplaySettings, replay
from paretorec.errors import ConfigError
from paretorec.objectives import make_objective
from tests.test_cli import run_cli

CONFIG = """
name = "replay-toy"
[data]
dataset = "synthetic"
[data.synthetic]
n_users = 150
n_items = 220
n_interactions = 6000
n_genres = 8
seed = 5
[split]
method = "holdout"
test = 0.1
validation = 0.2
[evaluation]
k = 5
record = []
[[objectives]]
metric = "ndcg@5"
direction = "max"
[[objectives]]
metric = "cost"
direction = "min"
[search]
algorithm = "random"
population = 2
generations = 1
seed = 1
[space]
model = ["itemknn"]
"itemknn.k" = 20
"itemknn.shrinkage" = 10.0
"rerank.pool" = 10
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("replay") / "toy.toml"
    path.write_text(CONFIG)
    return path


def _means(result, policy):
    return [
        [v["mean"] for v in row["objectives"].values()]
        for row in result.rows
        if row["policy"] == policy
    ]


def test_threshold_zero_retunes_at_every_decision_and_scores_as_frozen(config):
    result = replay(load_config(config), ReplaySettings(windows=4, threshold=0.0, budget=2))
    adaptive = [r for r in result.rows if r["policy"] == "adaptive"]
    assert [r["retuned"] for r in adaptive] == [False, True, True]  # boundary 1 decides nothing
    assert all(r["check"]["moved"] > 0 and not r["check"]["dominated"] for r in adaptive[1:])
    assert result.policies["frozen"]["retunes"] == 0
    assert result.policies["retune"]["retunes"] == result.policies["adaptive"]["retunes"] == 2
    # the same point, exactly updated: identical scores whatever the policy
    assert _means(result, "retune") == _means(result, "frozen") == _means(result, "adaptive")
    for row in result.rows:
        if row["deploy"] == "update":
            assert row["agreement"] == {"max_abs_score_diff": 0.0, "topk_overlap": 1.0}
    # what each policy spent: the initial tune, plus the re-scored front and re-tunes
    initial = result.initial["evaluations"]
    assert result.policies["frozen"]["evaluations"] == initial
    rescored = sum(r["check"]["rescored"] for r in adaptive[1:])
    tuned = sum(r["tuned"]["evaluations"] for r in adaptive[1:])
    assert result.policies["adaptive"]["evaluations"] == initial + rescored + tuned


def test_unreachable_threshold_never_retunes_and_cli_writes_it_all(config, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["replay", config, "--windows", "4", "--policy", "adaptive", "--threshold", "1e9"]
    code, _, err = run_cli([*args, "--budget", "2", "--out", out], capsys)
    assert code == 0, err
    for name in ("replay.json", "replay.csv", "summary.md", "replay.png", "replay.svg"):
        assert (out / name).is_file(), name
    report = json.loads((out / "replay.json").read_text())
    assert report["policies"]["adaptive"]["retunes"] == 0
    assert [b["retuned"] for b in report["boundaries"]] == [False, False, False]
    assert "## Incremental update against a full refit" in (out / "summary.md").read_text()


def test_assess_flags_a_dominated_point_and_measures_the_move():
    # two objectives, ndcg (max, best 1, worst 0) and cost (min, best 0, worst 100)
    objectives = (
        make_objective("ndcg@10", "max", 1.0, 0.0),
        make_objective("cost", "min", 0.0, 100.0),
    )
    old = np.array([[0.30, 50.0], [0.20, 40.0]])
    new = np.array([[0.18, 50.0], [0.20, 40.0]])  # the chosen point 0 lost 0.12 of ndcg
    verdict = assess(objectives, old, new, 0)
    assert verdict.dominated and verdict.dominated_by == [1]
    assert verdict.moved == pytest.approx(0.12)  # normalised: 0.12 / (1 - 0) along ndcg
    kept = assess(objectives, old, old, 0)
    assert not kept.dominated and kept.moved == 0.0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(windows=1), "--windows: `N >= 2`"),
        (dict(policies=("sometimes",)), "--policy: one of frozen, retune, adaptive"),
        (dict(threshold=-1.0), "--threshold: `T >= 0`"),
        (dict(budget=0), "--budget: `B >= 1`"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        ReplaySettings(**settings)


def test_cli_refuses_too_many_windows_in_one_line(config, tmp_path, capsys):
    code, _, err = run_cli(["replay", config, "--windows", "200", "--out", tmp_path / "o"], capsys)
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in err  # (the toy space's warnings aside)
    assert "--windows 200" in err and "windows work (--windows" in err
    assert not (tmp_path / "o").exists()


def test_cli_refuses_data_without_timestamps(tmp_path, capsys):
    rows = "".join(f"{u},{i},4\n" for u in range(30) for i in range(u % 7, u % 7 + 6))
    (tmp_path / "events.csv").write_text("user,item,rating\n" + rows)
    (tmp_path / "exp.toml").write_text(
        f'[data]\ndataset = "file"\npath = "{tmp_path / "events.csv"}"\n'
        '[evaluation]\nk = 3\n[search]\nalgorithm = "random"\n'
    )
    code, _, err = run_cli(["replay", tmp_path / "exp.toml", "--out", tmp_path / "o"], capsys)
    assert code == 2
    assert "no timestamps" in err and "events.csv" in err
    assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
