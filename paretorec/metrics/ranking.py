"""Accuracy metrics over judged ``(n, K)`` lists; every held-out item counts as relevant.

Conventions are ranx's (``ranx/metrics/*.py``, itself trec_eval's), checked per user to 1e-9 by
the oracle test. With ``h_k`` the hits in the first k slots and ``R`` the user's held-out items:

- ``precision@k = h_k / k``: the divisor is k even when the list is shorter (missing or ``-1``
  slots are misses, as ranx counts a short run).
- ``recall@k = h_k / R``.
- ``f1@k = 2 h_k / (k + R)``, the harmonic mean of the two above (0 when ``h_k = 0``).
- ``ndcg@k``: binary gains, ``1 / log2(rank + 1)`` discount (Järvelin & Kekäläinen), divided by
  the ideal DCG of ``min(k, R)`` hits.
- ``map@k = sum of precision@r over the hit ranks r <= k, divided by R`` (not by ``min(k, R)``:
  ranx and trec_eval keep R, so a user with more held-out items than k cannot reach 1).
- ``mrr@k = 1 / rank`` of the first hit within k, 0 without one.
- ``hit@k`` (ranx ``hit_rate``): 1 when any of the first k slots is a hit.

A user without held-out items (``R = 0``) gets NaN, not ranx's 0: callers leave such users out
and say how many (ranx only ever scores queries that have qrels).
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def discount(k: int) -> np.ndarray:
    """``1 / log2(rank + 1)`` for ranks 1..k (cached, read-only: every evaluation asks)."""
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    disc.flags.writeable = False
    return disc


@cache
def _ideal_dcg(k: int) -> np.ndarray:
    """Binary ideal DCG of 1..k relevant items."""
    ideal = np.cumsum(discount(k))
    ideal.flags.writeable = False
    return ideal


def _defined(n_relevant: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.where(n_relevant > 0, values, np.nan)


def _hits(hit: np.ndarray, k: int) -> np.ndarray:
    return np.count_nonzero(hit[:, :k], axis=1).astype(np.float64)


def precision(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` share of the first k slots that hold a held-out item.

    Args:
        hit: ``(n, K)`` True where the slot's item is held out for the user.
        n_relevant: ``(n,)`` held-out items per user.
        k: Cut-off.
    """
    return _defined(n_relevant, _hits(hit, k) / k)


def recall(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` share of each user's held-out items found in the first k slots."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return _defined(n_relevant, _hits(hit, k) / n_relevant)


def f1(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` harmonic mean of precision@k and recall@k, ``2 h / (k + R)``."""
    return _defined(n_relevant, 2.0 * _hits(hit, k) / (k + n_relevant))


def hit_rate(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` 1.0 where at least one of the first k slots is a held-out item."""
    return _defined(n_relevant, hit[:, :k].any(axis=1).astype(np.float64))


def ndcg(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` binary-gain NDCG@k."""
    width = min(k, hit.shape[1])
    disc = discount(k)
    dcg = hit[:, :width] @ disc[:width]
    ideal = _ideal_dcg(k).take(np.minimum(n_relevant, k) - 1, mode="clip")  # R = 0: NaN below
    return _defined(n_relevant, dcg / ideal)


def average_precision(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` AP@k: precision at each hit rank within k, summed, over all R held-out items."""
    top = hit[:, :k]
    precision_at = np.cumsum(top, axis=1) / np.arange(1, top.shape[1] + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _defined(n_relevant, np.where(top, precision_at, 0.0).sum(axis=1) / n_relevant)


def reciprocal_rank(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` ``1 / rank`` of the first held-out item within k slots, 0 when there is none."""
    top = hit[:, :k]
    first = np.argmax(top, axis=1)  # 0 for a row without hits, masked below
    return _defined(n_relevant, np.where(top.any(axis=1), 1.0 / (first + 1.0), 0.0))
