import numpy as np
import pytest
from pymoo.mcdm.high_tradeoff import HighTradeoffPoints

from paretorec.errors import ConfigError
from paretorec.objectives import front_mask, hypervolume, make_objective, to_min
from paretorec.select import SELECTORS, FrontView, build_selector

OBJS = (make_objective("ndcg@10"), make_objective("cost", anchor_worst=100.0))


def _front(natural):
    natural = np.asarray(natural, dtype=float)
    return to_min(OBJS, natural), natural


def _view(F, natural=None):
    return FrontView(F, F if natural is None else natural, OBJS)


def knee(F, objectives):
    return build_selector("knee").pick(_view(F))


def utopia(F, objectives, weights=None):
    return build_selector("utopia", weights=weights).pick(_view(F))


def weighted(F, objectives, weights):
    return build_selector("weights", weights=weights).pick(_view(F))


def constraint(F, objectives, natural, minimums=(), maximums=(), then="knee"):
    selector = build_selector("constraint", minimums=minimums, maximums=maximums, then=then)
    return selector.pick(_view(F, natural))


def test_knee_of_an_obvious_elbow():
    # ndcg up, cost down: the middle point gets almost all the ndcg for little cost
    F, _ = _front([[0.10, 1.0], [0.29, 10.0], [0.30, 100.0]])
    s = knee(F, OBJS)
    assert s.index == 1 and "gives up at least" in s.reason


def test_knee_is_among_pymoo_high_tradeoff_points():
    t = np.linspace(0, 1, 41)
    # a front with a sharp knee at t = 0.5: f2 = 1 - t for t < .5, then drops slowly
    f1 = t
    f2 = np.where(t < 0.5, 1 - 1.8 * t, 0.1 - 0.2 * (t - 0.5))
    F = np.column_stack([f1, f2])
    assert front_mask(F).all()
    ours = knee(F, OBJS).index
    theirs = HighTradeoffPoints().do(F)
    assert theirs is not None and ours in set(theirs.tolist())


def test_utopia_and_weights():
    F, _ = _front([[0.10, 1.0], [0.25, 20.0], [0.30, 100.0]])
    assert utopia(F, OBJS).index == 1
    assert utopia(F, OBJS, [1.0, 0.0]).index == 2  # only ndcg counts
    assert weighted(F, OBJS, [1.0, 0.0]).index == 2
    assert weighted(F, OBJS, [0.0, 1.0]).index == 0
    with pytest.raises(ConfigError, match="non-negative"):
        utopia(F, OBJS, [1.0])


def test_constraint_then_extreme():
    F, natural = _front([[0.10, 1.0], [0.285, 20.0], [0.29, 40.0], [0.30, 100.0]])
    s = constraint(F, OBJS, natural, minimums=["ndcg@10=0.95*best"], then="min cost")
    assert s.index == 1 and "3 of 4 front points satisfy ndcg@10 >= 0.285" in s.reason
    s = constraint(F, OBJS, natural, maximums=["cost=50"], then="max ndcg@10")
    assert s.index == 2
    with pytest.raises(ConfigError, match="no front point satisfies"):
        constraint(F, OBJS, natural, minimums=["ndcg@10=0.5"])
    with pytest.raises(ConfigError, match="not an objective"):
        constraint(F, OBJS, natural, minimums=["recall@10=0.5"])
    with pytest.raises(ConfigError, match="FACTOR\\*best"):
        constraint(F, OBJS, natural, minimums=["ndcg@10>0.5"])
    s = constraint(F, OBJS, natural, maximums=["cost=50"], then="utopia")  # any selector
    assert s.index in (0, 1, 2) and "closest to the utopia point" in s.reason
    with pytest.raises(ConfigError, match="--then must be a selector"):
        constraint(F, OBJS, natural, maximums=["cost=50"], then="best")


def test_selector_parameters_are_checked():
    with pytest.raises(ConfigError, match="selector `knee` has no parameter `weights`"):
        build_selector("knee", weights=[1.0, 1.0])
    with pytest.raises(ConfigError, match="each a finite number"):
        build_selector("utopia", weights=[float("nan"), 1.0])


def test_selectors_are_registered_by_name():
    assert SELECTORS.available() == ["constraint", "knee", "utopia", "weights"]
    with pytest.raises(KeyError, match="available: constraint, knee"):
        SELECTORS.get("topsis")


def test_front_and_hypervolume_against_hand_values():
    F = np.array([[0.2, 0.5], [0.5, 0.2], [0.6, 0.6], [np.nan, 0.7]])  # NaN counts as worst
    assert front_mask(F).tolist() == [True, True, False, False]
    # union of [0.2,1]x[0.5,1] and [0.5,1]x[0.2,1] = 0.8*0.5 + 0.5*0.8 - 0.5*0.5
    assert hypervolume(F) == pytest.approx(0.55)
    assert hypervolume(np.array([[1.2, 0.1]])) == 0.0
