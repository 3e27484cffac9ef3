"""Item-based k-nearest-neighbours with shrunk cosine similarity (Sarwar et al. 2001)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from paretorec.models import incremental, reasons
from paretorec.models.base import FitData, Model, Scorer, selection_ops
from paretorec.registry import param


def k_param() -> Any:
    """ItemKNN's ``k``, declared once for every item-neighbour model (ItemKNN, its DP form)."""
    return param(
        50,
        "neighbours kept per target item",
        above=0,
        search={"low": 5, "high": 400, "log": True, "levels": 12},
    )


def shrinkage_param() -> Any:
    """ItemKNN's ``shrinkage``, declared once like ``k_param``."""
    return param(
        10.0,
        "added to the cosine denominator: damps similarities few users support",
        at_least=0,
        search={"low": 0.0, "high": 100.0, "levels": 5},
    )


class _KNNScorer:
    def __init__(
        self,
        X: sp.csr_matrix,
        neighbours: sp.csr_matrix,
        sums: incremental.NeighbourSums | None = None,
    ) -> None:
        self.X = X
        self.neighbours = neighbours
        self.sums = sums  # kept for exact updates (``ItemKNN.update``), None otherwise

    def score(self, users: np.ndarray) -> np.ndarray:
        return (self.X[users] @ self.neighbours).toarray()


@dataclass(frozen=True)
class ItemKNN(incremental.ExactNeighbours, Model):
    """Item-based kNN (Sarwar et al. 2001): sum of shrunk-cosine similarities to the user's items.

    ``score(u, j) = sum of sim(i, j)`` over the user's items i among j's k nearest neighbours;
    ``sim(i, j) = c_ij / (sqrt(c_ii) * sqrt(c_jj) + shrinkage)`` with ``c`` the co-occurrence
    counts; shrinkage damps similarities supported by few users.
    """

    name: ClassVar[str] = "itemknn"
    update_kind: ClassVar[str] = "exact"
    axis: ClassVar[str] = "items"
    k: int = k_param()
    shrinkage: float = shrinkage_param()

    def _matrix(self, sources: np.ndarray, sims: np.ndarray) -> sp.csr_matrix:
        return _neighbour_matrix(sources, sims)

    def _scorer(
        self,
        X: sp.csr_matrix,
        neighbours: sp.csr_matrix,
        sums: incremental.NeighbourSums | None = None,
    ) -> Scorer:
        return _KNNScorer(X, neighbours, sums)

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        touched = np.minimum(history.astype(np.float64) * self.k, n_items)
        return history * float(self.k) + selection_ops(touched, pool)

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        # score(u, j) = sum of neighbours[i, j] over the user's items i: exact contributions
        found = reasons.history_reasons(data.X, scorer.neighbours, user, items, top)  # type: ignore[attr-defined]
        return [[r] for r in found]


def _neighbour_matrix(sources: np.ndarray, sims: np.ndarray) -> sp.csr_matrix:
    """``(n, n)`` matrix with ``sim`` at ``[source, target]`` for each target's k neighbours."""
    n, k = sources.shape
    cols = np.repeat(np.arange(n), k)
    neighbours = sp.csr_matrix((sims.ravel(), (sources.ravel(), cols)), shape=(n, n))
    neighbours.eliminate_zeros()
    return neighbours
