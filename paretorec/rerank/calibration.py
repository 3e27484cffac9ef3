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

from paretorec.data.features import CALIBRATION_ALPHA as ALPHA
from paretorec.data.reference import Reference
from paretorec.registry import param
from paretorec.rerank.genres import CandidateGenres, candidate_genres
from paretorec.rerank.term import PickTerm


class Prepared(NamedTuple):
    genres: CandidateGenres
    log_base: np.ndarray  # (n, G) log(α p(g|u)): log q~ of a genre the list does not show
    empty_log_mix: np.ndarray  # (n,) sum_g p log(α p): the log mix of the empty list


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

    def prepare(self, items: np.ndarray, reference: Reference) -> Prepared:
        genres = candidate_genres(items, reference)
        profile = genres.profile
        with np.errstate(divide="ignore"):
            log_base = np.where(profile > 0, np.log(ALPHA * profile), 0.0)
        return Prepared(genres, log_base, (profile * log_base).sum(axis=1))

    def start(self, prepared: Prepared, p: int, n: int) -> Any:
        shape = prepared.genres.profile.shape
        mass = np.zeros(shape, np.float64)
        shown = np.zeros(shape, np.intp)  # the genres with mass, in order of arrival
        counts = np.zeros((2, n), np.intp)  # picks with genres, genres shown
        now = prepared.empty_log_mix.copy()  # sum p log q~ of the list so far
        # q~ of each genre and its log, kept per user: a step recomputes the shown genres only
        base = ALPHA * prepared.genres.profile
        return mass, shown, counts, now, base, prepared.log_base.copy()

    def initial(self, state: Any, prepared: Prepared, gain: np.ndarray) -> None:
        _gains(gain, *state, *prepared.genres, *prepared[1:], ALPHA)

    def advance(self, state: Any, prepared: Prepared, gain: np.ndarray, arg: np.ndarray) -> None:
        g = prepared.genres
        _add_picks(*state, gain, arg, g.ptr, g.genre, g.weight, g.rows)
        _gains(gain, *state, *g, *prepared[1:], ALPHA)


@numba.njit(cache=True, nogil=True)
def _add_picks(mass, shown, counts, now, base, log_mix, gain, arg, ptr, genre, weight, rows):  # type: ignore[no-untyped-def]
    for u in range(arg.shape[0]):
        slot = u * rows + arg[u]
        if ptr[slot] == ptr[slot + 1]:
            continue  # an empty slot or an item without genres carries no genre weight
        # the pick's gain was KL(S) - KL(S + i) = log mix after - log mix now
        now[u] += gain[arg[u], u]
        for t in range(ptr[slot], ptr[slot + 1]):
            g = genre[t]
            if mass[u, g] == 0.0:
                shown[u, counts[1, u]] = g
                counts[1, u] += 1
            mass[u, g] += weight[t]
        counts[0, u] += 1


@numba.njit(cache=True, nogil=True)
def _gains(  # type: ignore[no-untyped-def]
    gain,
    mass,
    shown,
    counts,
    now,
    base,
    log_mix,
    ptr,
    genre,
    weight,
    row,
    profile,
    rows,
    log_base,
    empty_log_mix,
    alpha,
):
    # KL(p || q~) = sum p log p - sum p log q~ ("log mix"). Adding item i changes q~ on every
    # genre (the mix is renormalised by count + 1), but equally for every candidate except on
    # i's own genres: the common part is computed once per user, then a correction per
    # candidate. A genre the list does not show has q~ = α p whatever the count, so only the
    # shown genres (a few) are recomputed per step, not all G.
    p_rows, n = gain.shape
    acc = np.empty(p_rows, np.float64)
    for u in range(n):
        denom = counts[0, u] + 1.0
        step = (1.0 - alpha) / denom
        after = empty_log_mix[u]  # sum p log q~(S + i) on the genres i lacks
        for j in range(counts[1, u]):
            g = shown[u, j]
            pg = profile[u, g]
            if pg > 0.0:
                base[u, g] = (1.0 - alpha) * mass[u, g] / denom + alpha * pg
                log_mix[u, g] = np.log(base[u, g])
                after += pg * (log_mix[u, g] - log_base[u, g])
        first = u * rows
        acc[:] = 0.0
        for t in range(ptr[first], ptr[first + p_rows]):
            g = genre[t]
            pg = profile[u, g]
            if pg > 0.0:
                acc[row[t]] += pg * (np.log(base[u, g] + step * weight[t]) - log_mix[u, g])
        for r in range(p_rows):
            if ptr[first + r] == ptr[first + r + 1]:
                gain[r, u] = 0.0  # q does not change: no drop
            else:
                gain[r, u] = (after + acc[r]) - now[u]  # KL(S) - KL(S + i)
