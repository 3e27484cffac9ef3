"""Choice-aware variation: choices and grids are exchanged and reset, never blended; a space of
reals gets pymoo's own operators."""

import numpy as np
from pymoo.core.population import Population
from pymoo.core.problem import Problem

from paretorec.config import SearchConfig
from paretorec.optimize.algorithms import (
    ALGORITHMS,
    ChoiceCrossover,
    ChoiceMutation,
    choice_columns,
    variation,
)
from paretorec.space import Real, SearchSpace, parse_space
from paretorec.study import default_space


def _unit_problem(n_var: int) -> Problem:
    return Problem(n_var=n_var, n_obj=2, xl=0.0, xu=1.0)


def test_a_space_of_reals_keeps_pymoos_operators():
    space = SearchSpace(tuple((f"x{i}", Real(0.0, 1.0)) for i in range(3)))
    assert not choice_columns(space).any()
    assert variation(space) == {}


def test_choice_and_grid_columns_of_the_default_space():
    raw = default_space()
    space = parse_space(raw)
    names = [name for name, _ in space.params]
    # lists are choices and ranges with levels are grids; continuous ranges are neither
    expected = {n for n, spec in raw.items() if isinstance(spec, list) or "levels" in spec}
    assert {"model", "itemknn.k", "ease.l2", "hybrid.first"} <= expected
    assert [names[j] for j in np.flatnonzero(choice_columns(space))] == [
        n for n in names if n in expected
    ]
    assert set(variation(space)) == {"crossover", "mutation"}


def test_crossover_children_take_a_parents_cell_on_choice_coordinates():
    space = parse_space(default_space())
    choices = choice_columns(space)
    rng = np.random.default_rng(0)
    X = space.repair(rng.random((40, space.n_var)))
    parents = np.arange(40).reshape(20, 2)
    off = ChoiceCrossover(choices).do(
        _unit_problem(space.n_var), Population.new("X", X), parents, random_state=rng
    )
    children = off.get("X").reshape(2, 20, -1)  # pymoo stacks first children, then second
    for k, (a, b) in enumerate(parents):
        for child in children[:, k]:
            on_a, on_b = child[choices] == X[a, choices], child[choices] == X[b, choices]
            assert np.all(on_a | on_b)
    ordered = ~choices  # SBX still blends ordered coordinates
    assert not np.isin(children[:, :, ordered], X[:, ordered]).all()


def test_mutation_redraws_choice_coordinates_uniformly():
    space = parse_space(default_space())
    choices = choice_columns(space)
    model = [name for name, _ in space.params].index("model")
    n = len(space.models())
    centres = (np.arange(n) + 0.5) / n
    X = np.full((3000, space.n_var), 0.5)
    X[:, model] = centres[0]  # every point: the first model
    rng = np.random.default_rng(1)
    mutated = ChoiceMutation(choices).do(
        _unit_problem(space.n_var), Population.new("X", X), random_state=rng
    )
    models = space.repair(mutated.get("X"))[:, model]
    changed = models != centres[0]
    # reset with probability 0.9 (individual) x 1/n_var, landing on another of n cells
    # (n-1)/n of the time, and on every other cell
    assert abs(changed.mean() - 0.9 / space.n_var * (n - 1) / n) < 0.02
    assert set(np.round(models[changed], 6)) == set(np.round(centres[1:], 6))


def test_cmopso_redraws_choices_and_keeps_pymoos_mutation_on_reals():
    space = parse_space(default_space())
    algorithm = ALGORITHMS.get("cmopso")(SearchConfig(algorithm="cmopso"), space, [], None)
    assert isinstance(algorithm.mutation, ChoiceMutation)
    assert algorithm.mutation.prob.value == 0.5  # CMOPSO's rate
    assert np.array_equal(algorithm.mutation.choices, choice_columns(space))
    reals = SearchSpace(tuple((f"x{i}", Real(0.0, 1.0)) for i in range(3)))
    plain = ALGORITHMS.get("cmopso")(SearchConfig(algorithm="cmopso"), reals, [], None)
    assert not isinstance(plain.mutation, ChoiceMutation)
