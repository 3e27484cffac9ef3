"""Differentially private count models: popularity, ItemKNN and a user-neighbourhood model
whose only use of other users' data is a noisy count release (OpenDP's discrete Laplace).

The privacy unit is a user: two datasets are neighbours when one has one more user (with any
history). Each model (1) keeps at most ``max_items`` = L items per user
(``paretorec.privacy.bound_contributions``), (2) releases its counts with noise calibrated to
their L1 sensitivity under that bound, and (3) scores a user from the release and the user's
own history only. Step 3 is post-processing of the release for everyone else (the "billboard"
setting: what user u is shown depends on other users only through the release), so the lists
of all users together are ε-DP with respect to any other user. Sensitivities:

- popularity: item counts; one user adds 1 to at most L items: ``Δ1 = L``.
- dp_itemknn: item counts (the diagonal) and pair counts (the upper triangle) of ``X^T X``;
  one user adds 1 to L diagonal entries and to L(L-1)/2 pairs: ``Δ1 = L + L(L-1)/2 = L(L+1)/2``.
- dp_userknn: the same triangle of ``X^T W X`` with the user weights ``w_v = 1/sqrt(n_v)``,
  in integers ``round(Q w_v)``: ``Δ1 = max over n <= L of n(n+1)/2 * round(Q/sqrt(n))``,
  about ``Q L^1.5 / 2``.

At ``epsilon = inf`` (``scorer_for(data, math.inf)``) no noise is added; with ``max_items`` at
least the longest history the models equal their non-private counterparts exactly
(tests/privacy/test_models.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from paretorec.models import reasons
from paretorec.models.base import FitData, Model, Scorer, selection_ops, top_c
from paretorec.models.itemknn import k_param, shrinkage_param
from paretorec.privacy import bound_contributions, laplace_scale, noisy_counts
from paretorec.registry import param

Q = 1000  # dp_userknn's weights in integer units (OpenDP's exact mechanism is on integers)

_EPSILON = {"low": 0.1, "high": 30.0, "log": True}


def _epsilon(default: float = 1.0) -> float:
    return param(
        default,
        "privacy loss ε of the released counts (per fit; lower is more private)",
        above=0,
        search=_EPSILON,
    )


def _max_items(default: int, what: str) -> int:
    return param(
        default,
        f"L: most items one user contributes to the {what} (bounds the sensitivity)",
        above=0,
        search={"low": 2, "high": 256, "log": True, "levels": 8},
    )


def _triangle(gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(gram.shape[0])  # the diagonal and every pair once


def _noisy_gram(
    gram: np.ndarray, sensitivity: int, epsilon: float, floor: bool = False
) -> np.ndarray:
    """The symmetric matrix whose triangle is the noisy release of ``gram``'s triangle.

    With ``floor``, a pair released at most ``b ln(n)`` (b the noise scale) is set to 0.
    Nearly every pair of a catalogue is a true 0, and the largest noise draws (about
    ``b ln(n)``) outrank the real co-occurrences: on ML-100k's validation split, dp_itemknn at
    ε = 100 scored NDCG@10 0.005 without the floor (below a random list), 0.127 with it, and
    0.221 without noise. The floor reads only the release and public constants, so it is
    post-processing and costs no privacy. dp_userknn sums released rows over a user's history,
    where the noise averages out and the floor would drop most real counts (at ε = 10 it took
    test NDCG@10 from 0.077 to 0.018), so only dp_itemknn, which picks each item's k largest
    similarities, uses it.
    """
    if math.isinf(epsilon):
        return gram.astype(np.float64)
    rows, cols = _triangle(gram)
    released = noisy_counts(gram[rows, cols], sensitivity, epsilon).astype(np.float64)
    if floor:
        cut = laplace_scale(int(sensitivity), float(epsilon)) * math.log(max(gram.shape[0], 2))
        released[(rows != cols) & (released <= cut)] = 0.0
    out = np.empty(gram.shape, dtype=np.float64)
    out[rows, cols] = released
    out[cols, rows] = released
    return out


class _CountsScorer:
    def __init__(self, counts: np.ndarray) -> None:
        self.counts = counts

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(users), len(self.counts)))


class _HistoryScorer:
    """``score(u) = scale_u * (x_u @ M)``: the user's own history against a released matrix."""

    def __init__(self, X: sp.csr_matrix, matrix: np.ndarray | sp.csr_matrix, scale: np.ndarray):
        self.X = X
        self.matrix = matrix
        self.scale = scale

    def score(self, users: np.ndarray) -> np.ndarray:
        out = self.X[users] @ self.matrix
        out = out.toarray() if sp.issparse(out) else np.asarray(out)
        return out * self.scale[users, None]


class _Private(Model):
    """What the DP models share: ε and L, the privacy objective, and fit = scorer at ε. Out
    of the built-in search space: a privacy study names them (experiments/ml100k_privacy.toml)."""

    default_space: ClassVar[bool] = False
    epsilon: float
    max_items: int

    def privacy_epsilon(self) -> float:
        return self.epsilon

    def fit(self, data: FitData) -> Scorer:
        return self.scorer_for(data, self.epsilon)

    def scorer_for(self, data: FitData, epsilon: float) -> Scorer:
        """The fitted scorer at privacy loss ``epsilon`` (``math.inf``: no noise)."""
        raise NotImplementedError

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        # from the released (noisy) matrices and counts only: the reasons are as private as
        # the lists
        if isinstance(scorer, _CountsScorer):
            return [[r] for r in reasons.popularity_reasons(scorer.counts, items)]
        assert isinstance(scorer, _HistoryScorer)
        found = reasons.history_reasons(data.X, scorer.matrix, user, items, top)
        scale = float(scorer.scale[user])  # score = scale_u * (x_u @ M): exact contributions
        return [
            [reasons.Reason("rated", r.refs, tuple(w * scale for w in r.weights))] for r in found
        ]

    def bounded(self, data: FitData) -> sp.csr_matrix:
        """The training matrix with at most ``max_items`` items per user."""
        return bound_contributions(data.X, self.max_items)


