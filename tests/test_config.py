import json

import pytest

from paretorec.config import ExperimentConfig, from_dict, load_config
from paretorec.errors import ConfigError
from paretorec.study import plan
from paretorec.tuning import check
from tests.conftest import REPO


def test_the_shipped_experiment_loads_and_round_trips(tmp_path):
    cfg = load_config(REPO / "experiments" / "ml100k.toml")
    assert cfg.search.algorithm == "tpe-independent"
    assert cfg.search.population == 1 and cfg.search.generations == 320
    assert [o.metric for o in cfg.objectives] == [
        "ndcg@10",
        "satisfaction@10",
        "miscalibration@10",
        "aplt@10",
        "cost",
    ]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg.to_dict()))
    assert load_config(path) == cfg
    assert from_dict(ExperimentConfig, cfg.to_dict()) == cfg
    plan(cfg)  # names and bounds check out against the registries


def test_defaults_are_a_complete_experiment():
    cfg = from_dict(ExperimentConfig, {})
    p = plan(cfg)
    assert [m.name for m in p.metrics][:3] == ["ndcg@10", "satisfaction@10", "cost"]


@pytest.mark.parametrize(
    "text,match",
    [
        ("[search]\npopsize = 3\n", "unknown key `popsize`; expected one of: algorithm"),
        ("[search]\npopulation = 0\n", "population > 0"),
        ("[search]\npopulation = 'ten'\n", "expected an integer"),
        ("[split]\ntest = 1.5\n", "0 < test < 1"),
        ("[[objectives]]\nmetric = 'ndcg@10'\n", "at least 2 objectives"),
        ("name = 3\n", "expected a string"),
        ("[search\n", "not valid toml"),
    ],
)
def test_config_errors_name_the_file_and_the_key(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        load_config(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_unreadable_config(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "latin.toml").write_bytes(b"name = '\xe9'\n")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "latin.toml")


@pytest.mark.parametrize(
    "raw,match",
    [
        ({"objectives": [{"metric": "ndcg@10"}, {"metric": "dcg@10"}]}, "unknown metric `dcg`"),
        ({"objectives": [{"metric": "ndcg@20"}, {"metric": "cost"}]}, "k <= evaluation.k"),
        (
            {"objectives": [{"metric": "ndcg@10", "direction": "up"}, {"metric": "cost"}]},
            "max or min",
        ),
        ({"search": {"algorithm": "cmaes"}}, "unknown algorithm `cmaes`"),
        ({"data": {"dataset": "netflix"}}, "unknown dataset `netflix`"),
        (
            {"space": {"model": "ease", "rerank.pool": {"low": 5, "high": 50}}},
            "pool >= evaluation.k",
        ),
        (
            {"objectives": [{"metric": "ndcg@10", "best": 0.0, "worst": 1.0}, {"metric": "cost"}]},
            "best` must be better",
        ),
        ({"constraints": ["cost < 5"]}, "is not of the form"),
        ({"constraints": ["bliss@10 >= 0.1"]}, "unknown metric `bliss`"),
        ({"evaluation": {"test_scoring": "never"}}, "test_scoring must be one of"),
        ({"search": {"algorithm": "weighted", "weights": [1.0]}}, "one per objective"),
    ],
)
def test_plan_rejects_names_and_bounds_before_loading_data(raw, match):
    with pytest.raises((ConfigError, KeyError), match=match):
        check(from_dict(ExperimentConfig, raw))


@pytest.mark.parametrize(
    "raw,match",
    [
        ({"space": {"model": "ease", "ease.l2": {"low": 0.0, "high": 10.0}}}, "ease.l2 > 0"),
        ({"space": {"model": "itemknn", "itemknn.k": {"low": 5.0, "high": 9.0}}}, "an integer"),
        ({"space": {"model": "ease", "rerank.diversity": {"low": -1.0, "high": 1.0}}}, ">= 0"),
        ({"space": {"model": {"low": 1, "high": 2}}}, "not a range"),
        ({"search": {"weights": [1.0, 1.0, 1.0]}}, 'only algorithm = "weighted"'),
        ({"split": {"test_cutoff": 5}}, 'only method = "temporal"'),
        ({"data": {"dataset": "ml-100k", "synthetic": {"seed": 1}}}, 'only dataset = "synthetic"'),
    ],
)
def test_plan_checks_the_space_corners_and_unused_keys(raw, match):
    with pytest.raises(ConfigError, match=match):
        plan(from_dict(ExperimentConfig, raw))
