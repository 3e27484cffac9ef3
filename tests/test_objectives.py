import numpy as np
import pytest

from paretorec.errors import ConfigError
from paretorec.objectives import from_min, make_objective, normalise, to_min


def test_directions_flip_once_and_back():
    objs = [make_objective("ndcg@10"), make_objective("cost", anchor_worst=1000.0)]
    natural = np.array([[0.3, 200.0], [0.1, 50.0]])
    F = to_min(objs, natural)
    assert F.tolist() == [[-0.3, 200.0], [-0.1, 50.0]]
    assert np.array_equal(from_min(objs, F), natural)
    assert np.allclose(normalise(objs, F), [[0.7, 0.2], [0.9, 0.05]])
    assert objs[0].label() == "ndcg@10 (higher is better)"


def test_overriding_direction_swaps_the_natural_bounds():
    o = make_objective("novelty@10", "min", best=0.0, worst=10.0)
    assert (o.direction, o.best, o.worst) == ("min", 0.0, 10.0)
    with pytest.raises(ConfigError, match="best` must be better"):
        make_objective("ndcg@10", best=0.0, worst=1.0)
