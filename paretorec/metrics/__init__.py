"""Metrics by name (``ndcg@10``, ``satisfaction@10``, ``cost``, ...) over a stage's lists.

Each metric declares its direction once; objectives read it from here. Per-user metrics are
averaged over the users that have a value, and the count is reported with the mean.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from paretorec.errors import ConfigError
from paretorec.metrics import beyond, ranking, rating
from paretorec.metrics.reference import Reference
from paretorec.metrics.truth import Judged, Truth
from paretorec.registry import Registry
from paretorec.rerank.similarity import ItemSimilarity

Direction = Literal["max", "min"]


@dataclass(eq=False)
class ListContext:
    """Everything a metric may read about one stage's recommendation lists.

    Attributes:
        lists: ``(n, K)`` recommended items per evaluated user (``-1`` = empty slot).
        truth: The held-out events of the same users, row-aligned with ``lists``.
        reference: The stage's training side (popularity, genres, similarity), same rows.
        ops: ``(n,)`` deterministic operation count of producing each user's list.
        ms_per_user: Measured wall milliseconds per user to produce the lists.
    """

    lists: np.ndarray
    truth: Truth
    reference: Reference
    ops: np.ndarray
    ms_per_user: float

    @cached_property
    def judged(self) -> Judged:
        return self.truth.judge(self.lists)

    @property
    def n_items(self) -> int:
        return self.reference.n_items

    @property
    def info(self) -> np.ndarray:
        return self.reference.info

    @property
    def similarity(self) -> ItemSimilarity:
        return self.reference.similarity

    def take(self, rows: np.ndarray) -> ListContext:
        """The same lists restricted to (or resampled by) ``rows`` of the users."""
        return ListContext(
            lists=self.lists[rows],
            truth=self.truth.take(rows),
            reference=self.reference.take(rows),
            ops=self.ops[rows],
            ms_per_user=self.ms_per_user,
        )


MetricFn = Callable[[ListContext, int], "np.ndarray | float"]


@dataclass(frozen=True)
class Metric:
    """A registered metric family.

    Attributes:
        name: Base name, e.g. ``ndcg``.
        direction: ``max`` or ``min``: which way is better.
        at_k: Whether the name takes a cut-off (``ndcg@10``) or not (``cost``).
        best: The best value the metric can take (anchors hypervolume normalisation), or None.
        worst: The worst value that still counts (the hypervolume reference), or None when it
            depends on the study (cost).
        fn: ``(context, k) -> (n,) per-user values or a scalar``.
        deterministic: False when the value is a wall-clock measurement.
        description: One line for ``--help`` and the README.
    """

    name: str
    direction: Direction
    at_k: bool
    best: float | None
    worst: float | None
    fn: MetricFn
    description: str
    deterministic: bool = True


METRICS: Registry[Metric] = Registry("metric")


# fmt: off
def _add(
    name: str,
    direction: Direction,
    fn: MetricFn,
    description: str,
    *,
    at_k: bool = True,
    best: float | None = 1.0,
    worst: float | None = 0.0,
    deterministic: bool = True,
) -> None:
    METRICS.add(name, Metric(name, direction, at_k, best, worst, fn, description, deterministic))


_add("precision", "max", lambda c, k: ranking.precision(c.judged.hit, k),
     "share of the top-k that is held out for the user")
_add("recall", "max", lambda c, k: ranking.recall(c.judged.hit, c.truth.n_relevant, k),
     "share of the user's held-out items found in the top-k")
_add("ndcg", "max", lambda c, k: ranking.ndcg(c.judged.hit, c.truth.n_relevant, k),
     "binary-gain NDCG: held-out items near the top")
_add("hit", "max", lambda c, k: ranking.hit_rate(c.judged.hit, k),
     "share of users with at least one held-out item in the top-k")
_add("satisfaction", "max",
     lambda c, k: rating.satisfaction(
         c.truth.gain(c.judged.rating), c.truth.ideal_positive_dcg(k), k),
     "rating-aware signed NDCG: liked items count, disliked ones subtract")
_add("ild", "max", lambda c, k: beyond.ild(c.lists, c.similarity, k),
     "intra-list diversity: mean genre dissimilarity of the pairs in a list")
_add("novelty", "max", lambda c, k: beyond.novelty(c.lists, c.info, k),
     "mean self-information (bits) of recommended items", best=None)
_add("coverage", "max", lambda c, k: beyond.coverage(c.lists, c.n_items, k),
     "share of the catalogue recommended to someone")
_add("cost", "min", lambda c, k: c.ops.astype(np.float64),
     "operations per request to score candidates and re-rank (deterministic)",
     at_k=False, best=0.0, worst=None)
_add("ms_per_user", "min", lambda c, k: c.ms_per_user,
     "measured wall milliseconds per user to produce the lists; noisy",
     at_k=False, best=0.0, worst=None, deterministic=False)

# fmt: on

_NAME = re.compile(r"^([a-z_]+)(?:@(\d+))?$")


@dataclass(frozen=True)
class MetricRef:
    """A metric with its cut-off, as written in configs and column names (``ndcg@10``)."""

    metric: Metric
    k: int | None

    @property
    def name(self) -> str:
        return self.metric.name if self.k is None else f"{self.metric.name}@{self.k}"

    def compute(self, ctx: ListContext) -> tuple[float, int]:
        """Mean over users with a value, and how many users that is."""
        value = self.metric.fn(ctx, self.k or 0)
        if np.ndim(value) == 0:
            return float(value), ctx.truth.n_users
        values = np.asarray(value, dtype=np.float64)
        present = values[~np.isnan(values)]
        return (float(present.mean()) if present.size else float("nan")), int(present.size)


def parse_metric(name: str) -> MetricRef:
    """``ndcg@10`` -> (ndcg, 10); ``cost`` -> (cost, None). Unknown names list the known ones."""
    match = _NAME.match(name.strip())
    if not match:
        raise ConfigError(f"metric `{name}` is not of the form name@k or name, e.g. ndcg@10")
    metric = METRICS.get(match.group(1))
    k = int(match.group(2)) if match.group(2) else None
    if metric.at_k and (k is None or k < 1):
        raise ConfigError(f"metric `{name}` needs a cut-off k >= 1, e.g. {metric.name}@10")
    if not metric.at_k and k is not None:
        raise ConfigError(f"metric `{metric.name}` takes no cut-off, got `{name}`")
    return MetricRef(metric, k)


__all__ = [
    "METRICS",
    "Direction",
    "ItemSimilarity",
    "Judged",
    "ListContext",
    "Metric",
    "MetricRef",
    "Reference",
    "Truth",
    "parse_metric",
]
