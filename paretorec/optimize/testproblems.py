"""Known test problems (pymoo's ZDT and DTLZ) as run-loop targets.

They go through exactly the engine a recommender study uses (space encoding, algorithms, store,
executors), so their known Pareto fronts check the search side against pymoo's own runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from pymoo.problems import get_problem

from paretorec.config import SearchConfig, from_dict
from paretorec.objectives import Objective, column
from paretorec.optimize.executors import TargetSpec
from paretorec.space import Real, SearchSpace, Value


class TestProblemTarget:
    """A pymoo test problem behind the study interface the run loop reads.

    Args:
        name: pymoo problem name (``zdt1``, ``zdt2``, ``zdt3``, ``dtlz2``, ...).
        search: The search settings.
        n_var: Number of variables (problem default if None).
        n_obj: Number of objectives for scalable problems (DTLZ).
    """

    __test__ = False  # not a pytest class despite the name

    def __init__(
        self, name: str, search: SearchConfig, n_var: int | None = None, n_obj: int | None = None
    ) -> None:
        kwargs: dict[str, int] = {}
        if n_var is not None:
            kwargs["n_var"] = n_var
        if n_obj is not None:
            kwargs["n_obj"] = n_obj
        self.name, self.n_var_arg, self.n_obj_arg = name, n_var, n_obj
        self.problem = get_problem(name, **kwargs)
        self.search = search
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
        self.fits = 0

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> TestProblemTarget:
        return cls(
            payload["problem"],
            from_dict(SearchConfig, payload["search"]),
            payload.get("n_var"),
            payload.get("n_obj"),
        )

    def stages(self, scoring: str | None = None) -> tuple[str, ...]:
        return ("validation",)

    def columns(self) -> list[str]:
        return self.objective_columns()

    def objective_columns(self, stage: str = "validation") -> list[str]:
        return [column(stage, o.name) for o in self.objectives]

    def constraint_columns(self, stage: str = "validation") -> list[str]:
        return []

    def evaluate(
        self, values: Mapping[str, Value], stages: Sequence[str] | None = None
    ) -> tuple[dict[str, float], bool]:
        x = np.array([[float(values[f"x{i}"]) for i in range(self.space.n_var)]])
        F = self.problem.evaluate(x, return_values_of=["F"])[0]
        return {col: float(f) for col, f in zip(self.objective_columns(), F, strict=True)}, False

    def config_dict(self) -> dict[str, Any]:
        return {
            "problem": self.name,
            "n_var": self.n_var_arg,
            "n_obj": self.n_obj_arg,
            "search": dataclasses.asdict(self.search),
        }

    def metadata(self) -> dict[str, Any]:
        return {"problem": self.name, "dataset": {"name": self.name, "checksum": self.name}}

    def spec(self) -> TargetSpec:
        return TargetSpec("test-problem", self.config_dict())
