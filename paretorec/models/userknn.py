"""User-based k-nearest-neighbours with shrunk cosine similarity (Herlocker et al. 1999)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from paretorec.models.base import FitData, Model, Scorer, selection_ops
from paretorec.registry import param


class _UserKNNScorer:
    def __init__(self, X: sp.csr_matrix, neighbours: sp.csr_matrix) -> None:
        self.X = X
        self.neighbours = neighbours

    def score(self, users: np.ndarray) -> np.ndarray:
        return (self.neighbours[users] @ self.X).toarray()


@dataclass(frozen=True)
class UserKNN(Model):
    """User-based kNN: what the user's most similar users interacted with, weighted by how
    similar they are.

    ``score(u, j) = sum of sim(u, v)`` over u's k nearest users v who interacted with j;
    ``sim(u, v) = c_uv / (sqrt(c_uu) * sqrt(c_vv) + shrinkage)`` with ``c`` the numbers of
    items two users share. Neighbour lists are sparse (memory O(users x k)).
    """

    name: ClassVar[str] = "userknn"
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

    def fit(self, data: FitData) -> Scorer:
        others, sims = data.neighbours(self.shrinkage, self.k, axis="users")
        k = min(self.k, others.shape[1])
        n = data.n_users
        rows = np.repeat(np.arange(n), k)
        neighbours = sp.csr_matrix(
            (sims[:, :k].ravel(), (rows, others[:, :k].ravel())), shape=(n, n)
        )
        neighbours.eliminate_zeros()
        return _UserKNNScorer(data.X, neighbours)

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        # k neighbours' histories merged (about the user's own length each), then selection
        merged = np.minimum(history.astype(np.float64) * self.k, n_items)
        return merged + selection_ops(merged, pool)
