"""The training side of a stage, as re-rank terms and metrics read it.

Item-level quantities (popularity, self-information, the long tail, genre weights) are computed
once per stage and shared by every evaluation; user-level ones (the popularity baseline's lists,
genre profiles) are row-aligned with the evaluated users and follow them through ``take``
(bootstrap resamples, user segments) without being recomputed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from paretorec.data.features import ItemSimilarity, genre_weights, user_genres
from paretorec.data.popularity import long_tail_mask, self_information
from paretorec.errors import DataWarning


@dataclass(eq=False)
class Reference:
    """A stage's training data as metrics need it.

    Attributes:
        X: ``(n_users_all, n_items)`` binary CSR matrix of the stage's fit interactions.
        users: ``(n,)`` user codes of the evaluated users, row-aligned with the lists.
        similarity: Genre (feature) similarity of items.
        item_features: ``(n_items, n_features)`` item features (genres), or None.
        similarities: Item similarity by name (``genres``, ``tags``, ``semantic``), built on
            demand and shared by every stage; None when only ``similarity`` is known.
    """

    X: sp.csr_matrix
    users: np.ndarray
    similarity: ItemSimilarity
    item_features: sp.csr_matrix | None = None
    similarities: Callable[[str], ItemSimilarity] | None = None
    _shared: dict[str, Any] = field(default_factory=dict, repr=False)
    _rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def _item_level(self, key: str, make: Callable[[], Any]) -> Any:
        """Item-level values shared with every ``take`` of this reference."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    def _row_level(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        """``(n, ...)`` values row-aligned with ``users``; a ``take`` takes their rows."""
        if key not in self._rows:
            self._rows[key] = make()
        return self._rows[key]

    def warn_once(self, key: str, message: str) -> None:
        """A DataWarning, once per stage (shared with every ``take``), not per evaluation."""
        if not self._shared.get(f"warned:{key}"):
            self._shared[f"warned:{key}"] = True
            warnings.warn(message, DataWarning, stacklevel=3)

    def similarity_by(self, name: str) -> ItemSimilarity:
        """The item similarity called ``name``; ``evaluation`` is the one ILD is measured by."""
        if name == "evaluation" or self.similarities is None:
            return self.similarity
        return self.similarities(name)

    @property
    def n_items(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_train_users(self) -> int:
        return int(self.X.shape[0])

    @property
    def item_counts(self) -> np.ndarray:
        """``(n_items,)`` training users per item."""
        return self._item_level("item_counts", lambda: np.asarray(self.X.sum(axis=0)).ravel())

    @property
    def info(self) -> np.ndarray:
        """``(n_items,)`` self-information in bits (add-one smoothed)."""
        return self._item_level(
            "info", lambda: self_information(self.item_counts, self.n_train_users)
        )

    @property
    def user_bits(self) -> np.ndarray:
        """``(n_items, ceil(n_train_users / 64))`` uint64 bitset of each item's training users."""
        return self._item_level("user_bits", lambda: user_bits(self.X.T.tocsr()))

    @property
    def long_tail(self) -> np.ndarray:
        """``(n_items,)`` True for items outside the short head (see ``metrics.popularity``)."""
        return self._item_level("long_tail", lambda: long_tail_mask(self.item_counts))

    @property
    def popularity_order(self) -> np.ndarray:
        """``(n_items,)`` items by training users, most first; ties by lower item code."""
        return self._item_level(
            "popularity_order", lambda: np.argsort(-self.item_counts, kind="stable")
        )

    @property
    def genre_weights(self) -> np.ndarray | None:
        """``(n_items, n_genres)`` genre flags scaled to sum to 1 per item, or None."""
        if self.item_features is None:
            return None
        return self._item_level("genre_weights", lambda: genre_weights(self.item_features))

    @cached_property
    def history_length(self) -> np.ndarray:
        """``(n,)`` training items of each evaluated user."""
        return np.diff(self.X.indptr)[self.users]

    def user_genres(self) -> np.ndarray | None:
        """``(n, n_genres)`` each evaluated user's training genre distribution, or None."""
        weights = self.genre_weights
        if weights is None:
            return None
        return self._row_level("user_genres", lambda: user_genres(self.X[self.users], weights))

    def popular_unseen(self, k: int) -> np.ndarray:
        """``(n, k)`` the popularity baseline: the k most popular items each user has not seen.

        Ties in popularity go to the lower item code; ``-1`` pads when fewer than k are left.
        """
        return self._row_level(f"popular_unseen@{k}", lambda: self._popular_unseen(k))

    def _popular_unseen(self, k: int) -> np.ndarray:
        # With a user's seen items at popularity ranks r_0 < r_1 < ... , the j-th unseen rank is
        # j + #{t : r_t - t <= j}; r_t - t never decreases, so one searchsorted per (user, j)
        # over all users' keys answers it without a loop or a dense (n, n_items) mask.
        n_items = self.n_items
        rank = np.empty(n_items, dtype=np.int64)
        rank[self.popularity_order] = np.arange(n_items)
        seen = self.X[self.users]
        seen.sum_duplicates()  # the rank arithmetic below needs each seen item once
        counts = np.diff(seen.indptr)
        row = np.repeat(np.arange(len(self.users), dtype=np.int64), counts)
        ranks = np.sort(row * n_items + rank[seen.indices]) - row * n_items
        starts = seen.indptr[:-1].astype(np.int64)
        shifted = ranks - (np.arange(len(ranks)) - np.repeat(starts, counts))
        keys = row * (n_items + 1) + shifted
        j = np.arange(k, dtype=np.int64)
        query = np.arange(len(self.users), dtype=np.int64)[:, None] * (n_items + 1) + j
        before = np.searchsorted(keys, query, side="right") - starts[:, None]
        position = j + before
        fits = position < n_items
        return np.where(fits, self.popularity_order[np.minimum(position, n_items - 1)], -1)

    def take(self, rows: np.ndarray) -> Reference:
        """The same stage restricted to ``rows`` of the evaluated users (shares item caches)."""
        return Reference(
            X=self.X,
            users=self.users[rows],
            similarity=self.similarity,
            item_features=self.item_features,
            similarities=self.similarities,
            _shared=self._shared,
            _rows={key: values[rows] for key, values in self._rows.items()},
        )


def user_bits(item_users: sp.csr_matrix) -> np.ndarray:
    """``(n_items, ceil(n_users / 64))`` uint64: bit u of row i is set when user u has item i.

    A packed bitset is ``n_items * n_users / 8`` bytes (0.7 MB for ml-latest-small), and the
    co-occurrence of two items is one AND and a popcount over their rows.

    Args:
        item_users: ``(n_items, n_users)`` CSR whose stored entries mark interactions.
    """
    n_items, n_users = item_users.shape
    bits = np.zeros((n_items, (n_users + 63) // 64), dtype=np.uint64)
    item = np.repeat(np.arange(n_items), np.diff(item_users.indptr))
    user = item_users.indices.astype(np.uint64)
    np.bitwise_or.at(bits, (item, user >> np.uint64(6)), np.uint64(1) << (user & np.uint64(63)))
    return bits
