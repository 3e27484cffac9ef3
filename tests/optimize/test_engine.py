"""The search engine on a recommender study: constraints, anchored hypervolume, stopping rules,
parallel and distributed evaluation, warm starts, a real kill -9 and resume, the run lock,
re-checking."""

import json
import os
import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import paretorec
from paretorec import names
from paretorec.config import ExperimentConfig, from_dict
from paretorec.errors import ConfigError
from paretorec.optimize.executors import Router
from paretorec.optimize.rundir import RunDir
from paretorec.study import Study
from paretorec.tuning import front_vectors
from tests.conftest import REPO
from tests.optimize.test_run import CONFIG, _deterministic


def _config(**changes) -> ExperimentConfig:
    raw = json.loads(json.dumps(CONFIG))
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            raw.setdefault(section, {})[field] = value
        else:
            raw[section] = value
    return from_dict(ExperimentConfig, raw)


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    frame = paretorec.tune(_config(), out).trials
    return out, frame


def test_hypervolume_is_anchored_to_the_baselines(serial_run):
    out, _ = serial_run
    meta = json.loads((out / "run.json").read_text())
    popularity = meta["baselines"]["popularity"]
    by_name = {o["name"]: o for o in meta["objectives"]}
    assert by_name["ndcg@5"]["worst"] == pytest.approx(popularity["ndcg@5"])
    assert by_name["satisfaction@5"]["worst"] == pytest.approx(popularity["satisfaction@5"])
    assert by_name["ndcg@5"]["best"] == 1.0 and by_name["cost"]["best"] == 0.0
    # the costliest admissible configuration costs more than anything evaluated
    trials = pd.read_csv(out / "trials.csv")
    assert by_name["cost"]["worst"] >= trials["val_cost"].max()


def test_constraints_reach_pymoo_and_filter_the_front(tmp_path):
    config = _config(constraints=["cost <= 3000", "ndcg@5 >= 0.9*best_baseline"])
    study = Study.prepare(config, None)
    assert study.constraints[0].limit == 3000
    best = max(v["ndcg@5"] for v in study.baselines.values())
    assert study.constraints[1].limit == pytest.approx(0.9 * best)
    paretorec.tune(config, tmp_path)
    front = pd.read_csv(tmp_path / "front.csv")
    assert len(front) > 0
    assert (front["val_cost"] <= 3000).all() and (front["val_ndcg@5"] >= 0.9 * best).all()
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["constraints"][0]["limit"] == 3000
    by_name = {o["name"]: o for o in meta["objectives"]}
    assert by_name["cost"]["worst"] == 3000  # the tighter of the space's maximum and the bound


@pytest.mark.parametrize(
    "search,expected",
    [({"max_evaluations": 13}, 13), ({"generations": 2}, 16), ({"stagnation": 1}, None)],
)
def test_stopping_rules(tmp_path, search, expected):
    config = _config(search={**CONFIG["search"], "generations": 6, **search})
    result = paretorec.tune(config, tmp_path)
    frame = result.trials
    history = pd.read_csv(tmp_path / "history.csv")
    if expected is not None:
        assert len(frame) == expected
    else:  # stops right after the first generation without a hypervolume gain
        stale = np.flatnonzero(np.diff(history["hypervolume"]) <= 1e-9)
        assert len(history) == (stale[0] + 2 if len(stale) else 6)
    assert result.meta["stopped"]  # says which rule stopped it


def test_wall_time_budget(tmp_path):
    config = _config(search={**CONFIG["search"], "generations": 50, "max_seconds": 0.01})
    paretorec.tune(config, tmp_path)
    assert len(pd.read_csv(tmp_path / "history.csv")) == 1  # the first generation, then stop


def test_router_is_sticky_and_balanced():
    router = Router(2, names.model_key)
    a = {"model": "ease", "ease.l2": 10.0, "rerank.pool": 5}
    b = {"model": "ease", "ease.l2": 100.0, "rerank.pool": 5}
    assert router.worker(a) == 0 and router.worker(b) == 1
    assert router.worker({**a, "rerank.pool": 9, "rerank.diversity": 0.5}) == 0  # same model


def test_worker_processes_give_identical_results(serial_run, tmp_path):
    _, serial = serial_run
    parallel = paretorec.tune(_config(), tmp_path, workers=2).trials
    pd.testing.assert_frame_equal(_deterministic(parallel), _deterministic(serial))
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["workers"] == 2 and meta["fits"] > 0


