"""Known test problems (pymoo's ZDT and DTLZ) as engine problems.

They go through exactly the engine a recommender study uses (space encoding, algorithms, store,
executors), so their known Pareto fronts check the search side against pymoo's own runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pymoo.problems import get_problem

from paretorec.objectives import Objective, column
from paretorec.space import Real, SearchSpace, Value


@dataclass(frozen=True)
class TestProblemRecipe:
    """Rebuilds a test problem in a worker process."""

    __test__ = False  # not a pytest class despite the name

    name: str
    n_var: int | None = None
    n_obj: int | None = None

    def build(self) -> TestProblem:
        return TestProblem(self.name, self.n_var, self.n_obj)


class TestProblem:
    """A pymoo test problem as an engine ``Problem``.

    Args:
        name: pymoo problem name (``zdt1``, ``zdt2``, ``zdt3``, ``dtlz2``, ...).
        n_var: Number of variables (problem default if None).
        n_obj: Number of objectives for scalable problems (DTLZ).
    """

    __test__ = False  # not a pytest class despite the name
    stages = ("validation",)
    front_stages = ()
    fits = 0

    def __init__(self, name: str, n_var: int | None = None, n_obj: int | None = None) -> None:
        kwargs: dict[str, int] = {}
        if n_var is not None:
            kwargs["n_var"] = n_var
        if n_obj is not None:
            kwargs["n_obj"] = n_obj
        self.name, self.n_var_arg, self.n_obj_arg = name, n_var, n_obj
        self.problem = get_problem(name, **kwargs)
        xl, xu = self.problem.bounds()
        self.space = SearchSpace(
            tuple(
                (f"x{i}", Real(float(lo), float(hi)))
                for i, (lo, hi) in enumerate(zip(xl, xu, strict=True))
            )
        )
        front = self.problem.pareto_front()
        ideal, nadir = front.min(axis=0), front.max(axis=0)
        reference = nadir + 0.1 * (nadir - ideal)  # the usual 1.1 x nadir-style reference
        self.objectives = tuple(
            Objective(f"f{j + 1}", "min", float(ideal[j]), float(reference[j]))
            for j in range(self.problem.n_obj)
        )
        self.constraints: tuple = ()

    def columns(self) -> list[str]:
        return [column("validation", o.name) for o in self.objectives]

    def evaluate(
        self, values: Mapping[str, Value], stages: Sequence[str] | None = None
    ) -> tuple[dict[str, float], bool]:
        x = np.array([[float(values[f"x{i}"]) for i in range(self.space.n_var)]])
        F = self.problem.evaluate(x, return_values_of=["F"])[0]
        return {col: float(f) for col, f in zip(self.columns(), F, strict=True)}, False

    def start_points(self) -> np.ndarray | None:
        return None

    def recipe(self) -> TestProblemRecipe:
        return TestProblemRecipe(self.name, self.n_var_arg, self.n_obj_arg)

    def warm_up(self) -> None:
        pass

    def affinity(self, values: Mapping[str, Value]) -> tuple:
        return ()

    def metadata(self) -> dict[str, Any]:
        return {"problem": self.name, "dataset": {"name": self.name, "checksum": self.name}}
