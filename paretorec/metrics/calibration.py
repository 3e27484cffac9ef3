"""Miscalibration (Steck 2018, "Calibrated recommendations", RecSys): does a list's genre mix
match the user's history?

Each item spreads a unit of weight evenly over its genres, ``p(g|i) = 1 / |genres(i)|`` (the
paper's choice). The user's distribution is the mean over their training items,
``p(g|u) ∝ sum_{i in H_u} p(g|i)``, and the list's the mean over its filled first-k slots,
``q(g|u) ∝ sum_{i in L_u} p(g|i)`` (uniform weights: the paper's ``w_{u,i}`` and rank weights
set to 1). Items without a genre carry no weight; both distributions are normalised over the
genre mass that is there. Then

    ``C_KL(p, q) = sum_g p(g|u) log(p(g|u) / q~(g|u))``,  ``q~ = (1 - α) q + α p``,  ``α = 0.01``

in nats. The smoothing keeps it finite and bounds it: ``q~ >= α p`` gives
``0 <= C_KL <= log(1 / α)`` (about 4.6), reached when the list shows none of the user's genres.
Users with no genre in their history get NaN.
"""

from __future__ import annotations

import numpy as np

from paretorec.data.features import CALIBRATION_ALPHA, genre_weights, normalise_rows, user_genres

__all__ = ["ALPHA", "genre_weights", "miscalibration", "user_genres"]

ALPHA = CALIBRATION_ALPHA


def miscalibration(
    lists: np.ndarray, weights: np.ndarray, profile: np.ndarray, k: int, alpha: float = ALPHA
) -> np.ndarray:
    """``(n,)`` KL divergence of the list's smoothed genre mix from the user's, in nats.

    Args:
        lists: ``(n, K)`` item codes, ``-1`` for empty slots.
        weights: ``(n_items, n_genres)`` from ``genre_weights``.
        profile: ``(n, n_genres)`` ``p(g|u)`` from ``user_genres``.
        k: Cut-off.
        alpha: Smoothing weight of ``p`` in ``q~``, ``0 < alpha <= 1``.
    """
    top = lists[:, :k]
    valid = top >= 0
    mass = np.where(valid[:, :, None], weights[np.where(valid, top, 0)], 0.0).sum(axis=1)
    q = np.nan_to_num(normalise_rows(mass))  # a list without genres is q = 0: q~ = alpha p
    p = profile
    q_smooth = (1.0 - alpha) * q + alpha * p
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(p > 0, p * np.log(p / q_smooth), 0.0)
    kl = np.maximum(terms.sum(axis=1), 0.0)  # Gibbs: >= 0; only rounding could go below
    return np.where(np.isnan(p).any(axis=1), np.nan, kl)
