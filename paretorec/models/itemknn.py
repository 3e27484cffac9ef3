"""Item-based k-nearest-neighbours with shrunk cosine similarity (Sarwar et al. 2001)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from paretorec.errors import ConfigError
from paretorec.models.base import FitData, Scorer, selection_ops


class _KNNScorer:
    def __init__(self, X: sp.csr_matrix, neighbours: sp.csr_matrix) -> None:
        self.X = X
        self.neighbours = neighbours

    def score(self, users: np.ndarray) -> np.ndarray:
        return (self.X[users] @ self.neighbours).toarray()


@dataclass(frozen=True)
class ItemKNN:
    """``score(u, j) = sum of sim(i, j)`` over the user's items i among j's k nearest neighbours.

    ``sim(i, j) = c_ij / (sqrt(c_ii) * sqrt(c_jj) + shrinkage)`` with ``c`` the co-occurrence
    counts; shrinkage damps similarities supported by few users.

    Attributes:
        k: Neighbours kept per target item, ``k > 0``.
        shrinkage: Added to the cosine denominator, ``>= 0``.
    """

    k: int = 50
    shrinkage: float = 10.0
    name: ClassVar[str] = "itemknn"

    def __post_init__(self) -> None:
        if not (isinstance(self.k, int | np.integer) and self.k > 0):
            raise ConfigError(f"`itemknn.k > 0` (an integer) must hold, got k={self.k!r}")
        if not self.shrinkage >= 0:
            raise ConfigError(f"`itemknn.shrinkage >= 0` must hold, got {self.shrinkage!r}")

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
