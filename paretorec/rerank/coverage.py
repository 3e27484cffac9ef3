"""The coverage term: exposure spread across the users re-ranked together.

Lists are built position by position for every user of the batch at once. After each position,
every item's exposure is the share of the batch's users whose list already holds it, and an
item's gain is minus that share::

    gain(i | picks so far in the batch) = -exposure(i)     in [-1, 0]

so items that many lists already show give way to others. The metric it moves is
``coverage@k``. **The lists depend on the batch**: the same user gets another list when
re-ranked with other users. ``Recommender.recommend(users=[u])`` therefore re-ranks the whole
batch the point was evaluated on (every user, when serving) and returns u's rows, so a single
user's list equals their row of the batch's lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numba
import numpy as np

from paretorec.data.reference import Reference
from paretorec.registry import param
from paretorec.rerank.term import PickTerm


class _Candidates(NamedTuple):
    items: np.ndarray  # (C + 1, n) intp, -1 for empty slots
    n_items: int


@dataclass(frozen=True)
class Coverage(PickTerm):
    """Exposure discount: a penalty for items already placed in many of the batch's lists."""

    name: ClassVar[str] = "coverage"
    metric: ClassVar[str] = "coverage"
    batch_dependent: ClassVar[bool] = True
    weight: float = param(
        0.0,
        "weight of the batch exposure penalty",
        at_least=0,
        search={"low": 0.0, "high": 1.0},
    )

    def ops(self, k: int, pool: int) -> float:
        return float(k * pool)  # one exposure lookup per candidate and pick

    def prepare(self, items: np.ndarray, reference: Reference) -> _Candidates:
        return _Candidates(np.ascontiguousarray(items, dtype=np.intp), reference.n_items)

    def start(self, prepared: _Candidates, p: int, n: int) -> Any:
        return np.zeros(prepared.n_items, np.float64)  # lists holding each item so far

    def advance(self, state: Any, prepared: _Candidates, gain: np.ndarray, arg: np.ndarray) -> None:
        _expose(state, gain, prepared.items, arg)


@numba.njit(cache=True, nogil=True)
def _expose(shown, gain, items, arg):  # type: ignore[no-untyped-def]
    p_rows, n = gain.shape
    for u in range(n):
        i = items[arg[u], u]
        if i >= 0:
            shown[i] += 1.0
    for r in range(p_rows):
        for u in range(n):
            i = items[r, u]
            gain[r, u] = -shown[i] / n if i >= 0 else 0.0