def test_dask_cluster_gives_identical_results(serial_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    _, serial = serial_run
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        frame = paretorec.tune(_config(), tmp_path, scheduler=cluster.scheduler_address).trials
    pd.testing.assert_frame_equal(_deterministic(frame), _deterministic(serial))


def test_warm_start_puts_the_old_front_in_the_first_generation(serial_run, tmp_path):
    out, _ = serial_run
    study = Study.prepare(_config(), None)
    front_x = front_vectors(out, study.space)
    paretorec.tune(_config(), tmp_path, warm_start=out)
    with sqlite3.connect(tmp_path / "trials.sqlite") as db:
        first = [
            np.frombuffer(x)
            for (x,) in db.execute("SELECT x FROM trials WHERE generation = 1 ORDER BY trial")
        ]
    n_baselines = len(study.baseline_points())
    repaired = study.space.repair(front_x)[: len(first) - n_baselines]
    seeded = {tuple(x) for x in first}
    assert all(tuple(x) in seeded for x in repaired)  # after the baselines, minus duplicates
    meta = json.loads((tmp_path / "run.json").read_text())
    assert len(meta["warm_start"]["x"]) == len(front_x)


def test_check_on_new_data(serial_run, tmp_path, capsys):
    from paretorec.dynamic import check_run

    out, _ = serial_run
    paretorec.Result.load(out).select("knee").export(out / "chosen.json")
    new = tmp_path / "new.toml"
    new.write_text('[data]\ndataset = "synthetic"\n[data.synthetic]\nseed = 99\n')
    result = check_run(out, new)
    assert any("chosen point" in line for line in result.lines)
    report = json.loads((out / "check.json").read_text())
    assert report["checksum"] != json.loads((out / "run.json").read_text())["dataset"]["checksum"]
    assert isinstance(report["chosen_non_dominated"], bool) and report["moved_normalised"] >= 0


KILL_AFTER = """
import os, signal, sys
from paretorec.optimize import store

n, add = int(sys.argv[1]), store.TrialStore.add

def add_then_die(self, record):  # the test hook: SIGKILL right after the n-th commit
    add(self, record)
    if record.trial + 1 == n:
        os.kill(os.getpid(), signal.SIGKILL)

store.TrialStore.add = add_then_die
from paretorec.cli import main
main(sys.argv[2:])
"""


@pytest.mark.parametrize("kill_after", [10, 17])
def test_kill_dash_9_then_resume_loses_and_repeats_nothing(tmp_path, serial_run, kill_after):
    _, serial = serial_run
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps(_config().to_dict()))
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = ["tune", str(config), "--out", str(out), "--quiet"]
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER, str(kill_after), *args], env=env, capture_output=True
    )
    assert killed.returncode == -9, killed.stderr  # died by SIGKILL, not by an error
    with sqlite3.connect(out / "trials.sqlite") as db:
        kept = db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
    assert kept == kill_after
    resumed = subprocess.run(
        [sys.executable, "-m", "paretorec", *args, "--resume"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["evaluated_in_this_session"] == len(serial) - kept  # nothing repeated
    # the killed session's fits were stored as they were made, and count
    search_fits = [f for f in meta["fit_log"] if not f["setup"]]
    assert {f["session"] for f in search_fits} == {1, 2}
    assert meta["fits"] == len(search_fits)
    assert meta["fits_in_this_session"] == sum(f["session"] == 2 for f in search_fits)
    frame = pd.read_csv(out / "trials.csv")
    pd.testing.assert_frame_equal(_deterministic(frame), _deterministic(serial), check_dtype=False)
    front = pd.read_csv(out / "front.csv")
    serial_front = pd.read_csv(serial_run[0] / "front.csv")
    assert front["trial"].tolist() == serial_front["trial"].tolist()


def test_a_busy_run_directory_stops_a_second_run_with_one_line(tmp_path):
    held = RunDir(tmp_path)
    with held.locked():  # as a running `tune` holds it
        with pytest.raises(
            ConfigError, match=rf"in use by a running paretorec \(pid {os.getpid()}"
        ):
            paretorec.tune(_config(), tmp_path)
        assert not (tmp_path / "trials.sqlite").exists()  # nothing of the second run written
    paretorec.tune(_config(search__generations=1), tmp_path)  # free again once released


def test_resume_after_a_wall_time_stop_keeps_every_trial(tmp_path):
    config = _config(search={**CONFIG["search"], "generations": 50, "max_seconds": 0.01})
    first = paretorec.tune(config, tmp_path).trials
    before = (tmp_path / "run.json").read_bytes()
    again = paretorec.tune(config, tmp_path, resume=True).trials
    assert len(again) == len(first) > 0
    assert len(pd.read_csv(tmp_path / "trials.csv")) == len(first)
    # the budget is spent: the run is finished, and resuming a finished run changes nothing
    assert (tmp_path / "run.json").read_bytes() == before
    assert json.loads(before)["evaluations"] == len(first)


def test_a_user_error_in_a_worker_is_raised_as_itself(monkeypatch):
    import paretorec.optimize.executors as executors
    from paretorec.optimize.executors import ProcessExecutor
    from paretorec.study import StudyRecipe

    monkeypatch.setattr(executors, "_start_method", lambda: "spawn")  # workers rebuild

    class Broken:  # a problem whose workers cannot rebuild it (here: a bad config)
        def warm_up(self):
            pass

        def recipe(self):
            return StudyRecipe({"search": {"population": 0}}, None)

        def affinity(self, values):
            return ()

    with pytest.raises(ConfigError, match="population > 0"):
        ProcessExecutor(Broken(), 1)


FORKED = """
import json, sys
import pandas as pd
import paretorec
import paretorec.optimize.executors as executors
from paretorec.config import ExperimentConfig, from_dict
from paretorec.errors import ConfigError
from paretorec.optimize.executors import ProcessExecutor

assert executors._start_method() == "fork", executors._start_method()
config = from_dict(ExperimentConfig, json.loads(sys.argv[1]))
serial = paretorec.tune(config).trials
parallel = paretorec.tune(config, workers=2).trials
cols = [c for c in serial.columns if c.startswith(("val_", "test_")) and "ms_per" not in c]
assert serial[cols].equals(parallel[cols]), "forked workers differ from serial"

class NoCounter:  # a problem whose forked copy fails before it is ready
    def warm_up(self):
        pass
    def affinity(self, values):
        return ()
    @property
    def fits(self):
        raise ConfigError("no fit counter here")

try:
    ProcessExecutor(NoCounter(), 1)
except ConfigError as exc:
    assert "no fit counter here" in str(exc)
else:
    raise AssertionError("the dead worker was not reported")
print("ok")
"""


def test_forked_workers_match_serial_and_a_dead_one_is_reported_not_waited_for():
    """In a fresh process (the test process may hold threads that make the executor spawn):
    forked workers give the serial run's numbers, and a worker that dies while starting is
    reported at once instead of waited for."""
    import subprocess
    import sys

    if sys.platform != "linux":
        pytest.skip("workers are forked on Linux only")
    raw = json.dumps(json.loads(json.dumps(CONFIG)))
    done = subprocess.run(
        [sys.executable, "-c", FORKED, raw], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]


def test_the_baselines_start_the_search_even_with_a_large_warm_start(tmp_path):
    study = Study.prepare(_config(), None)
    big = np.random.default_rng(0).random((20, study.space.n_var))  # more than a population
    paretorec.tune(_config(), tmp_path, warm_start=big)
    first = pd.read_csv(tmp_path / "trials.csv").query("generation == 1")
    baselines = [study.space.decode(x) for x in study.baseline_points()]
    assert first["model"].head(len(baselines)).tolist() == [b["model"] for b in baselines]
    assert (first["rerank.diversity"].head(len(baselines)) == 0).all()


def test_the_plot_marks_the_feasible_front(tmp_path):
    from paretorec.report import figures, save

    paretorec.tune(_config(constraints=["cost <= 3000"]), tmp_path)
    view = paretorec.Result.load(tmp_path)
    assert (view.front["val_cost"] <= 3000).all()
    assert all(p.stat().st_size > 5000 for p in save(figures(view), tmp_path / "plots"))
    from paretorec.report.plots import _groups

    _, on_front, feasible, _, _ = _groups(view)
    assert (~feasible).any() and not (on_front & ~feasible).any()  # violators drawn apart
