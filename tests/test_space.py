import numpy as np
import pytest

from paretorec.config import ExperimentConfig
from paretorec.errors import ConfigError
from paretorec.models import MODELS
from paretorec.registry import declared_params
from paretorec.rerank import TERMS
from paretorec.space import Choice, Grid, Int, Real, parse_space
from paretorec.study import default_space, plan


def checked(raw):
    """A space as a study gets it: parsed, and its names checked against the registries."""
    return plan(ExperimentConfig(space=raw, evaluation={"k": 5})).space


def test_default_space_decodes_conditional_parameters():
    space = parse_space(default_space())
    models = list(space.models())
    x = np.full(space.n_var, 0.5)
    x[0] = (models.index("ease") + 0.5) / len(models)
    values = space.decode(x)
    assert values["model"] == "ease"
    assert "ease.l2" in values and not any(k.startswith("itemknn.") for k in values)
    x[0] = 0.5 / len(models)  # popularity: no hyperparameters, only the re-rank ones
    assert {n for n in space.decode(x) if not n.startswith("rerank.")} == {"model"}


def test_a_hybrids_members_parameters_are_active_with_it():
    space = parse_space(default_space())
    names = [n for n, _ in space.params]
    x = np.full(space.n_var, 0.5)
    x[0] = (list(space.models()).index("hybrid") + 0.5) / len(space.models())
    first = dict(space.params)["hybrid.first"]
    x[names.index("hybrid.first")] = first.encode("ease")
    values = space.decode(x)
    assert values["hybrid.first"] == "ease" and "ease.l2" in values
    assert not any(k.startswith(("itemknn.", "als.")) for k in values)
    # repair keeps the member's coordinates and centres every other model's
    repaired = space.repair(x[None, :])[0]
    assert repaired[names.index("ease.l2")] == space.encode(values)[names.index("ease.l2")]
    assert repaired[names.index("als.factors")] == 0.5


def test_encode_decode_round_trip_and_repair_snaps_to_cells():
    space = parse_space(default_space())
    rng = np.random.default_rng(0)
    X = space.repair(rng.random((200, space.n_var)))
    assert np.array_equal(space.repair(X), X)  # idempotent
    for x in X:
        values = space.decode(x)
        again = space.decode(space.encode(values))
        assert again == values


@pytest.mark.parametrize(
    "dom,u,expected",
    [
        (Real(0.0, 10.0), 0.25, 2.5),
        (Real(1.0, 100.0, log=True), 0.5, 10.0),
        (Int(1, 4), 0.0, 1),
        (Int(1, 4), 0.999, 4),
        (Int(1, 4), 0.5, 3),
        (Int(1, 1000, log=True), 0.0, 1),
        (Choice(("a", "b", "c")), 0.5, "b"),
    ],
)
def test_domains_decode(dom, u, expected):
    assert dom.decode(u) == pytest.approx(expected)


def test_grid_levels():
    space = parse_space(
        {
            "model": "ease",
            "ease.l2": {"low": 10.0, "high": 1000.0, "log": True, "levels": 3},
            "rerank.pool": {"low": 10, "high": 50, "levels": 5},
        },
    )
    grid = dict(space.params)["ease.l2"]
    assert isinstance(grid, Grid) and grid.values == (10.0, 100.0, 1000.0)
    assert dict(space.params)["rerank.pool"].values == (10, 20, 30, 40, 50)
    assert space.upper("rerank.pool") == 50 and space.lower("rerank.pool") == 10


def test_nested_tables_and_fixed_values():
    space = parse_space(
        {"model": ["itemknn"], "itemknn": {"k": 30, "shrinkage": {"low": 0.0, "high": 1.0}}}
    )
    assert dict(space.fixed) == {"model": "itemknn", "itemknn.k": 30}
    assert [n for n, _ in space.params] == ["itemknn.shrinkage"]


@pytest.mark.parametrize(
    "raw,match",
    [
        ({"model": "ease", "ease.l2": {"low": 100.0, "high": 10.0}}, "low <= high"),
        ({"model": "ease", "ease.l2": {"low": 0.0, "high": 10.0, "log": True}}, "low > 0"),
        ({"model": "ease", "ease.l2": {"low": 1.0}}, "needs both"),
        ({"model": "ease", "ease.l2": {"low": 1.0, "high": 2.0, "step": 1}}, "unknown key `step`"),
        ({"model": "svd"}, "unknown model `svd`"),
        ({"model": "ease", "itemknn.k": 3}, "not among the space's models"),
        ({"model": "ease", "ease.lam": 3.0}, "has no parameter `lam`"),
        ({"model": "ease", "rerank.temperature": 1.0}, "unknown re-rank term `temperature`"),
        ({"model": "ease", "rerank.diversity.tau": 1.0}, "term `diversity` has no parameter `tau`"),
        ({"model": ["ease", 3]}, "model names must be strings"),
        ({"ease.l2": 3.0}, "`model` is required"),
        ({"model": "ease", "ease.l2": {"low": "a", "high": 2}}, "must be a number"),
        ({"model": "ease", "rerank.pool": {"low": 5, "high": 9, "levels": 1}}, "levels >= 2"),
    ],
)
def test_space_errors_say_what_must_hold(raw, match):
    with pytest.raises(ConfigError, match=match):
        checked(raw)


def test_the_built_in_space_is_what_the_plug_ins_declare():
    space = default_space()
    models = [m for m in MODELS.in_order() if MODELS.get(m).default_space]
    assert space["model"] == models
    assert {"itemknn", "userknn", "ease", "als", "bpr", "content", "hybrid"} <= set(models)
    assert space["itemknn.k"] == {"low": 5, "high": 400, "log": True, "levels": 12}
    assert space["ease.l2"] == {"low": 10.0, "high": 10000.0, "log": True, "levels": 16}
    assert space["rerank.pool"] == {"low": 10, "high": 100}
    for model in models:  # every declared range and nothing else
        for p in declared_params(MODELS.get(model)):
            assert space.get(f"{model}.{p.name}") == p.search
    terms = {
        f"rerank.{t}" if p.name == "weight" else f"rerank.{t}.{p.name}"
        for t in TERMS.in_order()
        for p in declared_params(TERMS.get(t))
        if p.search
    }
    assert {"rerank.diversity", "rerank.calibration", "rerank.coverage"} <= terms
    assert set(space) == {"model", "rerank.pool"} | terms | {
        f"{m}.{p.name}" for m in models for p in declared_params(MODELS.get(m)) if p.search
    }


def test_repair_sets_inactive_coordinates_to_the_centre():
    space = parse_space(default_space())
    X = space.repair(np.random.default_rng(1).random((50, space.n_var)))
    names = [n for n, _ in space.params]
    for x in X:
        active = space.decode(x)  # the chosen model's parameters and its members'
        for j, name in enumerate(names):
            if "." in name and not name.startswith("rerank.") and name not in active:
                assert x[j] == 0.5
    # two points that decode alike are now identical vectors
    assert len({tuple(x) for x in X}) == len({tuple(sorted(space.decode(x).items())) for x in X})
