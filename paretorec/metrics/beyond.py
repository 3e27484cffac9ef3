"""Beyond-accuracy metrics: intra-list diversity, novelty, catalogue coverage."""

from __future__ import annotations

import numpy as np

from paretorec.rerank.similarity import ItemSimilarity


def self_information(item_users: np.ndarray, n_users: int) -> np.ndarray:
    """``(n_items,)`` ``-log2((u_i + 1) / (n_users + 1))`` bits, u_i = training users of item i.

    Add-one smoothing keeps items nobody trained on finite: at most ``log2(n_users + 1)``.
    """
    return -np.log2((np.asarray(item_users, dtype=np.float64) + 1.0) / (n_users + 1.0))


def ild(lists: np.ndarray, similarity: ItemSimilarity, k: int) -> np.ndarray:
    """``(n,)`` mean ``1 - sim`` over the pairs of items in the first k slots (NaN below 2)."""
    top = lists[:, :k]
    first, second = np.triu_indices(top.shape[1], 1)
    valid = top >= 0
    profile = similarity.profile.take(top, mode="clip")
    sims = similarity.table[profile[:, first], profile[:, second]]  # (n, pairs)
    pair = valid[:, first] & valid[:, second]
    n_pairs = pair.sum(axis=1)
    total = np.where(pair, 1.0 - sims, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_pairs > 0, total / n_pairs, np.nan)


def novelty(lists: np.ndarray, info: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` mean self-information (bits) of the items in the first k slots."""
    top = lists[:, :k]
    valid = top >= 0
    total = np.where(valid, info[np.where(valid, top, 0)], 0.0).sum(axis=1)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def coverage(lists: np.ndarray, n_items: int, k: int) -> float:
    """Share of the catalogue that appears in at least one user's first k slots."""
    top = lists[:, :k]
    return float(np.count_nonzero(np.bincount(top[top >= 0], minlength=n_items)) / n_items)
