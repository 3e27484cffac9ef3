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

import numba
import numpy as np
import scipy.sparse as sp

from paretorec.data.features import CALIBRATION_ALPHA, genre_weights, user_genres

__all__ = ["ALPHA", "genre_weights", "miscalibration", "user_genres"]

ALPHA = CALIBRATION_ALPHA


def miscalibration(
    lists: np.ndarray,
    weights: np.ndarray | sp.spmatrix,
    profile: np.ndarray,
    k: int,
    alpha: float = ALPHA,
) -> np.ndarray:
    """``(n,)`` KL divergence of the list's smoothed genre mix from the user's, in nats.

    Args:
        lists: ``(n, K)`` item codes, ``-1`` for empty slots.
        weights: ``(n_items, n_genres)`` from ``genre_weights``, dense or sparse.
        profile: ``(n, n_genres)`` ``p(g|u)`` from ``user_genres``.
        k: Cut-off.
        alpha: Smoothing weight of ``p`` in ``q~``, ``0 < alpha <= 1``.
    """
    csr = weights if sp.isspmatrix_csr(weights) else sp.csr_matrix(weights)
    out = np.empty(len(lists), np.float64)
    _kl(
        np.ascontiguousarray(lists[:, :k], dtype=np.intp),
        csr.indptr.astype(np.intp, copy=False),
        csr.indices.astype(np.intp, copy=False),
        csr.data.astype(np.float64, copy=False),
        np.ascontiguousarray(profile, dtype=np.float64),
        float(alpha),
        out,
    )
    return out


@numba.njit(cache=True, nogil=True)
def _kl(top, indptr, genres, weight, profile, alpha, out):  # type: ignore[no-untyped-def]
    # One user at a time, touching only the genres the list shows: a genre it does not show has
    # q = 0, q~ = α p and contributes p log(1 / α). Measured 1.1 ms -> 0.1 ms for ML-100k's
    # 943 users at k = 10 against the dense (users, k, genres) gather it replaces.
    n, k = top.shape
    n_genres = profile.shape[1]
    mass = np.zeros(n_genres, np.float64)
    shown = np.empty(k * n_genres, np.intp)
    unshown_log = np.log(1.0 / alpha)
    for u in range(n):
        if np.isnan(profile[u, 0]):
            out[u] = np.nan  # no genre in the history (a NaN row)
            continue
        n_shown = 0
        total = 0.0
        for s in range(k):
            i = top[u, s]
            if i < 0:
                continue
            for t in range(indptr[i], indptr[i + 1]):
                g = genres[t]
                if mass[g] == 0.0:
                    shown[n_shown] = g
                    n_shown += 1
                mass[g] += weight[t]
                total += weight[t]
        kl = 0.0
        rest = 0.0  # p on the genres shown
        for j in range(n_shown):
            g = shown[j]
            pg = profile[u, g]
            if pg > 0.0:
                q = (1.0 - alpha) * (mass[g] / total) + alpha * pg
                kl += pg * np.log(pg / q)
                rest += pg
            mass[g] = 0.0
        p_total = 0.0
        for g in range(n_genres):
            if profile[u, g] > 0.0:
                p_total += profile[u, g]
        kl += (p_total - rest) * unshown_log
        out[u] = max(kl, 0.0)  # Gibbs: >= 0; only rounding could go below
