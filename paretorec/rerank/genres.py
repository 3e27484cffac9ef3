"""The candidates' genres, laid out for the genre-aware pick terms (calibration, intent).

Each user's candidates and their genre weights are stored user-major and flat, so a term's
per-step pass over a user reads one contiguous run: no lookup through the item code, the
item's genre row and back. It replaced a pass that went candidate -> item -> genres on every
step and made calibration and intent 2-4x slower (``experiments/bench_terms.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from paretorec.data.reference import Reference


class CandidateGenres(NamedTuple):
    """Genre weights of every candidate slot, and the users' genre distributions.

    Attributes:
        ptr: ``(n * (C + 1) + 1,)`` where the genres of slot ``u * (C + 1) + r`` (user ``u``'s
            candidate at row ``r``) start in ``genre`` / ``weight``; empty slots and items
            without genres have none.
        genre: Genre ids.
        weight: ``p(g|i)``, each item's unit of weight spread evenly over its genres.
        row: The pool row of each entry's slot: a term's pass runs over a user's entries in
            one loop and adds into per-row sums, without a loop per slot (whose varying
            lengths cost a mispredicted branch each).
        profile: ``(n, G)`` float64 ``p(g|u)``; zero rows for users without genres.
        rows: ``C + 1``, the pool's rows per user.
    """

    ptr: np.ndarray
    genre: np.ndarray
    weight: np.ndarray
    row: np.ndarray
    profile: np.ndarray
    rows: int


def candidate_genres(items: np.ndarray, reference: Reference) -> CandidateGenres:
    """From the pool's ``(C + 1, n)`` position-major candidate items."""
    weights = sp.csr_matrix(reference.genre_weights)
    by_user = np.ascontiguousarray(items.T).ravel()
    valid = by_user >= 0
    safe = np.where(valid, by_user, 0)
    starts = weights.indptr[safe]
    counts = np.where(valid, weights.indptr[safe + 1] - starts, 0)
    ptr = np.zeros(len(by_user) + 1, np.intp)
    np.cumsum(counts, out=ptr[1:])
    # the t-th genre of a slot is entry starts + t of the item weights
    at = np.repeat(starts - ptr[:-1], counts) + np.arange(ptr[-1])
    profile = np.nan_to_num(np.asarray(reference.user_genres(), dtype=np.float64), nan=0.0)
    return CandidateGenres(
        ptr,
        weights.indices[at].astype(np.intp),
        weights.data[at].astype(np.float64),
        np.repeat(np.tile(np.arange(items.shape[0], dtype=np.intp), items.shape[1]), counts),
        np.ascontiguousarray(profile),
        items.shape[0],
    )
