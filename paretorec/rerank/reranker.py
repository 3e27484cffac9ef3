"""The weighted re-ranker: relevance, an MMR diversity penalty and a novelty bonus.

For each user, items are picked greedily from the model's top-``pool`` candidates::

    value(i) = rel(i) + novelty * nov(i) - diversity * max_{j picked} sim(i, j)

``rel`` is the model score min-max normalised over the user's pool and ``nov`` the item's
self-information normalised to [0, 1], so the weights are comparable across models. With
``diversity == 0`` the greedy pick is a plain sort. All users are processed at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paretorec.errors import ConfigError
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
            if not value >= 0:
                raise ConfigError(f"`rerank.{name} >= 0` must hold, got {name}={value!r}")

    def ops(self, k: int) -> float:
        """Deterministic operation count of one user's re-rank (normalise, bonus, pick)."""
        pool = float(self.pool)
        pick = k * pool if self.diversity > 0 else pool * np.log2(max(self.pool, 2))
        return 2.0 * pool + pick


def rerank(
    items: np.ndarray,
    scores: np.ndarray,
    weights: RerankWeights,
    k: int,
    novelty: np.ndarray,
    similarity: ItemSimilarity,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick each user's top-``k`` list from their candidate pool.

    Args:
        items: ``(n, C)`` candidate items, best model score first, ``-1`` for no candidate;
            only the first ``weights.pool`` columns are used.
        scores: ``(n, C)`` model scores aligned with ``items``.
        weights: Pool size and term weights.
        k: List length.
        novelty: ``(n_items,)`` novelty of each item in [0, 1].
        similarity: Item-item similarity for the diversity penalty.

    Returns:
        ``(n, k)`` int32 items (``-1`` pads users with fewer than k candidates) and the
        ``(n, k)`` float64 value each item had when it was picked.
    """
    if k > weights.pool:
        raise ConfigError(f"`rerank.pool >= k` must hold, got pool={weights.pool}, k={k}")
    cand = items[:, : weights.pool]
    rel = scores[:, : weights.pool]
    valid = cand >= 0
    n_valid = valid.sum(axis=1)
    # Candidates are sorted best first with invalid slots last, so the pool's range is
    # first slot to last valid slot.
    hi = rel[:, :1]
    lo = rel[np.arange(len(rel)), np.maximum(n_valid - 1, 0)][:, None]
    span = np.where(hi > lo, hi - lo, 1.0)
    with np.errstate(invalid="ignore"):  # rows without any candidate are all -inf anyway
        value = (rel - lo) / span
    if weights.novelty:
        value += weights.novelty * novelty.take(cand, mode="clip")
    if n_valid.min() < cand.shape[1]:
        value[~valid] = -np.inf

    if not weights.diversity or k == 1:
        pick = np.argsort(-value, axis=1, kind="stable")[:, :k]  # ties: better model rank
        picked_value = np.take_along_axis(value, pick, axis=1)
    else:
        pick, picked_value = _greedy_mmr(value, cand, valid, weights.diversity, k, similarity)

    lists = np.take_along_axis(cand, np.maximum(pick, 0), axis=1).astype(np.int32)
    lists[~np.isfinite(picked_value)] = -1
    return lists, picked_value


def _greedy_mmr(
    value: np.ndarray,
    cand: np.ndarray,
    valid: np.ndarray,
    weight: float,
    k: int,
    similarity: ItemSimilarity,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy MMR picks, k steps each vectorised over all users.

    Works on ``marginal / weight = value / weight - max_sim`` and updates it with one minimum
    per step (``max`` over picked items distributes over the subtraction), so a step is one
    argmax, one similarity gather and two passes over ``(n, C)``; in the table's float32.
    """
    n, c = cand.shape
    rows = np.arange(n)
    n_profiles = similarity.table.shape[0]
    flat = similarity.table.ravel()
    profile = similarity.profile.take(cand, mode="clip").astype(np.intp)  # invalid: -inf anyway
    base = profile * n_profiles
    scaled = (value / weight).astype(flat.dtype)
    marginal = scaled.copy()
    sim = np.empty((n, c), dtype=flat.dtype)
    index = np.empty((n, c), dtype=np.intp)
    pick = np.empty((n, k), dtype=np.int64)
    picked = np.empty((n, k))
    for step in range(k):
        best = marginal.argmax(axis=1)
        pick[:, step] = best
        picked[:, step] = marginal[rows, best] * weight
        scaled[rows, best] = -np.inf
        np.add(base, profile[rows, best][:, None], out=index)
        flat.take(index, out=sim, mode="clip")  # in range by construction; clip skips checks
        np.subtract(scaled, sim, out=sim)
        np.minimum(marginal, sim, out=marginal)
    return pick, picked