@dataclass(frozen=True)
class DPPopularity(_Private):
    """Most popular from ε-DP item counts (at most L items per user, discrete Laplace noise)."""

    name: ClassVar[str] = "dp_popularity"
    epsilon: float = _epsilon()
    max_items: int = _max_items(64, "item counts")

    @staticmethod
    def sensitivity(max_items: int) -> int:
        return max_items

    def scorer_for(self, data: FitData, epsilon: float) -> Scorer:
        counts = np.asarray(self.bounded(data).sum(axis=0)).ravel().astype(np.int64)
        noisy = noisy_counts(counts, self.sensitivity(self.max_items), epsilon)
        return _CountsScorer(noisy.astype(np.float64))

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        return history.astype(np.float64) + pool  # as popularity: one ranking merged


@dataclass(frozen=True)
class DPItemKNN(_Private):
    """ItemKNN (shrunk cosine, k neighbours) on ε-DP item and pair counts (at most L items per
    user). Memory O(n_items^2): every pair count is released, zero or not, since the set of
    nonzero pairs is itself private."""

    name: ClassVar[str] = "dp_itemknn"
    k: int = k_param()
    shrinkage: float = shrinkage_param()
    epsilon: float = _epsilon()
    max_items: int = _max_items(16, "co-occurrence counts")

    @staticmethod
    def sensitivity(max_items: int) -> int:
        return max_items * (max_items + 1) // 2

    def scorer_for(self, data: FitData, epsilon: float) -> Scorer:
        Xb = self.bounded(data)
        gram = (Xb.T @ Xb).toarray().astype(np.int64)
        released = _noisy_gram(gram, self.sensitivity(self.max_items), epsilon, floor=True)
        counts = np.maximum(released, 0.0)
        # the same shrunk cosine, tie rule and k-selection as FitData.neighbours, from the
        # released counts (bitwise the same similarities when nothing is noised)
        norms = np.sqrt(np.diagonal(counts))
        sims = counts / (np.outer(norms, norms) + self.shrinkage + 1e-12)
        n = data.n_items
        np.fill_diagonal(sims, -np.inf)
        k = min(self.k, max(n - 1, 1))
        sources, values = top_c(sims, k)
        keep = sources >= 0
        neighbours = sp.csr_matrix(
            (values[keep], (sources[keep], np.repeat(np.arange(n), k)[keep.ravel()])),
            shape=(n, n),
        )
        neighbours.eliminate_zeros()
        return _HistoryScorer(data.X, neighbours, np.ones(data.n_users))

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        touched = np.minimum(history.astype(np.float64) * self.k, n_items)
        return history * float(self.k) + selection_ops(touched, pool)


@dataclass(frozen=True)
class DPUserKNN(_Private):
    """User-based kNN with every user a neighbour (cosine, no shrinkage), from ε-DP
    user-weighted co-occurrence counts.

    ``score(u, j) = sum over v of cos(u, v) x_vj = x_u (sum_v x_v^T x_v / sqrt(n_v)) / sqrt(n_u)``:
    the neighbourhood sum factors through one item-by-item matrix, which is released with
    noise, so no other user's history reaches u's list except through the release (a top-k
    neighbour choice would; hence all users, and no shrinkage, which does not factor).
    """

    name: ClassVar[str] = "dp_userknn"
    epsilon: float = _epsilon()
    max_items: int = _max_items(32, "weighted co-occurrence counts")

    @staticmethod
    def sensitivity(max_items: int) -> int:
        n = np.arange(1, max_items + 1)
        return int((n * (n + 1) // 2 * np.rint(Q / np.sqrt(n)).astype(np.int64)).max())

    def scorer_for(self, data: FitData, epsilon: float) -> Scorer:
        Xb = self.bounded(data)
        lengths = np.diff(Xb.indptr).astype(np.float64)
        with np.errstate(divide="ignore"):
            inv_sqrt = np.where(lengths > 0, 1.0 / np.sqrt(lengths), 0.0)
        if math.isinf(epsilon):
            gram = (Xb.T @ sp.diags(inv_sqrt) @ Xb).toarray()
        else:  # integer weights: OpenDP's exact mechanism noises integers
            weights = np.rint(Q * inv_sqrt)
            gram = (Xb.T @ sp.diags(weights) @ Xb).toarray().astype(np.int64)
            gram = _noisy_gram(gram, self.sensitivity(self.max_items), epsilon) / Q
        own = np.diff(data.X.indptr).astype(np.float64)
        with np.errstate(divide="ignore"):
            scale = np.where(own > 0, 1.0 / np.sqrt(own), 0.0)
        return _HistoryScorer(data.X, gram, scale)

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        # a dense row of the released matrix per history item, then selection over the catalogue
        return history.astype(np.float64) * n_items + selection_ops(float(n_items), pool)


PRIVATE_MODELS = (DPPopularity, DPItemKNN, DPUserKNN)
