"""Popularity bias: how much exposure goes to items many training users already have.

Popularity of item i is ``|U_i|``, the number of training users of the stage who interacted
with it (``Reference.item_counts``). Per-user values average over the filled slots of the first
k; ``-1`` slots never count.

- ``arp@k`` (average recommendation popularity, Abdollahpouri, Burke & Mobasher 2019): the mean
  over users of the mean ``|U_i|`` of their list; lower is less popularity-biased.
- ``aplt@k`` (average percentage of long-tail items, same paper): the mean over users of the
  share of their list outside the short head.
- ``gini@k``: Gini index of exposure over the whole catalogue, a set-level value like coverage.

The short head follows Elliot's implementation of APLT (``pop_ratio = 0.8``), so numbers are
comparable with that framework: with items sorted by ``|U_i|`` descending, the short head is the
smallest prefix of items whose popularity adds up to at least 80% of all training interactions,
extended by the items tied with its last item (so an item's class depends on its popularity
alone). Everything else, including items no training user has, is the long tail.
"""

from __future__ import annotations

import numpy as np

from paretorec.data.popularity import SHORT_HEAD_SHARE, gini_of_counts, long_tail_mask

__all__ = ["SHORT_HEAD_SHARE", "gini", "gini_of_counts", "long_tail_mask"]


def gini(lists: np.ndarray, n_items: int, k: int) -> float:
    """Gini index of how often each catalogue item appears in the first k slots of all lists.

    ``G = sum_j (2j - m - 1) c_(j) / ((m - 1) sum_j c_j)`` over the m catalogue items' exposure
    counts sorted ascending (``j = 1..m``): the usual ``sum_j (2j - m - 1) c_(j) / (m sum c)``
    (as in RecBole's GiniIndex) times ``m / (m - 1)``, so one item taking every slot is exactly
    1 and equal exposure is 0. NaN when no slot is filled or the catalogue has one item.
    """
    top = lists[:, :k]
    return gini_of_counts(np.bincount(top[top >= 0], minlength=n_items))
