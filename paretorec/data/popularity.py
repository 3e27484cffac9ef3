"""Item popularity facts of a set of interactions: the short head and the Gini of counts.

The short head follows Elliot's implementation of APLT (``pop_ratio = 0.8``), so numbers are
comparable with that framework: with items sorted by popularity descending, the short head is
the smallest prefix of items whose popularity adds up to at least 80% of all interactions,
extended by the items tied with its last item (so an item's class depends on its popularity
alone). Everything else, including items nobody interacted with, is the long tail.
"""

from __future__ import annotations

import numpy as np

SHORT_HEAD_SHARE = 0.8  # of training interactions held by the short head


def long_tail_mask(item_counts: np.ndarray, share: float = SHORT_HEAD_SHARE) -> np.ndarray:
    """``(n_items,)`` True for items outside the short head.

    Args:
        item_counts: ``(n_items,)`` training users per item.
        share: Share of all training interactions the short head holds.
    """
    counts = np.asarray(item_counts, dtype=np.float64)
    if counts.size == 0 or counts.sum() == 0:
        return np.ones(counts.size, dtype=bool)
    ordered = np.sort(counts)[::-1]
    head_size = int(np.searchsorted(np.cumsum(ordered), share * counts.sum())) + 1
    boundary = ordered[min(head_size, counts.size) - 1]
    return counts < boundary


def gini_of_counts(counts: np.ndarray) -> float:
    """Gini index of non-negative counts, ``m / (m - 1)``-corrected (see ``gini``): 0 when all
    are equal, 1 when one holds everything; NaN for an empty total or a single count."""
    ordered = np.sort(np.asarray(counts, dtype=np.float64))
    m, total = len(ordered), ordered.sum()
    if total == 0 or m < 2:
        return float("nan")
    rank = np.arange(1, m + 1, dtype=np.float64)
    return float(((2.0 * rank - m - 1.0) @ ordered) / ((m - 1.0) * total))


def self_information(item_users: np.ndarray, n_users: int) -> np.ndarray:
    """``(n_items,)`` ``-log2((u_i + 1) / (n_users + 1))`` bits, u_i = training users of item i.

    Add-one smoothing keeps items nobody trained on finite: at most ``log2(n_users + 1)``.
    """
    return -np.log2((np.asarray(item_users, dtype=np.float64) + 1.0) / (n_users + 1.0))
