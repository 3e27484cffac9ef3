"""What beyond-accuracy metrics compare lists with: the training side of a stage.

Item-level quantities (popularity, self-information, the long tail) are computed once per stage
and shared by every evaluation; user-level ones are row-aligned with the evaluated users and
follow them through ``take`` (bootstrap resamples, user segments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from paretorec.metrics.beyond import self_information
from paretorec.rerank.similarity import ItemSimilarity


@dataclass(eq=False)
class Reference:
    """A stage's training data as metrics need it.

    Attributes:
        X: ``(n_users_all, n_items)`` binary CSR matrix of the stage's fit interactions.
        users: ``(n,)`` user codes of the evaluated users, row-aligned with the lists.
        similarity: Genre (feature) similarity of items.
        item_features: ``(n_items, n_features)`` item features (genres), or None.
    """

    X: sp.csr_matrix
    users: np.ndarray
    similarity: ItemSimilarity
    item_features: sp.csr_matrix | None = None
    _shared: dict[str, Any] = field(default_factory=dict, repr=False)

    def _item_level(self, key: str, make: Any) -> Any:
        """Item-level values shared with every ``take`` of this reference."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

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

    @cached_property
    def history_length(self) -> np.ndarray:
        """``(n,)`` training items of each evaluated user."""
        return np.diff(self.X.indptr)[self.users]

    def take(self, rows: np.ndarray) -> Reference:
        """The same stage restricted to ``rows`` of the evaluated users (shares item caches)."""
        return Reference(
            self.X, self.users[rows], self.similarity, self.item_features, self._shared
        )
