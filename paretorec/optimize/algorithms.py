"""Search algorithms by name, each built from the config's search section and the space."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.core.algorithm import Algorithm
from pymoo.core.repair import Repair
from pymoo.operators.sampling.rnd import FloatRandomSampling

from paretorec.config import SearchConfig
from paretorec.registry import Registry
from paretorec.space import SearchSpace


class SpaceRepair(Repair):
    """Clip to the unit cube and snap integer and choice coordinates to their cell centres."""

    def __init__(self, space: SearchSpace) -> None:
        super().__init__()
        self.space = space

    def _do(self, problem, X, **kwargs):
        return self.space.repair(np.asarray(X, dtype=np.float64))


AlgorithmFactory = Callable[[SearchConfig, SearchSpace], Algorithm]
ALGORITHMS: Registry[AlgorithmFactory] = Registry("algorithm")


@ALGORITHMS.register("nsga2")
def _nsga2(search: SearchConfig, space: SearchSpace) -> Algorithm:
    return NSGA2(
        pop_size=search.population,
        sampling=FloatRandomSampling(),
        repair=SpaceRepair(space),
        eliminate_duplicates=True,
    )
