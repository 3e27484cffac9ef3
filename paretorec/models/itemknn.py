"""Item-based k-nearest-neighbours with shrunk cosine similarity (Sarwar et al. 2001)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from paretorec.models.base import FitData, Model, Scorer, selection_ops
from paretorec.registry import param


class _KNNScorer:
    def __init__(self, X: sp.csr_matrix, neighbours: sp.csr_matrix) -> None:
        self.X = X
        self.neighbours = neighbours

    def score(self, users: np.ndarray) -> np.ndarray:
        return (self.X[users] @ self.neighbours).toarray()


@dataclass(frozen=True)
class ItemKNN(Model):
    """Item-based kNN (Sarwar et al. 2001): sum of shrunk-cosine similarities to the user's items.

    ``score(u, j) = sum of sim(i, j)`` over the user's items i among j's k nearest neighbours;
    ``sim(i, j) = c_ij / (sqrt(c_ii) * sqrt(c_jj) + shrinkage)`` with ``c`` the co-occurrence
    counts; shrinkage damps similarities supported by few users.
    """

    name: ClassVar[str] = "itemknn"
    k: int = param(
        50,
        "neighbours kept per target item",
        above=0,
        search={"low": 5, "high": 400, "log": True, "levels": 12},
    )
    shrinkage: float = param(
        10.0,
        "added to the cosine denominator: damps similarities few users support",
        at_least=0,
        search={"low": 0.0, "high": 100.0, "levels": 5},
    )

    def fit(self, data: FitData) -> Scorer:
        sources, sims = data.neighbours(self.shrinkage, self.k)
        k = min(self.k, sources.shape[1])
        n = data.n_items
        cols = np.repeat(np.arange(n), k)
        neighbours = sp.csr_matrix(
            (sims[:, :k].ravel(), (sources[:, :k].ravel(), cols)), shape=(n, n)
        )
        neighbours.eliminate_zeros()
        return _KNNScorer(data.X, neighbours)

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        touched = np.minimum(history.astype(np.float64) * self.k, n_items)
        return history * float(self.k) + selection_ops(touched, pool)
