"""EASE: a closed-form item-item linear autoencoder (Steck 2019)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.linalg.lapack as lapack
import scipy.sparse as sp

from paretorec.errors import ConfigError
from paretorec.models.base import FitData, Model, Scorer, selection_ops
from paretorec.registry import param


class _EASEScorer:
    def __init__(self, X: sp.csr_matrix, B: np.ndarray) -> None:
        self.X = X
        self.B = B

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.X[users] @ self.B


def _spd_inverse(G: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite matrix from its Cholesky factor (LAPACK potri)."""
    factor, info = lapack.dpotrf(G, lower=True, overwrite_a=True)
    if info != 0:
        raise ConfigError(f"EASE gram + l2*I is not positive definite (LAPACK info={info})")
    inverse, info = lapack.dpotri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise ConfigError(f"EASE inverse failed (LAPACK info={info})")
    return np.tril(inverse) + np.tril(inverse, -1).T


@dataclass(frozen=True)
class EASE(Model):
    """EASE (Steck 2019), a closed-form item-item linear autoencoder: scores ``X B``.

    ``B = I - P diag(1/diag(P))`` with ``P = (X^T X + l2 I)^-1`` (a Cholesky-based inverse).
    """

    name: ClassVar[str] = "ease"
    l2: float = param(
        500.0,
        "L2 regularisation weight lambda",
        above=0,
        search={"low": 10.0, "high": 10000.0, "log": True, "levels": 16},
    )

    def fit(self, data: FitData) -> Scorer:
        G = data.gram.astype(np.float64, copy=True)
        G[np.diag_indices_from(G)] += self.l2
        P = _spd_inverse(G)
        B = P / (-np.diag(P))
        B[np.diag_indices_from(B)] = 0.0
        return _EASEScorer(data.X, B)

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        return history.astype(np.float64) * n_items + selection_ops(n_items, pool)
