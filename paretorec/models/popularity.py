"""Most-popular baseline: the same ranking for everyone, minus what they have seen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from paretorec.models import reasons
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
    update_kind: ClassVar[str] = "exact"

    def fit(self, data: FitData) -> Scorer:
        return _PopularityScorer(data.item_counts.astype(np.float64))

    def update(self, fitted: Scorer, before: FitData, after: FitData) -> Scorer:
        # exact: counts are integer sums, so adding the new interactions' column sums gives
        # the refit's counts bit for bit
        added = np.asarray((after.X - before.X).sum(axis=0), dtype=np.float64).ravel()
        return _PopularityScorer(fitted.counts + added)  # type: ignore[attr-defined]

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        # Served as a merge of one precomputed ranking with the user's history.
        return history.astype(np.float64) + pool

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        return [[r] for r in reasons.popularity_reasons(scorer.counts, items)]  # type: ignore[attr-defined]
