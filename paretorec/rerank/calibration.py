"""The calibration term: Steck's (2018) greedy calibrated re-ranking.

The list's genre mix should match the user's history. With ``p(g|u)`` the user's training genre
distribution, ``q(g|S)`` the genre mix of the items picked so far (each item spreads a unit of
weight over its genres) and ``q~ = (1 - α) q + α p`` (α = 0.01, the paper's smoothing), an
item's gain is how much it lowers the miscalibration::

    gain(i | S) = KL(p || q~(S)) - KL(p || q~(S ∪ {i}))

so ``value = rel + λ gain`` is the paper's ``(1 - λ) rel - λ KL`` greedy up to the scale of
``rel`` (λ is the term's weight). The metric it moves is ``miscalibration@k`` (the same
definitions, ``paretorec.metrics.calibration``). Before the first pick ``q = 0`` and ``q~ = α p``,
as the metric scores a list without genres.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numba
import numpy as np
import scipy.sparse as sp

from paretorec.data.features import CALIBRATION_ALPHA as ALPHA
from paretorec.data.reference import Reference
from paretorec.registry import param
from paretorec.rerank.term import PickTerm


class ItemGenres(NamedTuple):
    """Each item's genre weights as CSR arrays, and the candidates laid out position-major."""

    items: np.ndarray  # (C + 1, n) intp candidate items, -1 for empty slots
    indptr: np.ndarray  # (n_items + 1,) genre rows of the item weights
    genres: np.ndarray  # (nnz,) genre ids
    weight: np.ndarray  # (nnz,) p(g|i), summing to 1 per item with genres
    profile: np.ndarray  # (n, G) float64 p(g|u); rows of zeros for users without genres


def item_genres(items: np.ndarray, reference: Reference) -> ItemGenres:
    """The candidates' genre data for the genre-aware terms (calibration, intent)."""
    weights = sp.csr_matrix(reference.genre_weights)
    profile = reference.user_genres()
    profile = np.nan_to_num(np.asarray(profile, dtype=np.float64), nan=0.0)
    return ItemGenres(
        np.ascontiguousarray(items, dtype=np.intp),
        weights.indptr.astype(np.intp),
        weights.indices.astype(np.intp),
        weights.data.astype(np.float64),
        np.ascontiguousarray(profile),
    )


@dataclass(frozen=True)
class Calibration(PickTerm):
    """Calibrated re-ranking (Steck 2018): a gain for lowering the KL divergence of the list's
    genre mix from the user's history (α = 0.01)."""

    name: ClassVar[str] = "calibration"
    metric: ClassVar[str] = "miscalibration"
    needs: ClassVar[tuple[str, ...]] = ("genres",)
    weight: float = param(
        0.0,
        "λ: weight of the drop in miscalibration (KL, nats)",
        at_least=0,
        search={"low": 0.0, "high": 1.0},
    )

    def ops(self, k: int, pool: int) -> float:
        # per pick: each candidate's genres (about 2) plus the user's genre bases (about 20)
        return float(k * (2 * pool + 20))

    def prepare(self, items: np.ndarray, reference: Reference) -> ItemGenres:
        return item_genres(items, reference)

    def start(self, prepared: ItemGenres, p: int, n: int) -> Any:
        mass = np.zeros(prepared.profile.shape, np.float64)
        count = np.zeros(n, np.float64)
        now = _start_log_mix(prepared.profile, ALPHA)  # sum p log q~ of the empty list
        return mass, count, now

    def initial(self, state: Any, prepared: ItemGenres, gain: np.ndarray) -> None:
        mass, count, now = state
        _gains(gain, mass, count, now, *prepared[:4], prepared.profile, ALPHA)

    def advance(self, state: Any, prepared: ItemGenres, gain: np.ndarray, arg: np.ndarray) -> None:
        mass, count, now = state
        _add_picks(mass, count, now, gain, arg, *prepared[:4])
        _gains(gain, mass, count, now, *prepared[:4], prepared.profile, ALPHA)


@numba.njit(cache=True, nogil=True)
def _start_log_mix(profile, alpha):  # type: ignore[no-untyped-def]
    n, n_genres = profile.shape
    now = np.zeros(n, np.float64)
    for u in range(n):
        for g in range(n_genres):
            pg = profile[u, g]
            if pg > 0.0:
                now[u] += pg * np.log(alpha * pg)
    return now


@numba.njit(cache=True, nogil=True)
def _add_picks(mass, count, now, gain, arg, items, indptr, genres, weight):  # type: ignore[no-untyped-def]
    n = arg.shape[0]
    for u in range(n):
        i = items[arg[u], u]
        if i < 0 or indptr[i] == indptr[i + 1]:
            continue  # an empty slot or an item without genres carries no genre weight
        # the pick's gain was KL(S) - KL(S + i) = log mix after - log mix now
        now[u] += gain[arg[u], u]
        for t in range(indptr[i], indptr[i + 1]):
            mass[u, genres[t]] += weight[t]
        count[u] += 1.0


@numba.njit(cache=True, nogil=True)
def _gains(gain, mass, count, now, items, indptr, genres, weight, profile, alpha):  # type: ignore[no-untyped-def]
    # KL(p || q~) = sum p log p - sum p log q~ ("log mix"). Adding item i changes q~ on every
    # genre (the mix is renormalised by count + 1), but equally for every candidate except on
    # i's own genres: the common part is computed once per user, then a correction per
    # candidate. The current log mix (``now``) is carried from pick to pick.
    p_rows, n = gain.shape
    n_genres = profile.shape[1]
    base = np.empty(n_genres, np.float64)
    log_base = np.empty(n_genres, np.float64)
    for u in range(n):
        after = 0.0  # sum p log base, base = q~(S + i) on genres i lacks
        has = False
        denom = count[u] + 1.0
        step = (1.0 - alpha) / denom
        for g in range(n_genres):
            pg = profile[u, g]
            if pg > 0.0:
                has = True
                base[g] = (1.0 - alpha) * mass[u, g] / denom + alpha * pg
                log_base[g] = np.log(base[g])
                after += pg * log_base[g]
        if not has:
            for r in range(p_rows):
                gain[r, u] = 0.0
            continue
        for r in range(p_rows):
            i = items[r, u]
            if i < 0 or indptr[i] == indptr[i + 1]:
                gain[r, u] = 0.0  # q does not change: no drop
                continue
            total = after
            for t in range(indptr[i], indptr[i + 1]):
                g = genres[t]
                pg = profile[u, g]
                if pg > 0.0:
                    total += pg * (np.log(base[g] + step * weight[t]) - log_base[g])
            gain[r, u] = total - now[u]  # KL(S) - KL(S + i)
