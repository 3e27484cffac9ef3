"""Accuracy metrics over judged ``(n, K)`` lists; every held-out item counts as relevant.

Conventions match ranx (and trec_eval): precision divides by k, recall by the number of
held-out items, NDCG uses binary gains with a log2(rank + 1) discount and the ideal DCG of
``min(k, n_relevant)`` hits. A user without held-out items gets NaN (not 0): callers exclude
such users and say how many.
"""

from __future__ import annotations

import numpy as np


def _discount(k: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, k + 2))


def precision(hit: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` share of the first k slots that hold a held-out item."""
    return hit[:, :k].sum(axis=1) / k


def recall(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` share of each user's held-out items found in the first k slots."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_relevant > 0, hit[:, :k].sum(axis=1) / n_relevant, np.nan)


def hit_rate(hit: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` 1.0 where at least one of the first k slots is a held-out item."""
    return hit[:, :k].any(axis=1).astype(np.float64)


def ndcg(hit: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` binary-gain NDCG@k."""
    width = min(k, hit.shape[1])
    disc = _discount(k)
    dcg = hit[:, :width] @ disc[:width]
    ideal = np.cumsum(disc)[np.clip(n_relevant, 1, k) - 1]
    return np.where(n_relevant > 0, dcg / ideal, np.nan)
