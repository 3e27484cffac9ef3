"""Satisfaction: a rating-aware, signed NDCG.

A recommended item the user rated in the held-out data contributes the signed gain
``g(r) = (r - mid) / half`` (``+1`` for the top rating, ``0`` for the scale's midpoint, ``-1`` for
the lowest; ML-100k: 5 -> 1, 4 -> 0.5, 3 -> 0, 2 -> -0.5, 1 -> -1), discounted by
``log2(rank + 1)``. Items without a held-out rating contribute 0: we do not know whether the user
would like them. The sum is divided by the best DCG this user's own held-out ratings allow
(their positively rated items, best first), so 1 is the best list we could have shown, 0 is no
evidence either way, and a negative value means the list shows things the user disliked.

Why not NDCG alone: NDCG counts a held-out 1-star movie as a success. A product cares whether
people liked what they were shown; satisfaction rewards liked items and penalises disliked ones.
Users with no positively rated held-out item have no ideal list and are left out (NaN).
"""

from __future__ import annotations

import numpy as np

from paretorec.metrics.ranking import discount


def satisfaction(gain: np.ndarray, ideal_dcg: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` signed DCG@k of the list's gains over the ideal positive DCG@k.

    Args:
        gain: ``(n, K)`` signed gain per slot, NaN where the item has no held-out rating.
        ideal_dcg: ``(n,)`` DCG@k of the user's positively rated held-out items, best first.
        k: Cut-off.
    """
    width = min(k, gain.shape[1])
    disc = discount(k)[:width]
    top = gain[:, :width]
    dcg = np.where(np.isnan(top), 0.0, top) @ disc
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ideal_dcg > 0, dcg / ideal_dcg, np.nan)
