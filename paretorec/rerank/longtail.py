"""The long-tail term: popularity-bias control by xQuAD over {head, tail} (Abdollahpouri et
al. 2019, the smooth variant).

Items are split by training popularity: the head is the smallest set of most popular items that
holds ``head_share`` of the training interactions, the tail is the rest. A user's interest in
each group is the share of their history in it, ``p(c|u)``. An item's gain is that interest,
discounted by how much of the list so far is already in its group::

    gain(i | S) = p(c(i)|u) (1 - |S ∩ c(i)| / |S|)        (p(c(i)|u) when S is empty)

in [0, 1]. The metrics it moves are ``aplt@k`` (up) and ``arp@k`` (down).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numba
import numpy as np

from paretorec.data.popularity import long_tail_mask
from paretorec.data.reference import Reference
from paretorec.registry import param
from paretorec.rerank.term import PickTerm


class _Groups(NamedTuple):
    tail: np.ndarray  # (C + 1, n) int8: 1 tail, 0 head, -1 empty slot
    interest: np.ndarray  # (n, 2) p(head|u), p(tail|u)


@dataclass(frozen=True)
class LongTail(PickTerm):
    """xQuAD over head and tail items: a gain for the group of the user's history the list
    under-serves so far."""

    name: ClassVar[str] = "longtail"
    metric: ClassVar[str] = "aplt"
    weight: float = param(
        0.0,
        "weight of the xQuAD head/tail balance",
        at_least=0,
        search={"low": 0.0, "high": 1.0},
    )
    head_share: float = param(
        0.8,
        "share of training interactions the head (most popular items) holds",
        above=0,
        at_most=1,
    )

    def ops(self, k: int, pool: int) -> float:
        return float(k * pool)

    def prepare(self, items: np.ndarray, reference: Reference) -> _Groups:
        tail_items = long_tail_mask(reference.item_counts, self.head_share)
        valid = items >= 0
        tail = np.where(valid, tail_items[np.where(valid, items, 0)], -1).astype(np.int8)
        history = reference.X[reference.users]
        in_tail = np.asarray(history @ tail_items.astype(np.float64)).ravel()
        total = np.diff(history.indptr).astype(np.float64)
        share = np.divide(in_tail, total, out=np.zeros_like(in_tail), where=total > 0)
        interest = np.stack([np.where(total > 0, 1.0 - share, 0.0), share], axis=1)
        return _Groups(np.ascontiguousarray(tail), np.ascontiguousarray(interest))

    def start(self, prepared: _Groups, p: int, n: int) -> Any:
        return np.zeros((n, 2), np.float64)  # picks so far in head, tail

    def initial(self, state: Any, prepared: _Groups, gain: np.ndarray) -> None:
        _gains(gain, state, prepared.tail, prepared.interest)

    def advance(self, state: Any, prepared: _Groups, gain: np.ndarray, arg: np.ndarray) -> None:
        _count(state, arg, prepared.tail)
        _gains(gain, state, prepared.tail, prepared.interest)


@numba.njit(cache=True, nogil=True)
def _count(picked, arg, tail):  # type: ignore[no-untyped-def]
    for u in range(arg.shape[0]):
        group = tail[arg[u], u]
        if group >= 0:
            picked[u, group] += 1.0


@numba.njit(cache=True, nogil=True)
def _gains(gain, picked, tail, interest):  # type: ignore[no-untyped-def]
    p_rows, n = gain.shape
    for u in range(n):
        total = picked[u, 0] + picked[u, 1]
        for r in range(p_rows):
            group = tail[r, u]
            if group < 0:
                gain[r, u] = 0.0
            elif total == 0.0:
                gain[r, u] = interest[u, group]
            else:
                gain[r, u] = interest[u, group] * (1.0 - picked[u, group] / total)
