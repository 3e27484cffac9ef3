"""A study: one experiment config resolved into its space, objectives, data and pipeline.

``plan`` validates everything that does not need data first, so a typo in a config fails in
milliseconds, before any dataset is read. ``Study`` then binds the plan to data: it measures
the baselines (every model of the space at its defaults, no re-ranking), anchors the
hypervolume reference point, resolves constraints, and evaluates search points.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from paretorec.config import ExperimentConfig, SearchConfig
from paretorec.data import DATASETS, Dataset, Split, load_dataset, make_split
from paretorec.errors import ConfigError
from paretorec.metrics import MetricRef, parse_metric
from paretorec.models import MODELS, build_model
from paretorec.objectives import (
    STAGE_PREFIX,
    Constraint,
    ConstraintSpec,
    Objective,
    column,
    make_objective,
    natural_bounds,
    parse_constraint,
)
from paretorec.optimize.executors import TargetSpec
from paretorec.pipeline import Candidate, Pipeline, max_cost
from paretorec.rerank import RerankWeights
from paretorec.space import SearchSpace, Value, parse_space

TIMING = "ms_per_user"
BASELINE = "popularity"
# Objectives whose hypervolume reference is the popularity baseline: "better than recommending
# what is popular" is what a product team means by accuracy or satisfaction worth having.
BASELINE_ANCHORED = {"precision", "recall", "f1", "ndcg", "map", "mrr", "hit", "satisfaction"}


@dataclass(frozen=True)
class Plan:
    """The data-free part of a study: what is searched and what is measured."""

    config: ExperimentConfig
    space: SearchSpace
    metrics: tuple[MetricRef, ...]  # objectives, constraints, recorded metrics, timing
    constraints: tuple[ConstraintSpec, ...]

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
    _check_corners(space)
    k = config.evaluation.k
    lowest = int(space.lower("rerank.pool"))  # type: ignore[arg-type]
    if lowest < k:
        raise ConfigError(
            f"space `rerank.pool`: `pool >= evaluation.k` must hold, got pool={lowest}, k={k}"
        )
    if config.search.weights is not None and len(config.search.weights) != len(config.objectives):
        raise ConfigError(
            f"[search] weights: one per objective must hold, got {len(config.search.weights)} "
            f"for {len(config.objectives)} objectives"
        )
    constraints = tuple(parse_constraint(text) for text in config.constraints)
    names = (
        [o.metric for o in config.objectives]
        + [c.ref.name for c in constraints]
        + list(config.evaluation.record)
    )
    refs: list[MetricRef] = []
    for name in names:
        ref = parse_metric(name)
        if ref.k is not None and ref.k > k:
            raise ConfigError(
                f"metric `{name}`: `k <= evaluation.k` must hold (lists have {k} items)"
            )
        if ref.name not in [r.name for r in refs]:
            refs.append(ref)
    for o in config.objectives:  # directions and explicit bounds, before any data is read;
        # data-derived anchors are stood in for by a placeholder next to the known bound
        ref = parse_metric(o.metric)
        direction = o.direction or ref.metric.direction
        if direction not in ("max", "min"):
            raise ConfigError(
                f"objective `{o.metric}`: direction must be max or min, got {direction!r}"
            )
        sign = 1.0 if direction == "min" else -1.0
        natural_best, _ = natural_bounds(ref, direction)
        known = next((v for v in (o.best, natural_best) if v is not None), None)
        if known is None:
            known = o.worst - sign if o.worst is not None else 0.0
        make_objective(o.metric, o.direction, o.best, o.worst, known, known + sign)
    if TIMING not in [r.name for r in refs]:
        refs.append(parse_metric(TIMING))
    return Plan(config, space, tuple(refs), constraints)


def _check_corners(space: SearchSpace) -> None:
    """Build every model of the space at its parameters' lower and upper bounds, so a bound a
    model or the re-ranker rejects (``ease.l2 = 0``, a fractional ``itemknn.k``) fails now,
    not when the search first proposes it."""
    for model in space.models():
        for bound in (space.lower, space.upper):
            values: dict[str, Value] = {"model": model}
            for name in space.names:
                head = name.split(".", 1)[0]
                if name != "model" and head in ("rerank", model):
                    values[name] = bound(name)
            try:
                Candidate.from_values(values)
            except ConfigError as exc:
                raise ConfigError(f"space: {exc} (at the bounds of `{model}`)") from None


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
        self._memo: dict[tuple, dict[str, float]] = {}
        self.data_dir: str | None = None

    @classmethod
    def prepare(cls, config: ExperimentConfig, data_dir: str | os.PathLike[str] | None) -> Study:
        """Plan (fast checks), load the dataset, split it."""
        p = plan(config)
        dataset = load_dataset(config.data, data_dir)
        study = cls(p, dataset, make_split(dataset.interactions, config.split))
        study.data_dir = None if data_dir is None else str(data_dir)
        return study

    @property
    def search(self) -> SearchConfig:
        return self.config.search

    @property
    def fits(self) -> int:
        """Model fits so far (candidate-list cache misses)."""
        return self.pipeline.fits

    def spec(self) -> TargetSpec:
        """How a worker process rebuilds this study."""
        return TargetSpec("study", self.config_dict(), self.data_dir)

    # --- baselines and anchors (computed on first use: worker processes never need them) ---

    @cached_property
    def baselines(self) -> dict[str, dict[str, float]]:
        """Validation values of the baselines: the points ``baseline_points`` puts in the first
        population (each model of the space at its defaults, no re-ranking), and popularity
        with pool k even when the space leaves it out (it anchors the hypervolume)."""
        candidates = {
            str(values["model"]): Candidate.from_values(values)
            for values in map(self.space.decode, self.baseline_points())
        }
        if BASELINE not in candidates:
            pool = max(self.config.evaluation.k, 1)
            candidates[BASELINE] = Candidate(build_model(BASELINE, {}), RerankWeights(pool=pool))
        return {
            name: self.pipeline.evaluate("validation", candidate, self.plan.metrics)
            for name, candidate in candidates.items()
        }

    @cached_property
    def constraints(self) -> tuple[Constraint, ...]:
        """The config's constraints with ``best_baseline`` resolved to a number."""
        return tuple(
            spec.resolve(self._best_baseline(spec.ref)) if spec.relative else spec.resolve()
            for spec in self.plan.constraints
        )

    @cached_property
    def objectives(self) -> tuple[Objective, ...]:
        """The objectives with their hypervolume bounds (anchored as ``_anchors`` says)."""
        return tuple(
            make_objective(o.metric, o.direction, o.best, o.worst, best, worst)
            for o, (best, worst) in zip(self.config.objectives, self._anchors(), strict=True)
        )

    def baseline_points(self) -> np.ndarray:
        """The baselines as unit vectors of this space: each model at its defaults (nearest
        grid value), the smallest pool, no diversity or novelty weight."""
        k = self.config.evaluation.k
        points = []
        for name in self.space.models():
            values: dict[str, Value] = {
                "model": name,
                "rerank.pool": k,
                "rerank.diversity": 0.0,
                "rerank.novelty": 0.0,
            }
            default = MODELS.get(name)()
            for f in dataclasses.fields(default):
                values[f"{name}.{f.name}"] = getattr(default, f.name)
            points.append(self.space.encode_nearest(values))
        return self.space.repair(np.array(points))

    def _best_baseline(self, ref: MetricRef) -> float:
        values = [v[ref.name] for v in self.baselines.values()]
        return float(max(values) if ref.metric.direction == "max" else min(values))

    def _anchors(self) -> list[tuple[float | None, float | None]]:
        """``(best, worst)`` anchors of each objective for when the config sets none.

        Worst (the hypervolume reference): accuracy and satisfaction, the popularity baseline;
        cost, the costliest admissible configuration (the space's maximum, or a tighter cost
        constraint); other metrics, their natural worst, else the worst baseline.
        Best: the metric's natural best; novelty, whose best depends on the data, the largest
        self-information an item can have here.
        """
        anchors: list[tuple[float | None, float | None]] = []
        for o in self.config.objectives:
            ref = parse_metric(o.metric)
            direction = o.direction or ref.metric.direction
            flipped = direction != ref.metric.direction
            _, natural_worst = natural_bounds(ref, direction)
            worst: float | None = None
            if flipped:
                pass
            elif ref.metric.name in BASELINE_ANCHORED:
                worst = self.baselines[BASELINE][ref.name]
            elif ref.metric.name == "cost":
                limits = [
                    c.limit for c in self.constraints if c.ref.name == "cost" and c.sense == "<="
                ]
                worst = min([self._max_cost(), *limits])
            elif natural_worst is None:
                values = [v[ref.name] for v in self.baselines.values()]
                worst = float(min(values) if direction == "max" else max(values))
            best = None
            if ref.metric.name == "novelty" and not flipped:
                best = float(self.pipeline.stage("validation").reference.info.max())
            anchors.append((best, worst))
        return anchors

    def _max_cost(self) -> float:
        return max_cost(
            self.space.models(),
            self.plan.max_pool,
            self.config.evaluation.k,
            self.pipeline.stage("validation"),
            self.space.upper,
        )

    # --- what the run loop reads ------------------------------------------------------------

    def stages(self, scoring: str | None = None) -> tuple[str, ...]:
        """Stages scored during the search: both, or validation only when test waits for the
        final front."""
        mode = scoring or self.config.evaluation.test_scoring
        return ("validation", "test") if mode == "every" else ("validation",)

    def columns(self) -> list[str]:
        """Result columns of a trial: ``val_<metric>`` and ``test_<metric>`` for every metric."""
        return [column(s, m.name) for m in self.plan.metrics for s in STAGE_PREFIX]

    def objective_columns(self, stage: str = "validation") -> list[str]:
        return [column(stage, o.name) for o in self.objectives]

    def constraint_columns(self, stage: str = "validation") -> list[str]:
        return [column(stage, c.ref.name) for c in self.plan.constraints]

    def evaluate(
        self, values: Mapping[str, Value], stages: Sequence[str] | None = None
    ) -> tuple[dict[str, float], bool]:
        """Score one point on the given stages (default: as ``test_scoring`` says).

        Returns:
            The result columns, and whether they came from the memo (an identical point seen
            before in this process; its timing columns are then the earlier measurement).
        """
        stages = tuple(stages or self.stages())
        key = (tuple(sorted(values.items())), stages)
        if key in self._memo:
            return self._memo[key], True
        candidate = Candidate.from_values(values)
        out: dict[str, float] = {}
        for stage in stages:
            result = self.pipeline.evaluate(stage, candidate, self.plan.metrics)
            out.update({column(stage, name): v for name, v in result.items()})
        self._memo[key] = out
        return out, False

    def config_dict(self) -> dict[str, Any]:
        return self.config.to_dict()

    def metadata(self) -> dict[str, Any]:
        """The study's part of ``run.json``."""
        split = self.split
        return {
            "dataset": {
                "name": self.dataset.name,
                "checksum": self.dataset.checksum,
                "users": self.dataset.n_users,
                "items": self.dataset.n_items,
                "interactions": len(self.dataset.interactions),
                "cleaning": [] if self.dataset.cleaning is None else self.dataset.cleaning.lines(),
            },
            "split": {
                **dataclasses.asdict(self.config.split),
                "sizes": {
                    "train": len(split.train),
                    "validation": len(split.validation),
                    "test": len(split.test),
                },
                "users": {s: self.pipeline.stage(s).counts for s in ("validation", "test")},
            },
            "k": self.config.evaluation.k,
            "baselines": {
                name: {m: (None if np.isnan(v) else v) for m, v in values.items()}
                for name, values in self.baselines.items()
            },
            "constraints": [
                {"text": c.text, "metric": c.ref.name, "sense": c.sense, "limit": c.limit}
                for c in self.constraints
            ],
        }


__all__ = ["Plan", "Study", "plan"]
