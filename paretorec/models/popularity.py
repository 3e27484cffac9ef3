"""Most-popular baseline: the same ranking for everyone, minus what they have seen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from paretorec.models.base import FitData, Model, Scorer


class _PopularityScorer:
    def __init__(self, counts: np.ndarray) -> None:
        self.counts = counts

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(users), len(self.counts)))


@dataclass(frozen=True)
class Popularity(Model):
    """Most popular: every item scored by its number of training users (the reference baseline)."""

    name: ClassVar[str] = "popularity"
    reference: ClassVar[bool] = True

    def fit(self, data: FitData) -> Scorer:
        return _PopularityScorer(data.item_counts.astype(np.float64))

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        # Served as a merge of one precomputed ranking with the user's history.
        return history.astype(np.float64) + pool
