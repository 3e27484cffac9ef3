import sqlite3

import numpy as np
import pandas as pd
import pytest

import paretorec
from paretorec.config import ExperimentConfig, from_dict
from paretorec.errors import ConfigError
from paretorec.study import Study

CONFIG = {
    "name": "tiny",
    "data": {"dataset": "synthetic"},
    "evaluation": {"k": 5, "record": ["recall@5", "ild@5", "coverage@5"]},
    "objectives": [
        {"metric": "ndcg@5"},
        {"metric": "satisfaction@5"},
        {"metric": "cost"},
    ],
    "search": {"population": 8, "generations": 3, "seed": 11},
    "space": {
        "model": ["popularity", "itemknn", "ease"],
        "itemknn.k": {"low": 5, "high": 50, "levels": 3},
        "ease.l2": {"low": 10.0, "high": 1000.0, "log": True, "levels": 3},
        "rerank.pool": {"low": 5, "high": 30},
        "rerank.diversity": {"low": 0.0, "high": 1.0},
        "rerank.novelty": {"low": 0.0, "high": 0.5},
    },
}


def _config(**search) -> ExperimentConfig:
    raw = {**CONFIG, "search": {**CONFIG["search"], **search}}
    return from_dict(ExperimentConfig, raw)


def _deterministic(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in frame.columns if c.startswith(("val_", "test_")) and "ms_per_user" not in c]
    return frame[["trial", "generation", "model", *cols]]


def test_same_seed_gives_identical_objective_columns(tmp_path):
    a = paretorec.tune(_config(), tmp_path / "a").trials
    b = paretorec.tune(_config()).trials  # in memory: the same trials
    assert len(a) == 24
    pd.testing.assert_frame_equal(_deterministic(a), _deterministic(b))
    c = paretorec.tune(_config(seed=12)).trials
    assert not _deterministic(a).equals(_deterministic(c))
    on_disk = pd.read_csv(tmp_path / "a" / "trials.csv")
    assert np.array_equal(
        on_disk["val_ndcg@5"].to_numpy(), a["val_ndcg@5"].to_numpy()
    )  # the mirror holds what the run returned


def test_run_directory_contents(tmp_path):
    paretorec.tune(_config(), tmp_path)
    trials = pd.read_csv(tmp_path / "trials.csv")
    front = pd.read_csv(tmp_path / "front.csv")
    history = pd.read_csv(tmp_path / "history.csv")
    assert {"val_ndcg@5", "test_ndcg@5", "val_recall@5", "test_coverage@5", "seconds"} <= set(
        trials
    )
    assert {"rerank.pool", "itemknn.k", "ease.l2"} <= set(trials)
    assert history["generation"].tolist() == [1, 2, 3]
    assert history["evaluations"].tolist() == [8, 16, 24]
    assert (history["front_size"] > 0).all()
    assert np.all(np.diff(history["hypervolume"]) >= 0)  # over all points so far: never drops
    assert 0 <= history["hypervolume"].iloc[-1] < 1  # reference: the popularity baseline
    assert set(front["trial"]) <= set(trials["trial"])
    # inactive parameters are blank
    pop = trials[trials["model"] == "popularity"]
    assert pop["itemknn.k"].isna().all() and pop["ease.l2"].isna().all()


@pytest.mark.parametrize("algorithm,generations", [("nsga2", 3), ("cmopso", 8), ("tpe", 3)])
def test_resume_repeats_nothing_and_ends_identically(tmp_path, monkeypatch, algorithm, generations):
    # cmopso carries velocities and an elite archive (truncated at random once it outgrows
    # the swarm, which takes a few generations) from one generation to the next, tpe
    # Optuna's trial history: the replayed generations must rebuild them exactly
    config = _config(algorithm=algorithm, generations=generations)
    full = paretorec.tune(config, tmp_path / "full").trials
    partial = tmp_path / "partial"
    paretorec.tune(config, partial)
    with sqlite3.connect(partial / "trials.sqlite") as db:  # as if killed in the last generation
        db.execute("DELETE FROM trials WHERE generation = ?", (generations,))
        db.execute("DELETE FROM history WHERE generation = ?", (generations,))
    calls = []
    original = Study.evaluate
    monkeypatch.setattr(
        Study,
        "evaluate",
        lambda self, values, *stages: calls.append(values) or original(self, values, *stages),
    )
    resumed = paretorec.tune(config, partial, resume=True).trials
    assert len(calls) == 8  # only the last generation was evaluated again
    pd.testing.assert_frame_equal(_deterministic(resumed), _deterministic(full))
    assert (
        pd.read_csv(partial / "front.csv")["trial"].tolist()
        == pd.read_csv(tmp_path / "full" / "front.csv")["trial"].tolist()
    )


def test_refuses_to_overwrite_or_resume_a_different_config(tmp_path):
    paretorec.tune(_config(generations=1), tmp_path)
    with pytest.raises(ConfigError, match=r"already holds a run \(8 trials\); resume it"):
        paretorec.tune(_config(generations=1), tmp_path)
    with pytest.raises(ConfigError, match="needs the config the run was started with"):
        paretorec.tune(_config(generations=2, seed=5), tmp_path, resume=True)


def test_a_run_that_stored_nothing_can_start_again_without_resume(tmp_path):
    # a first start that failed before evaluating anything (here: its store is empty and its
    # config.json is another run's) does not block the directory
    (tmp_path / "config.json").write_text('{"name": "an earlier attempt"}')
    sqlite3.connect(tmp_path / "trials.sqlite").close()
    result = paretorec.tune(_config(generations=1), tmp_path)
    assert len(result.records) == 8
    assert paretorec.Result.load(tmp_path).config == _config(generations=1)


def test_resuming_a_finished_run_changes_nothing(tmp_path):
    first = paretorec.tune(_config(generations=1), tmp_path)
    meta = (tmp_path / "run.json").read_text()
    again = paretorec.tune(_config(generations=1), tmp_path, resume=True)
    pd.testing.assert_frame_equal(_deterministic(first.trials), _deterministic(again.trials))
    assert (tmp_path / "run.json").read_text() == meta  # not rewritten: fits are not reset


def test_weight_only_changes_never_refit(tmp_path):
    study = Study.prepare(_config(), None)
    base = {"model": "ease", "ease.l2": 100.0, "rerank.pool": 20}
    before = study.pipeline.fits  # the baselines' fits
    study.evaluate({**base, "rerank.diversity": 0.0, "rerank.novelty": 0.0})
    fits = study.pipeline.fits
    assert fits == before + 2  # validation and test fits
    for d in (0.1, 0.5, 0.9):
        study.evaluate({**base, "rerank.pool": 12, "rerank.diversity": d, "rerank.novelty": d / 2})
    assert study.pipeline.fits == fits


def test_a_resumed_half_generation_counts_this_sessions_time(tmp_path, monkeypatch):
    import types

    import paretorec.optimize.engine as engine

    config = _config(generations=2)
    paretorec.tune(config, tmp_path)
    with sqlite3.connect(tmp_path / "trials.sqlite") as db:  # killed inside generation 2
        db.execute("DELETE FROM trials WHERE trial >= 12")
        db.execute("DELETE FROM history WHERE generation = 2")
        before = db.execute("SELECT max(elapsed) FROM history").fetchone()[0]
    ticks = iter(range(10**6))  # a clock that moves one second per reading
    monkeypatch.setattr(engine, "time", types.SimpleNamespace(perf_counter=lambda: next(ticks)))
    paretorec.tune(config, tmp_path, resume=True)
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["elapsed_seconds"].iloc[-1] > before
