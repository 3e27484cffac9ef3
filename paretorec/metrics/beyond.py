"""Beyond-accuracy metrics: intra-list diversity, novelty, catalogue coverage, serendipity.

Every kernel reads the first k slots of ``(n, K)`` lists; ``-1`` slots are empty and never count.
A k above the list width reads the whole list. Averages over a list's items (ILD, novelty) are
over its filled slots; serendipity, like precision, divides by k.
"""

from __future__ import annotations

import numpy as np

from paretorec.data.features import ItemSimilarity
from paretorec.data.popularity import self_information
from paretorec.data.reference import user_bits

__all__ = [
    "coverage",
    "ild",
    "ild_cooc",
    "novelty",
    "self_information",
    "serendipity",
    "slot_mean",
    "user_bits",
]

ILD_BLOCK_BYTES = 32 << 20  # gathered user bitsets per block of users in ``ild_cooc``


def slot_mean(lists: np.ndarray, item_values: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` mean of an item-level value over the filled slots of the first k (NaN if none).

    Args:
        lists: ``(n, K)`` item codes, ``-1`` for empty slots.
        item_values: ``(n_items,)`` the value of each item.
        k: Cut-off.
    """
    top = lists[:, :k]
    valid = top >= 0
    total = np.where(valid, item_values[np.where(valid, top, 0)], 0.0).sum(axis=1)
    count = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def ild(lists: np.ndarray, similarity: ItemSimilarity, k: int) -> np.ndarray:
    """``(n,)`` mean ``1 - sim`` over the pairs of items in the first k slots (NaN below 2)."""
    top = lists[:, :k]
    first, second = np.triu_indices(top.shape[1], 1)
    valid = top >= 0
    profile = similarity.profile.take(top, mode="clip")
    # float32 table, float64 sums: a list's value must not move with its number of pairs
    sims = similarity.table[profile[:, first], profile[:, second]].astype(np.float64)
    pair = valid[:, first] & valid[:, second]
    n_pairs = pair.sum(axis=1)
    total = np.where(pair, 1.0 - sims, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_pairs > 0, total / n_pairs, np.nan)


def ild_cooc(lists: np.ndarray, bits: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` mean ``1 - cos(i, j)`` over the pairs of the first k slots (NaN below 2 items).

    ``cos(i, j) = |U_i ∩ U_j| / sqrt(|U_i| |U_j|)`` with ``U_i`` the training users of item i
    (0 when either has none): the cosine of the item columns of the binary training matrix.
    Each distinct item pair in the lists is computed once, as the popcount of two ANDed
    bitsets; lists share most of their pairs, so the work grows with the distinct pairs, not
    with users times pairs.

    Args:
        lists: ``(n, K)`` item codes, ``-1`` for empty slots.
        bits: ``(n_items, words)`` from ``user_bits`` of the training matrix's columns.
        k: Cut-off.
    """
    top = lists[:, :k]
    valid = top >= 0
    first, second = np.triu_indices(top.shape[1], 1)
    pair = valid[:, first] & valid[:, second]
    a = np.where(valid, top, 0)[:, first].astype(np.int64)
    b = np.where(valid, top, 0)[:, second].astype(np.int64)
    n_items = bits.shape[0]
    keys = np.minimum(a, b) * n_items + np.maximum(a, b)
    unique, inverse = np.unique(keys[pair], return_inverse=True)
    left, right = unique // n_items, unique % n_items
    size = np.bitwise_count(bits).sum(axis=1, dtype=np.int64)  # |U_i|
    shared = np.empty(len(unique), dtype=np.int64)
    block = max(1, ILD_BLOCK_BYTES // max(bits.itemsize * bits.shape[1], 1))
    for lo in range(0, len(unique), block):  # blocks of pairs bound the gathered bitsets
        both = np.take(bits, left[lo : lo + block], axis=0)
        both &= np.take(bits, right[lo : lo + block], axis=0)
        shared[lo : lo + block] = np.bitwise_count(both).sum(axis=1, dtype=np.int64)
    norm = np.sqrt((size[left] * size[right]).astype(np.float64))
    cos = np.divide(shared, norm, out=np.zeros(len(unique)), where=norm > 0)
    dissimilar = np.zeros(pair.shape)
    dissimilar[pair] = 1.0 - cos[inverse]
    n_pairs = pair.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_pairs > 0, dissimilar.sum(axis=1) / n_pairs, np.nan)


def novelty(lists: np.ndarray, info: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` mean self-information (bits) of the items in the first k slots."""
    return slot_mean(lists, info, k)


def coverage(lists: np.ndarray, n_items: int, k: int) -> float:
    """Share of the catalogue that appears in at least one user's first k slots."""
    top = lists[:, :k]
    return float(np.count_nonzero(np.bincount(top[top >= 0], minlength=n_items)) / n_items)


def serendipity(
    hit: np.ndarray, lists: np.ndarray, expected: np.ndarray, n_relevant: np.ndarray, k: int
) -> np.ndarray:
    """``(n,)`` share of the first k slots that is relevant and unexpected.

    Ge, Delgado-Battenfeld & Jannach (2010), "Beyond accuracy: evaluating recommender systems by
    coverage and serendipity", RecSys: ``|UNEXP ∩ USEFUL| / N`` with ``UNEXP`` the list minus
    what a primitive model recommends; the popularity baseline as that model follows Kaminskas &
    Bridge (2016), "Diversity, serendipity, novelty, and coverage", ACM TiiS 7(1). Here USEFUL
    is "held out for the user" and N is k, as for precision (empty slots are not serendipitous).

    Args:
        hit: ``(n, K)`` True where the slot's item is held out for the user.
        lists: ``(n, K)`` item codes, ``-1`` for empty slots.
        expected: ``(n, k)`` the primitive model's top k for each user (``-1`` pads).
        n_relevant: ``(n,)`` held-out items per user; users without any get NaN.
        k: Cut-off.
    """
    top = lists[:, :k]
    obvious = (top[:, :, None] == expected[:, None, :k]).any(axis=2)
    found = np.count_nonzero(hit[:, :k] & ~obvious, axis=1)
    return np.where(n_relevant > 0, found / k, np.nan)
