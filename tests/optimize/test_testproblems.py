"""The engine on known problems: through the same space, algorithms and store as a study,
NSGA-II and MOPSO reach pymoo's own IGD (within 10%) with the same budget and seed."""

import numpy as np
import pytest
from pymoo.algorithms.moo.mopso_cd import MOPSO_CD
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.indicators.igd import IGD
from pymoo.optimize import minimize

from paretorec.config import SearchConfig
from paretorec.optimize import run_search
from paretorec.optimize.testproblems import TestProblemTarget
from paretorec.select.pareto import front_mask

POP, GENS = 40, 30


@pytest.mark.parametrize(
    "problem,n_obj", [("zdt1", None), ("zdt2", None), ("zdt3", None), ("dtlz2", 3)]
)
@pytest.mark.parametrize("algorithm", ["nsga2", "mopso"])
def test_igd_within_10_percent_of_pymoo(tmp_path, problem, n_obj, algorithm):
    ratios = []
    for seed in (1, 2, 3):
        search = SearchConfig(algorithm=algorithm, population=POP, generations=GENS, seed=seed)
        target = TestProblemTarget(problem, search, n_obj=n_obj)
        frame = run_search(target, tmp_path / f"{algorithm}-{seed}", progress=False)
        assert len(frame) == POP * GENS
        F = frame[target.objective_columns()].to_numpy()
        front = target.problem.pareto_front()
        ours = IGD(front)(F[front_mask(F)])
        pymoo_algorithm = NSGA2(pop_size=POP) if algorithm == "nsga2" else MOPSO_CD(pop_size=POP)
        result = minimize(target.problem, pymoo_algorithm, ("n_gen", GENS), seed=seed)
        ratios.append(ours / IGD(front)(result.F))
    assert np.median(ratios) <= 1.10, ratios


def test_every_algorithm_runs_through_the_engine(tmp_path):
    for name in ("nsga2", "nsga3", "mopso", "random", "sobol", "lhs", "weighted"):
        search = SearchConfig(algorithm=name, population=12, generations=4, seed=0)
        target = TestProblemTarget("zdt1", search)
        a = run_search(target, tmp_path / f"{name}-a", progress=False)
        b = run_search(target, tmp_path / f"{name}-b", progress=False)
        assert len(a) == 48
        cols = target.objective_columns()
        assert np.array_equal(a[cols].to_numpy(), b[cols].to_numpy()), name  # seeded
