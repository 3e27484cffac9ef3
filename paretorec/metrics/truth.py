"""Held-out interactions in the form every metric reads: one sparse row per evaluated user."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from paretorec.data.interactions import Interactions
from paretorec.errors import DataWarning

DENSE_LOOKUP_CELLS = 32_000_000  # users x items below which judging uses a dense table


@dataclass(frozen=True, eq=False)
class Judged:
    """What the truth says about each recommended slot.

    Attributes:
        hit: ``(n, K)`` True where the item is held out for that user.
        rating: ``(n, K)`` the held-out rating, NaN where not held out.
    """

    hit: np.ndarray
    rating: np.ndarray


@dataclass(frozen=True, eq=False)
class Truth:
    """Held-out events of the users a stage scores.

    Attributes:
        users: ``(n,)`` codes of the users with at least one held-out event, ascending.
        matrix: ``(n, n_items)`` CSR of held-out ratings (1.0 for implicit data), row i = users[i].
        rating_scale: ``(lowest, highest)`` rating, or None when the data is implicit.
    """

    users: np.ndarray
    matrix: sp.csr_matrix
    rating_scale: tuple[float, float] | None
    # shared by every ``take`` so a search loop or a bootstrap warns once, not per evaluation
    _warned: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_interactions(
        cls, held_out: Interactions, rating_scale: tuple[float, float] | None
    ) -> Truth:
        """Rows for exactly the users that have held-out events."""
        full = held_out.matrix("rating" if rating_scale is not None else "binary")
        users = np.flatnonzero(np.diff(full.indptr)).astype(np.int32)
        return cls(users=users, matrix=full[users], rating_scale=rating_scale)

    @property
    def n_users(self) -> int:
        return len(self.users)

    def take(self, rows: np.ndarray) -> Truth:
        """The truth of ``rows`` of the users (a resample may repeat rows)."""
        return Truth(
            users=self.users[rows],
            matrix=self.matrix[rows],
            rating_scale=self.rating_scale,
            _warned=self._warned,
        )

    @cached_property
    def n_relevant(self) -> np.ndarray:
        """``(n,)`` number of held-out items per user."""
        return np.diff(self.matrix.indptr)

    def n_relevant_checked(self) -> np.ndarray:
        """``n_relevant``, warning (once per truth and its ``take``s) when a user has none.

        Metrics that need held-out items give such users NaN and the aggregate leaves them out.
        """
        empty = int(np.count_nonzero(self.n_relevant == 0))
        if empty and not self._warned.get("empty"):
            self._warned["empty"] = True
            warnings.warn(
                f"{empty} of {self.n_users} users have no held-out items; accuracy metrics "
                "leave them out (NaN)",
                DataWarning,
                stacklevel=3,
            )
        return self.n_relevant

    @cached_property
    def _keys(self) -> np.ndarray:
        rows = np.repeat(np.arange(self.n_users, dtype=np.int64), self.n_relevant)
        return rows * self.matrix.shape[1] + self.matrix.indices

    @cached_property
    def _dense(self) -> np.ndarray | None:
        """``(n, n_items)`` ratings with NaN for "not held out", when that fits in 256 MB."""
        if self.matrix.shape[0] * self.matrix.shape[1] > DENSE_LOOKUP_CELLS:
            return None
        dense = np.full(self.matrix.shape, np.nan)
        rows = np.repeat(np.arange(self.n_users), self.n_relevant)
        dense[rows, self.matrix.indices] = self.matrix.data
        return dense

    def judge(self, lists: np.ndarray) -> Judged:
        """Look every ``(n, K)`` list slot up in the truth (``-1`` slots are never hits)."""
        if self._dense is not None:  # a gather; the sorted-key search below is the general way
            rating = self._dense[np.arange(self.n_users)[:, None], lists]
            rating[lists < 0] = np.nan
            return Judged(hit=~np.isnan(rating), rating=rating)
        n_items = self.matrix.shape[1]
        query = np.arange(self.n_users, dtype=np.int64)[:, None] * n_items + lists
        query = np.where(lists >= 0, query, -1)
        keys = self._keys
        pos = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
        hit = (keys[pos] == query) if len(keys) else np.zeros(lists.shape, dtype=bool)
        rating = np.where(hit, self.matrix.data[pos] if len(keys) else np.nan, np.nan)
        return Judged(hit=hit, rating=rating)

    def gain(self, rating: np.ndarray) -> np.ndarray:
        """Signed satisfaction gain of ratings: +1 best, 0 neutral midpoint, -1 worst."""
        if self.rating_scale is None:
            return np.where(np.isnan(rating), np.nan, 1.0)
        low, high = self.rating_scale
        mid, half = (low + high) / 2.0, (high - low) / 2.0
        return np.minimum(np.maximum((rating - mid) / half, -1.0), 1.0)  # NaN stays NaN

    @cached_property
    def _ideal_dcg(self) -> dict[int, np.ndarray]:
        return {}

    def ideal_positive_dcg(self, k: int) -> np.ndarray:
        """``(n,)`` DCG@k of each user's held-out items sorted by gain, positive gains only."""
        if k not in self._ideal_dcg:
            self._ideal_dcg[k] = self._positive_dcg(k)
        return self._ideal_dcg[k]

    def _positive_dcg(self, k: int) -> np.ndarray:
        gains = np.maximum(self.gain(self.matrix.data), 0.0)
        rows = np.repeat(np.arange(self.n_users), self.n_relevant)
        order = np.lexsort((-gains, rows))
        starts = np.concatenate([[0], np.cumsum(self.n_relevant)[:-1]])
        rank = np.arange(len(order)) - starts[rows[order]]
        keep = rank < k
        disc = 1.0 / np.log2(rank[keep] + 2.0)
        return np.bincount(rows[order][keep], gains[order][keep] * disc, minlength=self.n_users)
