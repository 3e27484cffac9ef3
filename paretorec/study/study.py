"""A study: one experiment config bound to its data, as a problem the search engine solves.

``Study`` measures the baselines (every model of the space at its defaults, no re-ranking),
anchors the hypervolume as each objective's metric declares, resolves constraints, and
evaluates search points on validation (and test). It implements the engine's ``Problem``
protocol (``paretorec.optimize.problem``) without importing the engine: a worker process
rebuilds it from its ``StudyRecipe``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from paretorec import names
from paretorec.config import ExperimentConfig, from_dict
from paretorec.data import Dataset, Split, load_dataset, make_split
from paretorec.data.locate import configured_dir
from paretorec.data.split import check_list_length
from paretorec.errors import ConfigError
from paretorec.metrics import MetricRef, parse_metric
from paretorec.models import MODELS, build_model, reference_model
from paretorec.models.base import available_memory
from paretorec.models.semantic import extra_installed
from paretorec.objectives import (
    STAGE_PREFIX,
    Constraint,
    Objective,
    column,
    make_objective,
    natural_bounds,
)
from paretorec.registry import declared_params
from paretorec.rerank import TERMS, RerankSettings, costliest, greedy, lazy
from paretorec.space import Value
from paretorec.study.candidate import Candidate
from paretorec.study.pipeline import CANDIDATE_BYTES, Pipeline, StageData
from paretorec.study.plan import Plan, model_domain, plan, term_defaults, term_domains


@dataclass(frozen=True)
class StudyRecipe:
    """How a worker process rebuilds a study: the config as plain data and the data folder."""

    config: dict[str, Any]
    data_dir: str | None = None

    def build(self) -> Study:
        return Study.prepare(from_dict(ExperimentConfig, self.config), self.data_dir)


_ABSOLUTE = re.compile(r"(?<![\w.~])/(?:[^\s/:;,'\"()]+/)*[^\s/:;,'\"()]+")


def portable(text: str) -> str:
    """``text`` with absolute paths made machine-independent for ``run.json`` (which gets
    committed and shared): relative to the working directory when under it, else the file
    with its folder (``.../ml-100k/u.data``)."""

    def shorten(match: re.Match[str]) -> str:
        path = Path(match.group(0))
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return f".../{'/'.join(path.parts[-2:])}" if len(path.parts) > 2 else str(path)

    return _ABSOLUTE.sub(shorten, text)


def _check_memory(users: int, pool: int) -> None:
    """Refuse, before the first fit, a pool whose candidate lists cannot fit in memory."""
    need = 2 * users * pool * CANDIDATE_BYTES  # validation and test
    free = available_memory()
    if free is not None and need > free:
        raise ConfigError(
            f"space `rerank.pool`: {users:,} users x pool {pool:,} need about "
            f"{need / 2**30:.1f} GiB per fitted model, {free / 2**30:.1f} GiB is available; "
            "lower `rerank.pool`'s high bound in [space]"
        )


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
        _check_memory(dataset.n_users, plan.max_pool)
        evaluation = self.config.evaluation
        self.pipeline = Pipeline(
            dataset, split, evaluation.k, plan.max_pool, similarity=evaluation.similarity
        )
        for model in self.space.models():  # what the data lacks is refused before any fit
            MODELS.get(model).check_data(self.pipeline.side, model_domain(self.space, model))
        self._check_terms()
        self._memo: dict[tuple, dict[str, float]] = {}
        self.data_dir: str | None = None

    @classmethod
    def prepare(cls, config: ExperimentConfig, data_dir: str | os.PathLike[str] | None) -> Study:
        """Plan (fast checks), load the dataset, split it."""
        p = plan(config)
        dataset = load_dataset(config.data, data_dir)
        check_list_length(dataset.interactions, config.evaluation.k)
        study = cls(p, dataset, make_split(dataset.interactions, config.split))
        study.data_dir = None if data_dir is None else str(data_dir)
        return study

    @property
    def fits(self) -> int:
        """Model fits so far (candidate-list cache misses)."""
        return self.pipeline.fits

    def _check_terms(self) -> None:
        """Every active term of the space has the item data it reads."""
        side = self.pipeline.side
        available = {
            "genres": side.genres is not None and side.genres[0].nnz > 0,
            "tags": side.tags is not None and side.tags[0].nnz > 0,
            "semantic": extra_installed(),
        }
        for term, params in term_domains(self.space).items():
            if max(float(w) for w in params.get("weight", (0.0,))) > 0:
                TERMS.get(term).check_data(available, params)

    def drain_fit_records(self) -> list:
        """The model fits made since the last call (``FitRecord``s), for ``run.json``."""
        return self.pipeline.drain_fit_records()

    # --- the engine's Problem protocol -----------------------------------------------------

    def recipe(self) -> StudyRecipe:
        """How a worker process rebuilds this study. A worker (a Dask worker above all) has
        neither this process's environment nor its working directory, so the recipe names the
        data folder ``$PARETOREC_DATA_DIR`` points at and the data files by absolute path."""
        config = self.config.to_dict()
        for key in ("path", "items"):
            if config["data"].get(key):
                config["data"][key] = os.path.abspath(config["data"][key])
        folder = configured_dir(self.data_dir)
        return StudyRecipe(config, None if folder is None else os.path.abspath(folder))

    def warm_up(self) -> None:
        """Compile the re-rank kernels (or load them from numba's cache) before workers start,
        so they read the cache instead of all writing it at once."""
        greedy.compile_now()
        lazy.compile_now()

    def affinity(self, values: Mapping[str, Value]) -> tuple:
        """What decides the expensive, cached state of an evaluation: the model fit."""
        return names.model_key(values)

    def start_points(self) -> np.ndarray | None:
        """The baselines, when the search starts from them."""
        return self.baseline_points() if self.config.search.start_from_baselines else None

    @property
    def stages(self) -> tuple[str, ...]:
        """Stages scored for every point: both, or validation only when test waits for the
        final front."""
        every = self.config.evaluation.test_scoring == "every"
        return ("validation", "test") if every else ("validation",)

    @property
    def front_stages(self) -> tuple[str, ...]:
        """Stages scored afterwards for the final front's points only."""
        return () if "test" in self.stages else ("test",)

    def columns(self) -> list[str]:
        """Result columns of a trial: ``val_<metric>`` and ``test_<metric>`` for every metric."""
        return [column(s, m.name) for m in self.plan.metrics for s in STAGE_PREFIX]

    def evaluate(
        self, values: Mapping[str, Value], stages: Sequence[str] | None = None
    ) -> tuple[dict[str, float], bool]:
        """Score one point on the given stages (default: ``stages``).

        Returns:
            The result columns, and whether they came from the memo (an identical point seen
            before in this process; its timing columns are then the earlier measurement).
        """
        stages = tuple(stages or self.stages)
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

    # --- baselines and anchors (computed on first use: worker processes never need them) ---

    @cached_property
    def baselines(self) -> dict[str, dict[str, float]]:
        """Validation values of the baselines: the points ``baseline_points`` puts in the first
        population (each model of the space at its defaults, no re-ranking), and the reference
        model with pool k even when the space leaves it out (it anchors the hypervolume)."""
        candidates = {
            str(values[names.MODEL]): Candidate.from_values(values)
            for values in map(self.space.decode, self.baseline_points())
        }
        reference = reference_model()
        if reference not in candidates:
            pool = max(self.config.evaluation.k, 1)
            candidates[reference] = Candidate(build_model(reference, {}), RerankSettings(pool))
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
        """The objectives with their hypervolume bounds (anchored as ``_anchor`` says)."""
        return tuple(
            make_objective(o.metric, o.direction, o.best, o.worst, *self._anchor(o.metric, o))
            for o in self.config.objectives or ()
        )

    def baseline_points(self) -> np.ndarray:
        """The baselines as unit vectors of this space: each model at its defaults (nearest
        grid value), the smallest pool, every term at its default (weight 0: off)."""
        points = []
        for name in self.space.models():
            values: dict[str, Value] = {
                names.MODEL: name,
                names.POOL_NAME: self.config.evaluation.k,
                **term_defaults(self.space),
            }
            for p in declared_params(MODELS.get(name)):
                values[names.model_param(name, p.name)] = p.default
            points.append(self.space.encode_nearest(values))
        return self.space.repair(np.array(points))

    def _best_baseline(self, ref: MetricRef) -> float:
        values = [v[ref.name] for v in self.baselines.values()]
        return float(max(values) if ref.metric.direction == "max" else min(values))

    def _anchor(self, metric: str, config: Any) -> tuple[float | None, float | None]:
        """``(best, worst)`` of an objective when the config sets none, as its metric
        declares (``Metric.anchor``, ``Metric.best_on``); None to use the metric's own.

        An objective that minimises a metric declared ``max`` (or the reverse) gets no anchor:
        its natural bounds swap instead.
        """
        ref = parse_metric(metric)
        direction = config.direction or ref.metric.direction
        if direction != ref.metric.direction:
            return None, None
        _, natural_worst = natural_bounds(ref, direction)
        anchor = ref.metric.anchor
        worst: float | None = None
        if anchor == "baseline":
            worst = self.baselines[reference_model()][ref.name]
        elif anchor == "costliest":
            limits = [
                c.limit for c in self.constraints if c.ref.name == ref.name and c.sense == "<="
            ]
            worst = min([self._costliest(), *limits])
        elif anchor == "worst_baseline" or natural_worst is None:
            values = [v[ref.name] for v in self.baselines.values()]
            worst = float(min(values) if direction == "max" else max(values))
        best = None
        if ref.metric.best_on is not None:
            best = ref.metric.best_on(self.pipeline.stage("validation").reference)
        return best, worst

    def _costliest(self) -> float:
        """Mean cost per request of the costliest configuration the space admits: every model
        at its parameters' upper bounds, the largest pool, every term at its largest weight."""
        data: StageData = self.pipeline.stage("validation")
        history = data.fit.history_length[data.users]
        pool, k = self.plan.max_pool, self.config.evaluation.k
        worst = 0.0
        for name in self.space.models():
            params = {}
            for p in declared_params(MODELS.get(name)):
                full = names.model_param(name, p.name)
                if full in self.space.names:
                    params[p.name] = self.space.upper(full)
            model = build_model(name, params)
            ops = model.scoring_ops(history, data.fit.n_items, pool)
            worst = max(worst, float(np.mean(ops)))
        weights = {
            names.parse(n).term: float(self.space.upper(n))  # type: ignore[arg-type]
            for n in self.space.names
            if names.parse(n).term is not None and names.parse(n).param == "weight"
        }
        return worst + costliest(pool, weights).ops(k)

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
                "cleaning": []
                if self.dataset.cleaning is None
                else [portable(line) for line in self.dataset.cleaning.lines()],
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
