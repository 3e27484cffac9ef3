"""Intent-aware metrics with genres as the subtopics: α-NDCG (Clarke et al. 2008) and
subtopic recall.

α-NDCG is intent-aware, novelty-biased accuracy.

A held-out item covers each of its genres. The gain at rank r is the number of genres the item
covers, each discounted by ``(1 - α)`` per held-out item of that genre ranked above it; items
that are not held out gain nothing::

    G(r) = sum_g J(d_r, g) (1 - α)^{c_g(r - 1)},     α-DCG@k = sum_{r <= k} G(r) / log2(r + 1)

normalised by the α-DCG of the ideal ordering of the user's held-out items, computed greedily
(the standard approximation: the exact ideal is NP-hard). ``α = 0.5``. Users without a held-out
item that has a genre get NaN.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

ALPHA = 0.5


def alpha_dcg(genres: np.ndarray, k: int, alpha: float = ALPHA) -> np.ndarray:
    """``(n,)`` α-DCG@k of lists given each slot's genre flags ``(n, K, G)`` (zeros for slots
    that are not held out or empty)."""
    n, width, n_genres = genres.shape
    seen = np.zeros((n, n_genres))
    total = np.zeros(n)
    for r in range(min(k, width)):
        total += (genres[:, r, :] * (1.0 - alpha) ** seen).sum(axis=1) / np.log2(r + 2.0)
        seen += genres[:, r, :]
    return total


def ideal_alpha_dcg(
    truth: sp.csr_matrix, flags: np.ndarray, k: int, alpha: float = ALPHA
) -> np.ndarray:
    """``(n,)`` α-DCG@k of the greedy ideal list of each row's held-out items.

    Args:
        truth: ``(n, n_items)`` CSR whose stored entries are each user's held-out items.
        flags: ``(n_items, G)`` 0/1 genre flags.
    """
    n = truth.shape[0]
    counts = np.diff(truth.indptr)
    width = int(counts.max()) if n else 0
    cand = np.full((n, max(width, 1)), -1, dtype=np.int64)
    rows = np.repeat(np.arange(n), counts)
    cols = np.arange(len(truth.indices)) - np.repeat(truth.indptr[:-1], counts)
    cand[rows, cols] = truth.indices
    g = np.where((cand >= 0)[:, :, None], flags[np.maximum(cand, 0)], 0.0)  # (n, R, G)
    seen = np.zeros((n, flags.shape[1]))
    used = cand < 0
    total = np.zeros(n)
    for r in range(k):
        gain = (g * (1.0 - alpha) ** seen[:, None, :]).sum(axis=2)
        gain[used] = -1.0
        best = np.argmax(gain, axis=1)  # ties to the lower item code
        value = gain[np.arange(n), best]
        ok = value > 0
        total += np.where(ok, value, 0.0) / np.log2(r + 2.0)
        seen += np.where(ok[:, None], g[np.arange(n), best], 0.0)
        used[np.arange(n), best] = True
    return total


def alpha_ndcg(
    lists: np.ndarray,
    hit: np.ndarray,
    truth: sp.csr_matrix,
    flags: np.ndarray,
    k: int,
    alpha: float = ALPHA,
) -> np.ndarray:
    """``(n,)`` α-NDCG@k of ``lists`` (``(n, K)``, ``-1`` empty) given which slots are held
    out (``hit``), the held-out items (``truth``, row-aligned) and genre ``flags``."""
    top = lists[:, :k]
    valid = (top >= 0) & hit[:, :k]
    genres = np.where(valid[:, :, None], flags[np.maximum(top, 0)], 0.0)
    ideal = ideal_alpha_dcg(truth, flags, k, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ideal > 0, alpha_dcg(genres, k, alpha) / ideal, np.nan)


def subtopic_recall(
    lists: np.ndarray, flags: np.ndarray, profile: np.ndarray, k: int
) -> np.ndarray:
    """``(n,)`` S-recall@k (Zhai et al. 2003) with the user's intents as subtopics: the share
    of the genres of the user's training history that the top-k covers (NaN for users whose
    history has no genre).

    Args:
        lists: ``(n, K)`` items, ``-1`` empty.
        flags: ``(n_items, G)`` 0/1 genre flags.
        profile: ``(n, G)`` ``p(g|u)`` (NaN rows without genres).
    """
    top = lists[:, :k]
    covered = np.where((top >= 0)[:, :, None], flags[np.maximum(top, 0)], 0.0).max(axis=1)
    intents = np.nan_to_num(profile) > 0
    n_intents = intents.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (covered * intents).sum(axis=1) / n_intents
    return np.where(n_intents > 0, share, np.nan)
