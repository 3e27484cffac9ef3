"""EASE: a closed-form item-item linear autoencoder (Steck 2019)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.linalg.lapack as lapack
import scipy.sparse as sp

from paretorec.errors import ConfigError
from paretorec.models import reasons
from paretorec.models.base import FitData, Model, Scorer, SideInfo, available_memory, selection_ops
from paretorec.registry import param

# Dense n x n float64 matrices alive at the peak of a fit: the cached gram, its regularised
# copy (factorised and inverted in place), the symmetrised inverse and B.
DENSE_COPIES = 4
# Share of the memory available at the check that one EASE fit may take.
MEMORY_SHARE = 0.8


def fit_bytes(n_items: int) -> int:
    """Estimated peak bytes of an EASE fit over ``n_items`` items."""
    return DENSE_COPIES * 8 * n_items * n_items


class _EASEScorer:
    """``X B`` over the kept items; the other items score below every kept one, by
    popularity (the fallback)."""

    def __init__(
        self, X: sp.csr_matrix, B: np.ndarray, kept: np.ndarray | None, counts: np.ndarray
    ) -> None:
        self.X = X
        self.B = B
        self.kept = kept
        self.counts = counts

    def score(self, users: np.ndarray) -> np.ndarray:
        if self.kept is None:
            return self.X[users] @ self.B
        inner = self.X[users][:, self.kept] @ self.B
        floor = inner.min(axis=1, keepdims=True) if inner.size else np.zeros((len(users), 1))
        # popularity rescaled into (floor - 1, floor): every kept item outranks the rest
        fallback = self.counts / (self.counts.max() + 1.0)
        out = np.broadcast_to(floor - 1.0 + fallback, (len(users), len(self.counts))).copy()
        out[:, self.kept] = inner
        return out


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
    max_items: int = param(
        0,
        "restrict EASE to the n most popular training items (0: all); the rest are ranked "
        "below them by popularity. Memory grows as n^2",
        at_least=0,
    )

    @classmethod
    def check_data(cls, side: SideInfo, domain: Mapping[str, tuple] | None = None) -> None:
        caps = (domain or {}).get("max_items", (0,))
        n = side.n_items
        widest = n if 0 in caps else min(n, max(int(c) for c in caps))
        _check_memory(widest, n)

    def fit(self, data: FitData) -> Scorer:
        n = data.n_items
        kept = None
        if 0 < self.max_items < n:
            # most popular first, ties to the lower item index; kept in item order
            order = np.lexsort((np.arange(n), -data.item_counts))
            kept = np.sort(order[: self.max_items])
        _check_memory(n if kept is None else len(kept), n)
        if kept is None:
            G = data.gram.astype(np.float64, copy=True)
        else:
            sub = data.X[:, kept]
            G = (sub.T @ sub).toarray()
        G[np.diag_indices_from(G)] += self.l2
        P = _spd_inverse(G)
        B = P / (-np.diag(P))
        B[np.diag_indices_from(B)] = 0.0
        return _EASEScorer(data.X, B, kept, data.item_counts.astype(np.float64))

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        width = n_items if self.max_items == 0 else min(self.max_items, n_items)
        return history.astype(np.float64) * width + selection_ops(n_items, pool)

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        # score(u, j) = sum of B[i, j] over the user's items i (over the kept items when
        # max_items restricts EASE; the others are served by popularity)
        kept = scorer.kept  # type: ignore[attr-defined]
        if kept is None:
            found = reasons.history_reasons(data.X, scorer.B, user, items, top)  # type: ignore[attr-defined]
            return [[r] for r in found]
        position = np.full(data.n_items, -1)
        position[kept] = np.arange(len(kept))
        inside = position[items] >= 0
        sub = data.X[:, kept].tocsr()
        found = reasons.history_reasons(sub, scorer.B, user, position[items[inside]], top)  # type: ignore[attr-defined]
        mapped = iter(
            reasons.Reason("rated", tuple(int(kept[i]) for i in r.refs), r.weights) for r in found
        )
        fallback = reasons.popularity_reasons(data.item_counts, items)
        return [[next(mapped)] if ok else [fallback[c]] for c, ok in enumerate(inside)]


def _check_memory(width: int, n_items: int) -> None:
    need = fit_bytes(width)
    available = available_memory()
    if available is not None and need > MEMORY_SHARE * available:
        fits = int(np.sqrt(MEMORY_SHARE * available / (DENSE_COPIES * 8)))
        raise ConfigError(
            f"model `ease`: a fit over {width:,} items needs about {need / 2**30:.1f} GiB, "
            f"{available / 2**30:.1f} GiB is available; set `ease.max_items` to at most "
            f"{fits:,} (of {n_items:,}) in [space], or remove `ease` from the space"
        )
