"""A study: one experiment config resolved into its space, objectives, data and pipeline.

``Study.prepare`` validates everything that does not need data first, so a typo in a config
fails in milliseconds, before any dataset is read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from paretorec.config import ExperimentConfig
from paretorec.data import DATASETS, Dataset, Split, load_dataset, make_split
from paretorec.errors import ConfigError
from paretorec.metrics import MetricRef, parse_metric
from paretorec.models import MODELS
from paretorec.objectives import Objective, make_objective
from paretorec.pipeline import Candidate, Pipeline, max_cost
from paretorec.space import SearchSpace, Value, parse_space

STAGE_PREFIX = {"validation": "val", "test": "test"}
TIMING = "ms_per_user"


@dataclass(frozen=True)
class Plan:
    """The data-free part of a study: what is searched and what is measured."""

    config: ExperimentConfig
    space: SearchSpace
    metrics: tuple[MetricRef, ...]  # objectives first, then recorded metrics, then timing

    @property
    def max_pool(self) -> int:
        return int(self.space.upper("rerank.pool"))


def plan(config: ExperimentConfig) -> Plan:
    """Check the config's names and bounds against the registries, without loading data."""
    from paretorec.optimize.algorithms import ALGORITHMS  # the optimizer imports this module

    ALGORITHMS.get(config.search.algorithm)
    DATASETS.get(config.data.dataset)
    space = parse_space(config.space, {m: MODELS.get(m) for m in MODELS})
    if "rerank.pool" not in space.names:
        space = SearchSpace(space.params, (*space.fixed, ("rerank.pool", 50)))
    k = config.evaluation.k
    low_pool = dict(space.params).get("rerank.pool")
    lowest = getattr(low_pool, "low", None) or dict(space.fixed).get("rerank.pool")
    if int(lowest) < k:  # type: ignore[arg-type]
        raise ConfigError(
            f"space `rerank.pool`: `pool >= evaluation.k` must hold, got {lowest} < {k}"
        )
    names = [o.metric for o in config.objectives] + list(config.evaluation.record)
    refs: list[MetricRef] = []
    for name in names:
        ref = parse_metric(name)
        if ref.k is not None and ref.k > k:
            raise ConfigError(
                f"metric `{name}`: `k <= evaluation.k` must hold (lists have {k} items)"
            )
        if ref.name not in [r.name for r in refs]:
            refs.append(ref)
    for o in config.objectives:  # bounds and directions; the cost bound needs data: placeholder
        placeholder = 1.0 if parse_metric(o.metric).name == "cost" else None
        make_objective(o.metric, o.direction, o.best, o.worst, study_worst=placeholder)
    if TIMING not in [r.name for r in refs]:
        refs.append(parse_metric(TIMING))
    return Plan(config, space, tuple(refs))


class Study:
    """A planned experiment bound to its data: evaluates search points on validation and test.

    Args:
        plan: The validated config.
        dataset: The loaded dataset.
        split: Its split (from ``config.split``).
    """

    def __init__(self, plan: Plan, dataset: Dataset, split: Split) -> None:
        self.plan = plan
        self.config = plan.config
        self.space = plan.space
        self.dataset = dataset
        self.split = split
        self.pipeline = Pipeline(dataset, split, self.config.evaluation.k, plan.max_pool)
        worst_cost = self._max_cost()
        self.objectives: tuple[Objective, ...] = tuple(
            make_objective(
                o.metric,
                o.direction,
                o.best,
                o.worst,
                study_worst=worst_cost if parse_metric(o.metric).name == "cost" else None,
            )
            for o in self.config.objectives
        )
        self._memo: dict[tuple, dict[str, float]] = {}

    @classmethod
    def prepare(cls, config: ExperimentConfig, data_dir: str | os.PathLike[str] | None) -> Study:
        """Plan (fast checks), load the dataset, split it."""
        p = plan(config)
        dataset = load_dataset(config.data, data_dir)
        split = make_split(dataset.interactions, config.split)
        return cls(p, dataset, split)

    def _max_cost(self) -> float:
        return max_cost(
            self.space.models(),
            self.plan.max_pool,
            self.config.evaluation.k,
            self.pipeline.stage("validation"),
            self.space.upper,
        )

    def columns(self) -> list[str]:
        """Result columns of a trial: ``val_<metric>`` and ``test_<metric>`` for every metric."""
        return [f"{STAGE_PREFIX[s]}_{m.name}" for m in self.plan.metrics for s in STAGE_PREFIX]

    def objective_columns(self, stage: str = "validation") -> list[str]:
        return [f"{STAGE_PREFIX[stage]}_{o.name}" for o in self.objectives]

    def evaluate(self, values: Mapping[str, Value]) -> tuple[dict[str, float], bool]:
        """Score one point on validation and test.

        Returns:
            The result columns, and whether they came from the memo (an identical point seen
            before in this process; its timing columns are then the earlier measurement).
        """
        key = tuple(sorted(values.items()))
        if key in self._memo:
            return self._memo[key], True
        candidate = Candidate.from_values(values)
        out: dict[str, float] = {}
        for stage, prefix in STAGE_PREFIX.items():
            result = self.pipeline.evaluate(stage, candidate, self.plan.metrics)
            out.update({f"{prefix}_{name}": v for name, v in result.items()})
        self._memo[key] = out
        return out, False


__all__ = ["Plan", "Study", "plan"]
