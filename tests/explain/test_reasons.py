"""Why this point: each selector's reason starts with a plain-words line (what the pick
trades, against which neighbour, with numbers) and keeps its precise measure on the second
line. Fronts are hand-made so the neighbour and the numbers are known."""

import numpy as np
import pytest

from paretorec.objectives import make_objective, to_min
from paretorec.select import SELECTORS, FrontView, build_selector
from paretorec.select.plain import change_words, point_label

OBJS = (make_objective("ndcg@10"), make_objective("cost", anchor_worst=100.0))
LABELS = ("A", "B", "C", "D")


def _view(natural):
    natural = np.asarray(natural, dtype=float)
    return FrontView(to_min(OBJS, natural), natural, OBJS, LABELS[: len(natural)])


def _lines(selector, natural, **params):
    pick = build_selector(selector, **params).pick(_view(natural))
    plain, precise = pick.reason.split("\n")
    return pick.index, plain, precise


def test_knee_names_its_cheapest_move():
    # B (0.29, 10): moving to A saves 10x cost for -0.19 ndcg (give-up/gain 10.45 on the 0-1
    # scale); moving to C gains 0.01 ndcg for 10x cost (18.0): A is the best alternative
    index, plain, precise = _lines("knee", [[0.10, 1.0], [0.29, 10.0], [0.30, 100.0]])
    assert index == 1
    assert plain == (
        "Chosen because it is the front's knee: moving to the best alternative, A, would cost "
        "10x less but lower ndcg@10 by 0.19 (-66 %)."
    )
    assert precise.startswith(
        "knee of the front: moving to any other front point gives up at least 10.45x"
    )


def test_utopia_names_the_runner_up():
    # scaled distances: A 0.7071, B 0.2229, C 0.7071 (A first of the tie)
    index, plain, precise = _lines("utopia", [[0.10, 1.0], [0.25, 20.0], [0.30, 100.0]])
    assert index == 1
    assert plain.endswith(
        "the runner-up, A, would cost 20x less but lower ndcg@10 by 0.15 (-60 %)."
    )
    assert "weighted distance 0.2229" in precise and "the next is 0.7071" in precise


def test_weights_names_the_runner_up_by_pseudo_weights():
    # only ndcg counts: C (pseudo-weights 1, 0) wins, B (0.75, 0.25 by pymoo's formula) is next
    index, plain, precise = _lines(
        "weights", [[0.10, 1.0], [0.25, 20.0], [0.30, 100.0]], weights=[1.0, 0.0]
    )
    assert index == 2
    assert plain.endswith("the runner-up, B, would cost 5x less but lower ndcg@10 by 0.05 (-17 %).")
    assert precise.startswith("its pseudo-weights are closest to the requested weights")


def test_constraint_names_the_runner_up_inside_the_bounds():
    natural = [[0.10, 1.0], [0.285, 20.0], [0.29, 40.0], [0.30, 100.0]]
    index, plain, precise = _lines("constraint", natural, maximums=["cost=50"], then="max ndcg@10")
    assert index == 2
    assert plain == (
        "Chosen because 3 of 4 front points meet cost <= 50, and among them it has the highest "
        "ndcg@10 (0.29); the runner-up, B, would cost 2x less but lower ndcg@10 by 0.005 (-1.7 %)."
    )
    assert precise == "3 of 4 front points satisfy cost <= 50; among them the highest ndcg@10: 0.29"
    # an inner selector's plain line follows the bounds, labels kept through the subset
    index, plain, _ = _lines("constraint", natural, maximums=["cost=50"], then="utopia")
    assert "among them it is the closest to the ideal" in plain and "runner-up, A," in plain


@pytest.mark.parametrize("name", SELECTORS.available())
def test_every_built_in_selector_speaks_plainly_first(name):
    params = SELECTORS.get(name).example_params(OBJS)
    natural = [[0.10, 1.0], [0.29, 10.0], [0.30, 100.0]]
    plain, _ = build_selector(name, **params).pick(_view(natural)).reason.split("\n")
    assert plain.startswith("Chosen because") and ("would" in plain or "only" in plain)
    assert "scaled" not in plain and "pseudo" not in plain  # the jargon is on line two
    single = build_selector(name, **params).pick(_view([[0.2, 5.0]])).reason
    assert single.splitlines()[0].startswith("Chosen because")


def test_words_for_one_change():
    assert change_words("ndcg@10", 0.36, 0.364) == "raise ndcg@10 by 0.004 (+1.1 %)"
    assert change_words("cost", 131.0, 812.2) == "cost 6.2x as much"
    assert change_words("cost", 812.2, 131.0) == "cost 6.2x less"
    assert change_words("miscalibration@10", 0.8, 0.6) == "lower miscalibration@10 by 0.2 (-25 %)"
    assert point_label(
        {"model": "ease", "ease.l2": 398.1, "itemknn.k": None, "rerank.pool": 10}, 3
    ) == ("ease (l2=398.1), trial 3")
