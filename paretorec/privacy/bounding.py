"""Per-user contribution bounding: the step that gives the count queries a finite sensitivity.

Without it one user with 700 ratings moves 700 item counts and 244,650 pair counts, and no
noise scale protects every user. Keeping at most L items per user bounds what one user can
change; the models' sensitivities (``paretorec.models.private``) are stated in terms of L.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

BOUND_SEED = 0  # fixed and public: the choice depends on a user's own items only (see below)


def bound_contributions(X: sp.csr_matrix, max_items: int, seed: int = BOUND_SEED) -> sp.csr_matrix:
    """Keep at most ``max_items`` of each user's items, a pseudo-random choice.

    Which items survive depends only on the user's own row and a fixed seed (each item's
    priority hashes the seed, the item and the user's whole item set; not the user's position
    in the matrix), so the bounded matrix of a dataset with one user more or less differs from
    the original's by that user's bounded row alone: the sensitivity of any count over the
    result is a function of ``max_items``. A public seed costs no privacy here: the noise, not
    the sampling, is what hides a user.

    Args:
        X: ``(n_users, n_items)`` binary CSR interactions.
        max_items: L, the largest number of items a user contributes (``> 0``).
        seed: Seed of the item hashes.

    Returns:
        ``(n_users, n_items)`` binary CSR with at most ``max_items`` entries per row; the rows
        already within the bound are unchanged.
    """
    X = sp.csr_matrix(X, copy=False)
    X.sort_indices()
    lengths = np.diff(X.indptr)
    if lengths.size == 0 or lengths.max(initial=0) <= max_items:
        return X
    rows = np.repeat(np.arange(X.shape[0]), lengths)
    salt = np.random.default_rng(seed).integers(0, 2**63, X.shape[1], dtype=np.uint64)
    item_salt = salt[X.indices]
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps, as the hash means it to
        row_key = np.zeros(X.shape[0], dtype=np.uint64)
        np.add.at(row_key, rows, item_salt)  # a hash of the user's item set, order-free
        keys = _mix(row_key[rows] ^ item_salt)
    order = np.lexsort((X.indices, keys, rows))  # by row, then by priority
    rank = np.empty(X.nnz, dtype=np.int64)
    rank[order] = np.arange(X.nnz) - X.indptr[rows[order]]
    keep = rank < max_items
    out = sp.csr_matrix((np.ones(int(keep.sum())), (rows[keep], X.indices[keep])), shape=X.shape)
    out.sort_indices()
    return out


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread 64-bit hash of each value (wrapping arithmetic)."""
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
