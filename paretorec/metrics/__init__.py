"""Metrics by name (``ndcg@10``, ``satisfaction@10``, ``cost``, ...) over a stage's lists.

Each metric declares its direction once, and its best and worst values where it has natural
ones (they anchor hypervolume normalisation); objectives read them from here. Per-user metrics
are averaged over the users that have a value, and the count is reported with the mean.
Definitions and conventions live in the kernel modules: ``ranking`` (ranx's conventions),
``rating``, ``beyond``, ``popularity``, ``calibration``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import scipy.sparse as sp

from paretorec.data.features import ItemSimilarity
from paretorec.data.reference import Reference
from paretorec.errors import ConfigError
from paretorec.metrics import beyond, calibration, intent, popularity, ranking, rating
from paretorec.metrics.truth import Judged, Truth
from paretorec.privacy import mechanisms as privacy_mechanisms
from paretorec.registry import Registry

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
        prejudged: The truth of each slot when the producer already knows it (the pipeline
            looks every candidate up once per fitted model); None to look the lists up here.
        model_mb: Resident size of the fitted model that produced the lists, MiB.
        privacy_epsilon: ε of the differential privacy of the model that produced the
            lists (``inf``: not private).
    """

    lists: np.ndarray
    truth: Truth
    reference: Reference
    ops: np.ndarray
    ms_per_user: float
    prejudged: Judged | None = None
    model_mb: float = 0.0
    privacy_epsilon: float = float("inf")

    @cached_property
    def judged(self) -> Judged:
        return self.prejudged if self.prejudged is not None else self.truth.judge(self.lists)

    @property
    def n_items(self) -> int:
        return self.reference.n_items

    @property
    def info(self) -> np.ndarray:
        return self.reference.info

    @property
    def similarity(self) -> ItemSimilarity:
        return self.reference.similarity

    @property
    def n_relevant(self) -> np.ndarray:
        """``(n,)`` held-out items per user; warns once per truth when some user has none."""
        return self.truth.n_relevant_checked()

    def take(self, rows: np.ndarray) -> ListContext:
        """The same lists restricted to (or resampled by) ``rows`` of the users."""
        judged = self.prejudged
        return ListContext(
            lists=self.lists[rows],
            truth=self.truth.take(rows),
            reference=self.reference.take(rows),
            ops=self.ops[rows],
            ms_per_user=self.ms_per_user,
            prejudged=None if judged is None else Judged(judged.hit[rows], judged.rating[rows]),
            model_mb=self.model_mb,
            privacy_epsilon=self.privacy_epsilon,
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
        deterministic: False when the value is a wall-clock measurement (always recorded).
        description: One line for ``--help`` and the README.
        anchor: Where an objective on this metric puts its hypervolume reference (its "worst
            that still counts") when the config sets none: ``natural`` (``worst``),
            ``baseline`` (the reference model at its defaults: "better than recommending what
            is popular"), ``costliest`` (the costliest configuration the space admits) or
            ``worst_baseline`` (the worst of the baselines, for unbounded metrics).
        best_on: The best value on a stage when it depends on the data (novelty: the largest
            self-information an item has there), else None.
        span: ``(lowest, highest)`` value the metric can take, where it differs from its
            best and worst (satisfaction is signed: down to -1, while 0, "no evidence", is
            the worst that counts for hypervolume); None for the span best..worst.
    """

    name: str
    direction: Direction
    at_k: bool
    best: float | None
    worst: float | None
    fn: MetricFn
    description: str
    deterministic: bool = True
    anchor: str = "natural"
    best_on: Callable[[Reference], float] | None = None
    span: tuple[float | None, float | None] | None = None

    @property
    def value_range(self) -> tuple[float | None, float | None]:
        """``(lowest, highest)`` possible value; None where unbounded (or data-dependent)."""
        if self.span is not None:
            return self.span
        if self.best is None or self.worst is None:
            low = 0.0 if 0.0 in (self.best, self.worst) else None
            return (low, None)
        return (min(self.best, self.worst), max(self.best, self.worst))

    def __post_init__(self) -> None:
        if self.anchor not in ANCHORS:
            raise ValueError(f"metric `{self.name}`: anchor must be one of {ANCHORS}")
        if self.anchor == "natural" and self.worst is None:
            raise ValueError(f"metric `{self.name}`: a natural anchor needs a `worst` value")


ANCHORS = ("natural", "baseline", "costliest", "worst_baseline")


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
    anchor: str = "natural",
    best_on: Callable[[Reference], float] | None = None,
    span: tuple[float | None, float | None] | None = None,
) -> None:
    metric = Metric(
        name, direction, at_k, best, worst, fn, description, deterministic, anchor, best_on, span
    )
    METRICS.add(name, metric, description=description)


# Accuracy and satisfaction objectives are anchored to the reference model's lists: a point
# that does not beat recommending what is popular adds no hypervolume.
_ACCURACY = {"anchor": "baseline"}


def _accuracy(kernel: Callable[[np.ndarray, np.ndarray, int], np.ndarray]) -> MetricFn:
    return lambda c, k: kernel(c.judged.hit, c.n_relevant, k)


def _serendipity(c: ListContext, k: int) -> np.ndarray:
    expected = c.reference.popular_unseen(k)
    return beyond.serendipity(c.judged.hit, c.lists, expected, c.n_relevant, k)


def _alpha_ndcg(c: ListContext, k: int) -> np.ndarray:
    flags = _genre_flags(c.reference)
    if flags is None:
        c.reference.warn_once("no-genres-alpha", "alpha_ndcg needs item genres; none loaded (NaN)")
        return np.full(len(c.lists), np.nan)
    # the ideal depends on the truth only: once per truth object (a stage's, or a resample's)
    memo = c.reference._shared.setdefault("ideal_alpha_dcg", {})
    key = (id(c.truth.matrix), k)
    if key not in memo or memo[key][0] is not c.truth.matrix:
        if len(memo) > 8:
            memo.clear()
        memo[key] = (c.truth.matrix, intent.ideal_alpha_dcg(c.truth.matrix, flags, k))
    ideal = memo[key][1]
    top = c.lists[:, :k]
    valid = (top >= 0) & c.judged.hit[:, :k]
    genres = np.where(valid[:, :, None], flags[np.maximum(top, 0)], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ideal > 0, intent.alpha_dcg(genres, k) / ideal, np.nan)


def _genre_flags(reference: Reference) -> np.ndarray | None:
    features = reference.item_features
    if features is None:
        return None
    return reference._item_level(
        "genre_flags", lambda: (np.asarray(features.toarray()) > 0).astype(np.float64)
    )


def _srecall(c: ListContext, k: int) -> np.ndarray:
    flags, profile = _genre_flags(c.reference), c.reference.user_genres()
    if flags is None or profile is None:
        c.reference.warn_once("no-genres-srecall", "srecall needs item genres; none loaded (NaN)")
        return np.full(len(c.lists), np.nan)
    return intent.subtopic_recall(c.lists, flags, profile, k)


def _miscalibration(c: ListContext, k: int) -> np.ndarray:
    weights, profile = c.reference.genre_weights, c.reference.user_genres()
    if weights is None or profile is None:
        c.reference.warn_once("no-genres", "miscalibration needs item genres; none loaded (NaN)")
        return np.full(len(c.lists), np.nan)
    sparse = c.reference._item_level("genre_weights_csr", lambda: sp.csr_matrix(weights))
    values = calibration.miscalibration(c.lists, sparse, profile, k)
    if np.isnan(values).any():
        c.reference.warn_once(
            "no-genre-history",
            f"{int(np.isnan(values).sum())} users have no genre in their training history; "
            "miscalibration leaves them out (NaN)",
        )
    return values


_add("precision", "max", _accuracy(ranking.precision),
     "share of the top-k that is held out for the user", **_ACCURACY)
_add("recall", "max", _accuracy(ranking.recall),
     "share of the user's held-out items found in the top-k", **_ACCURACY)
_add("f1", "max", _accuracy(ranking.f1),
     "harmonic mean of precision@k and recall@k", **_ACCURACY)
_add("ndcg", "max", _accuracy(ranking.ndcg),
     "binary-gain NDCG: held-out items near the top", **_ACCURACY)
_add("map", "max", _accuracy(ranking.average_precision),
     "mean average precision: precision at each held-out item's rank, over all held-out items",
     **_ACCURACY)
_add("mrr", "max", _accuracy(ranking.reciprocal_rank),
     "mean reciprocal rank of the first held-out item in the top-k", **_ACCURACY)
_add("hit", "max", _accuracy(ranking.hit_rate),
     "share of users with at least one held-out item in the top-k", **_ACCURACY)
_add("satisfaction", "max",
     lambda c, k: rating.satisfaction(
         c.truth.gain(c.judged.rating), c.truth.ideal_positive_dcg(k), k),
     "rating-aware signed NDCG: liked items count, disliked ones subtract", **_ACCURACY,
     span=(-1.0, 1.0))
_add("ild", "max", lambda c, k: beyond.ild(c.lists, c.similarity, k),
     "intra-list diversity: mean genre dissimilarity of the pairs in a list")
_add("ild_cooc", "max", lambda c, k: beyond.ild_cooc(c.lists, c.reference.user_bits, k),
     "intra-list diversity: mean co-occurrence (training users) dissimilarity of the pairs")
_add("novelty", "max", lambda c, k: beyond.novelty(c.lists, c.info, k),
     "mean self-information (bits) of recommended items", best=None, worst=0.0,
     best_on=lambda ref: float(ref.info.max()))
_add("coverage", "max", lambda c, k: beyond.coverage(c.lists, c.n_items, k),
     "share of the catalogue recommended to someone")
_add("serendipity", "max", _serendipity,
     "share of the top-k that is held out and not in the user's most-popular-unseen top-k")
_add("gini", "min", lambda c, k: popularity.gini(c.lists, c.n_items, k),
     "Gini index of catalogue exposure: 0 even, 1 one item gets every slot", best=0.0, worst=1.0)
_add("arp", "min", lambda c, k: beyond.slot_mean(c.lists, c.reference.item_counts, k),
     "average recommendation popularity: mean training users of recommended items",
     best=0.0, worst=None, anchor="worst_baseline")
_add("aplt", "max",
     lambda c, k: beyond.slot_mean(c.lists, c.reference.long_tail.astype(np.float64), k),
     "average share of each list outside the short head (items holding 80% of interactions)")
_add("alpha_ndcg", "max", _alpha_ndcg,
     "α-NDCG with genres as subtopics (α = 0.5): held-out items that cover genres the list "
     "has not covered yet", **_ACCURACY)
_add("srecall", "max", _srecall,
     "subtopic recall: share of the genres of the user's history the top-k covers")
_add("miscalibration", "min", _miscalibration,
     "Steck's KL of the list's genre mix from the user's history (alpha = 0.01), nats",
     best=0.0, worst=float(np.log(1.0 / calibration.ALPHA)))
_add("cost", "min", lambda c, k: c.ops.astype(np.float64),
     "operations per request to score candidates and re-rank (deterministic)",
     at_k=False, best=0.0, worst=None, anchor="costliest")
_add("memory_mb", "min", lambda c, k: c.model_mb,
     "resident size of the fitted model (its arrays), MiB; deterministic for a dataset",
     at_k=False, best=0.0, worst=None, anchor="worst_baseline")
_add("ms_per_user", "min", lambda c, k: c.ms_per_user,
     "measured wall milliseconds per user to produce the lists; noisy",
     at_k=False, best=0.0, worst=None, deterministic=False,
     anchor="worst_baseline")
_add("privacy_epsilon", "min",
     lambda c, k: min(c.privacy_epsilon, privacy_mechanisms.EPSILON_CAP),
     "ε of the model's differential privacy per user; non-private models (ε = ∞) record "
     "the cap, 100", at_k=False, best=0.0, worst=privacy_mechanisms.EPSILON_CAP)

# fmt: on

_NAME = re.compile(r"^([a-z][a-z0-9_]*)(?:@(\d+))?$")


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
        if not present.size:
            return float("nan"), 0
        # what ndarray.mean computes, without its Python-level wrapper (a search calls this
        # a few times per evaluation)
        return float(np.add.reduce(present) / present.size), int(present.size)


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
