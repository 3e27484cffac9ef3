"""The weighted re-ranker: relevance, an MMR diversity penalty and a novelty bonus.

For each user, items are picked greedily from the model's top-``pool`` candidates::

    value(i) = rel(i) + novelty * nov(i) - diversity * max_{j picked} sim(i, j)

``rel`` is the model score min-max normalised over the user's pool and ``nov`` the item's
self-information normalised to [0, 1], so the weights are comparable across models. With
``diversity == 0`` the picks are the k best values. The picks are compiled (``greedy.py``).
A diversity weight so small that ``value / weight`` would overflow float32 (below about 1e-38)
re-ranks as weight 0: its penalty is below the resolution of the values anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from paretorec.errors import ConfigError
from paretorec.rerank import greedy
from paretorec.rerank.pool import CandidatePool
from paretorec.rerank.similarity import ItemSimilarity


@dataclass(frozen=True)
class RerankWeights:
    """The re-ranking decision variables.

    Attributes:
        pool: Candidates per user taken from the model, ``pool >= k``.
        diversity: Weight of the MMR redundancy penalty, ``>= 0``.
        novelty: Weight of the novelty bonus, ``>= 0``.
    """

    pool: int = 50
    diversity: float = 0.0
    novelty: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.pool, int | np.integer) and self.pool > 0):
            raise ConfigError(f"`rerank.pool > 0` (an integer) must hold, got {self.pool!r}")
        for name in ("diversity", "novelty"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ConfigError(f"`rerank.{name} >= 0` (finite) must hold, got {name}={value!r}")

    def ops(self, k: int) -> float:
        """Deterministic operation count of one user's re-rank (normalise, bonus, pick): the
        cost model of the ``cost`` objective, a sort's ``pool log2 pool`` without diversity and
        ``k x pool`` with it, whatever the implementation does."""
        pool = float(self.pool)
        pick = k * pool if self.diversity > 0 else pool * np.log2(max(self.pool, 2))
        return 2.0 * pool + pick


@dataclass(frozen=True, eq=False)
class Reranked:
    """Each user's top-k list.

    Attributes:
        items: ``(n, k)`` int32 items, best first (``-1`` pads users with fewer than k
            candidates).
        values: ``(n, k)`` float64 value each item had when it was picked (``-inf`` pads).
        slots: ``(n, k)`` flat index of each pick into the pool's position-major arrays
            (``position * n + user``; pads point at the empty last row), so any per-candidate
            fact gathers into the lists with one ``take``.
    """

    items: np.ndarray
    values: np.ndarray
    slots: np.ndarray


def rerank(
    pool: CandidatePool, weights: RerankWeights, k: int, similarity: ItemSimilarity
) -> Reranked:
    """Pick each user's top-``k`` list from the first ``weights.pool`` candidates.

    Args:
        pool: The model's candidates, position-major (built once per fitted model).
        weights: Pool size and term weights.
        k: List length.
        similarity: Item-item similarity for the diversity penalty (the one ``pool`` was
            built with).
    """
    if k > weights.pool:
        raise ConfigError(f"`rerank.pool >= k` must hold, got pool={weights.pool}, k={k}")
    if weights.pool > pool.size:
        raise ConfigError(
            f"`rerank.pool <= {pool.size}` must hold here (candidates generated), "
            f"got {weights.pool}"
        )
    if similarity.table.shape[0] != pool.n_profiles:
        raise ValueError(
            f"the pool was built with {pool.n_profiles} similarity profiles, this similarity "
            f"has {similarity.table.shape[0]}: pass the ItemSimilarity the pool was built with"
        )
    p = weights.pool
    lo, span = pool.relevance_range(p)
    if not weights.diversity or k == 1 or _overflows(weights):
        slots, values = greedy.plain(
            pool.scores, lo, span, pool.novelty, float(weights.novelty), p, k, pool.size
        )
    else:
        slots, values = greedy.mmr(
            pool.scores,
            lo,
            span,
            pool.novelty,
            float(weights.novelty),
            float(weights.diversity),
            p,
            k,
            pool.profile,
            pool.profile_rows,
            similarity.table.ravel(),
            pool.size,
        )
    return Reranked(items=pool.gather(pool.items, slots), values=values, slots=slots)


_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _overflows(weights: RerankWeights) -> bool:
    """Whether ``value / diversity`` can leave float32 (``|value| <= 1 + novelty``)."""
    return (1.0 + weights.novelty) / weights.diversity > _FLOAT32_MAX
