"""The Python API as a notebook uses it: configs built in code, a run kept in memory, exact
types, figures without pyplot."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import paretorec
from paretorec.study import Candidate
from tests.conftest import REPO
from tests.optimize.test_run import _config


@pytest.fixture(scope="module")
def result():
    return paretorec.tune(_config(generations=2))


def test_configs_built_in_code_are_checked_like_loaded_ones():
    with pytest.raises(paretorec.ConfigError, match=r"\[evaluation\] k: expected an integer"):
        paretorec.EvaluationConfig(k="10")
    with pytest.raises(paretorec.ConfigError, match=r"\[search\] `population > 0`"):
        paretorec.SearchConfig(population=0)
    with pytest.raises(paretorec.ConfigError, match=r"\[split\] seed: expected an integer"):
        paretorec.ExperimentConfig(split={"seed": 1.5})
    config = paretorec.ExperimentConfig(evaluation=paretorec.EvaluationConfig(k=5))
    # defaults follow k instead of a hard-coded @10
    assert [o.metric for o in config.objectives] == ["ndcg@5", "satisfaction@5", "cost"]
    assert config.evaluation.record[0] == "precision@5"
    assert paretorec.ExperimentConfig(**config.to_dict()) == config  # sections from tables


def test_trials_keep_exact_types_and_rows_rebuild_candidates(result):
    trials = result.trials
    assert str(trials["itemknn.k"].dtype) == "Int64" and str(trials["rerank.pool"].dtype) == "Int64"
    assert trials["ease.l2"].dtype == np.float64 and trials["model"].dtype == object
    for row in trials.to_dict("records"):  # a row of the frame is a valid point
        candidate = Candidate.from_values(row)
        assert candidate == result.candidate(row["trial"])
    assert set(result.front["trial"]) <= set(trials["trial"])
    assert list(result.history["generation"]) == [1, 2]


def test_select_export_and_serve_in_memory(result, tmp_path):
    selection = result.select("utopia", weights=[2, 1, 1])
    assert selection.method == "utopia" and "utopia point" in selection.reason
    assert selection.values["validation"]["ndcg@5"] == pytest.approx(
        result.record(selection.trial).results["val_ndcg@5"]
    )
    path = selection.export(tmp_path / "point.json")
    point = paretorec.load_operating_point(path)
    assert point.candidate == selection.point.candidate
    served = result.recommender(selection, fit_on="run")
    ok, _ = served.reproduce()
    assert ok
    lists = served.recommend(k=3)
    assert list(lists.columns) == ["user", "item", "rank", "score"]
    assert lists.groupby("user")["rank"].max().max() == 3
    with pytest.raises(paretorec.DataError, match="not served"):
        served.recommend(users=["nobody"])
    with pytest.raises(paretorec.ConfigError, match="has no parameter `weights`"):
        result.select("knee", weights=[1, 1, 1])


def test_importing_paretorec_and_drawing_leaves_the_backend_alone(result):
    code = (
        "import sys, matplotlib\n"
        "matplotlib.use('svg')\n"
        "import paretorec\n"
        "from tests.optimize.test_run import _config\n"
        "r = paretorec.tune(_config(generations=1))\n"
        "fig = paretorec.report.pareto_figure(r)\n"
        "assert type(fig).__name__ == 'Figure', type(fig)\n"
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_public_name_is_there():
    for name in paretorec.__all__:
        assert hasattr(paretorec, name), name
    assert isinstance(paretorec.Result, type) and callable(paretorec.tune)
    frame = paretorec.tune(_config(generations=1)).trials
    assert isinstance(frame, pd.DataFrame)
