"""User-based k-nearest-neighbours with shrunk cosine similarity (Herlocker et al. 1999)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from paretorec.models import incremental, reasons
from paretorec.models.base import FitData, Model, Scorer, selection_ops
from paretorec.registry import param


class _UserKNNScorer:
    def __init__(
        self,
        X: sp.csr_matrix,
        neighbours: sp.csr_matrix,
        sums: incremental.NeighbourSums | None = None,
    ) -> None:
        self.X = X
        self.neighbours = neighbours
        self.sums = sums  # kept for exact updates (``UserKNN.update``), None otherwise

    def score(self, users: np.ndarray) -> np.ndarray:
        return (self.neighbours[users] @ self.X).toarray()


@dataclass(frozen=True)
class UserKNN(incremental.ExactNeighbours, Model):
    """User-based kNN: what the user's most similar users interacted with, weighted by how
    similar they are.

    ``score(u, j) = sum of sim(u, v)`` over u's k nearest users v who interacted with j;
    ``sim(u, v) = c_uv / (sqrt(c_uu) * sqrt(c_vv) + shrinkage)`` with ``c`` the numbers of
    items two users share. Neighbour lists are sparse (memory O(users x k)).
    """

    name: ClassVar[str] = "userknn"
    update_kind: ClassVar[str] = "exact"
    axis: ClassVar[str] = "users"
    k: int = param(
        50,
        "neighbours kept per user",
        above=0,
        search={"low": 5, "high": 400, "log": True, "levels": 12},
    )
    shrinkage: float = param(
        10.0,
        "added to the cosine denominator: damps similarities few shared items support",
        at_least=0,
        search={"low": 0.0, "high": 100.0, "levels": 5},
    )

    def _matrix(self, sources: np.ndarray, sims: np.ndarray) -> sp.csr_matrix:
        return _neighbour_matrix(sources, sims)

    def _scorer(
        self,
        X: sp.csr_matrix,
        neighbours: sp.csr_matrix,
        sums: incremental.NeighbourSums | None = None,
    ) -> Scorer:
        return _UserKNNScorer(X, neighbours, sums)

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        # k neighbours' histories merged (about the user's own length each), then selection
        merged = np.minimum(history.astype(np.float64) * self.k, n_items)
        return merged + selection_ops(merged, pool)

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        found = reasons.neighbour_reasons(data.X, scorer.neighbours, user, items, top)  # type: ignore[attr-defined]
        return [[r] for r in found]


def _neighbour_matrix(others: np.ndarray, sims: np.ndarray) -> sp.csr_matrix:
    """``(n, n)`` matrix with ``sim`` at ``[user, other]`` for each user's k neighbours."""
    n, k = others.shape
    rows = np.repeat(np.arange(n), k)
    neighbours = sp.csr_matrix((sims.ravel(), (rows, others.ravel())), shape=(n, n))
    neighbours.eliminate_zeros()
    return neighbours
