"""What the search engine needs from a problem, and nothing else.

The engine (``engine.run``) sees a ``Problem``: an encoding of points, a batch of evaluations,
objectives with directions and hypervolume bounds, constraints, starting points, and a
``Recipe`` that rebuilds it in a worker process. The recommender study
(``paretorec.study.Study``) and the known test problems (``testproblems``) both implement it;
the engine never asks which one it has.

Results are named columns: ``val_<name>`` for the search stage (``validation``), plus any
other stage the problem scores (``test_<name>``). An objective or constraint reads the
``val_`` column of its name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from paretorec.objectives import Objective
from paretorec.space import SearchSpace, Value

SEARCH_STAGE = "validation"


class Bound(Protocol):
    """A constraint: its result name and pymoo's ``G <= 0`` form of its values."""

    @property
    def name(self) -> str: ...

    def violation(self, values: np.ndarray) -> np.ndarray: ...


class Recipe(Protocol):
    """Picklable instructions that rebuild a problem in another process."""

    def build(self) -> Problem: ...


@runtime_checkable
class Problem(Protocol):
    """A multi-objective problem over a ``SearchSpace``.

    Attributes:
        space: The decision variables (every point is a unit vector of ``space.n_var``).
        objectives: Names, directions and hypervolume bounds (``best``, ``worst``).
        constraints: ``G <= 0`` bounds on named results.
        stages: The stages scored for every point (``validation`` first).
        front_stages: Stages scored afterwards, for the final front's points only.
        fits: Expensive model fits so far in this process (0 where there are none).
    """

    space: SearchSpace

    @property
    def objectives(self) -> Sequence[Objective]: ...

    @property
    def constraints(self) -> Sequence[Bound]: ...

    @property
    def stages(self) -> tuple[str, ...]: ...

    @property
    def front_stages(self) -> tuple[str, ...]: ...

    @property
    def fits(self) -> int: ...

    def columns(self) -> list[str]:
        """Every result column a point can have, in display order."""
        ...

    def evaluate(
        self, values: Mapping[str, Value], stages: Sequence[str] | None = None
    ) -> tuple[dict[str, float], bool]:
        """One point's result columns on ``stages`` (default ``stages``), and whether they
        were memoised in this process."""
        ...

    def start_points(self) -> np.ndarray | None:
        """Unit vectors the first population should hold (baselines), or None."""
        ...

    def recipe(self) -> Recipe:
        """How a worker process rebuilds this problem."""
        ...

    def warm_up(self) -> None:
        """Prepare what worker processes then load instead of each building it (compiled
        kernels); called in the parent before workers start."""
        ...

    def affinity(self, values: Mapping[str, Value]) -> tuple:
        """Points with equal affinity share expensive cached state (a fitted model): a
        parallel executor sends them to the same worker."""
        ...

    def metadata(self) -> dict[str, Any]:
        """What ``run.json`` records about the problem (dataset, split, baselines, ...)."""
        ...
