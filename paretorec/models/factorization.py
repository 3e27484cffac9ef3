"""Matrix factorisation through the ``implicit`` library (CPU): ALS (Hu, Koren & Volinsky 2008)
and BPR (Rendle et al. 2009).

Both fit on one thread with a fixed seed: implicit's multi-threaded updates (BPR's Hogwild SGD,
ALS's parallel solves) make factors depend on thread timing, and single-threaded fits make
serial and ``--workers`` runs identical. Scores are the float32 dot products implicit's own
``recommend`` ranks by, so the top-C lists equal implicit's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from paretorec.errors import ConfigWarning
from paretorec.models import reasons
from paretorec.models.base import FitData, Model, Scorer, selection_ops
from paretorec.registry import param


class FactorScorer:
    """Scores ``user_factors[u] . item_factors[i]`` in float32, as implicit ranks them."""

    def __init__(self, user_factors: np.ndarray, item_factors: np.ndarray) -> None:
        self.user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T

    @property
    def nbytes(self) -> int:
        return self.user_factors.nbytes + self.item_factors.nbytes


def _implicit_cpu() -> Any:
    import implicit.cpu.als
    import implicit.cpu.bpr

    return implicit.cpu


def _fit(make: Any, data: FitData, name: str, **params: Any) -> FactorScorer:
    from implicit.recommender_base import ModelFitError

    # implicit warns unless BLAS is single-threaded when the model is built (the pipeline
    # limits it too)
    with threadpool_limits(1, "blas"):
        model = make(**params, num_threads=1)
        try:
            model.fit(sp.csr_matrix(data.X, dtype=np.float32), show_progress=False)
        except ModelFitError:
            # SGD diverged (BPR at a large learning rate with 256 factors, say): a point of the
            # space, not a user error, so the search goes on. Non-finite factors score 0, so
            # the point lands far down the front and the search moves away from it.
            warnings.warn(
                f"model `{name}` diverged at {params} (non-finite factors); those factors "
                "score 0. Narrow the learning rate or regularisation range if this repeats",
                ConfigWarning,
                stacklevel=2,
            )
    return FactorScorer(_finite(model.user_factors), _finite(model.item_factors))


def _finite(factors: np.ndarray) -> np.ndarray:
    factors = np.asarray(factors, dtype=np.float32)
    return np.where(np.isfinite(factors), factors, np.float32(0.0))


@dataclass(frozen=True)
class ALS(Model):
    """Weighted matrix factorisation for implicit feedback by alternating least squares
    (Hu, Koren & Volinsky 2008): confidence ``1 + alpha`` on observed pairs."""

    name: ClassVar[str] = "als"
    factors: int = param(
        64, "latent dimensions", above=0, search={"low": 8, "high": 256, "log": True, "levels": 6}
    )
    regularization: float = param(
        0.05,
        "L2 weight on the factors",
        above=0,
        search={"low": 0.001, "high": 10.0, "log": True, "levels": 9},
    )
    iterations: int = param(15, "ALS sweeps", above=0, search={"low": 5, "high": 30, "levels": 6})
    alpha: float = param(
        10.0,
        "confidence of an observed interaction is 1 + alpha",
        above=0,
        search={"low": 1.0, "high": 100.0, "log": True, "levels": 5},
    )
    seed: int = param(0, "random seed of the initial factors", at_least=0)
    # approximate: new interactions recompute the changed users' factors against the fixed
    # item factors (implicit's ``partial_fit_users``); the items' factors stay as fitted
    update_kind: ClassVar[str] = "approximate"

    def update(self, fitted: Scorer, before: FitData, after: FitData) -> Scorer:
        changed = np.flatnonzero(np.diff((after.X != before.X).tocsr().indptr))
        factors = fitted.user_factors.copy()  # type: ignore[attr-defined]
        if len(changed):
            with threadpool_limits(1, "blas"):
                model = self._implicit(factors, fitted.item_factors)  # type: ignore[attr-defined]
                model.partial_fit_users(changed, sp.csr_matrix(after.X[changed], dtype=np.float32))
            factors = model.user_factors
        return FactorScorer(_finite(factors), fitted.item_factors)  # type: ignore[attr-defined]

    def _implicit(self, user_factors: np.ndarray, item_factors: np.ndarray) -> Any:
        """An implicit ALS model holding the given factors (no fit)."""
        model = _implicit_cpu().als.AlternatingLeastSquares(
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.seed,
            num_threads=1,
        )
        model.user_factors, model.item_factors = user_factors, item_factors
        return model

    def fit(self, data: FitData) -> Scorer:
        return _fit(
            _implicit_cpu().als.AlternatingLeastSquares,
            data,
            self.name,
            factors=self.factors,
            regularization=self.regularization,
            alpha=self.alpha,
            iterations=self.iterations,
            random_state=self.seed,
        )

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        per_user = float(self.factors) * n_items + selection_ops(n_items, pool)
        return np.full(history.shape, per_user, dtype=np.float64)

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        vectors = scorer.item_factors  # type: ignore[attr-defined]
        found = reasons.nearest_rated(vectors, data.X, user, items, top, "factor space")
        return [[r] for r in found]


@dataclass(frozen=True)
class BPR(Model):
    """Bayesian personalised ranking (Rendle et al. 2009): SGD on sampled (user, seen item,
    unseen item) triples."""

    name: ClassVar[str] = "bpr"
    factors: int = param(
        64, "latent dimensions", above=0, search={"low": 8, "high": 256, "log": True, "levels": 6}
    )
    learning_rate: float = param(
        0.05,
        "SGD step size",
        above=0,
        search={"low": 0.001, "high": 0.2, "log": True, "levels": 8},
    )
    regularization: float = param(
        0.01,
        "L2 weight on the factors",
        at_least=0,
        search={"low": 0.0001, "high": 0.1, "log": True, "levels": 5},
    )
    iterations: int = param(
        100, "epochs over the interactions", above=0, search={"low": 20, "high": 200, "levels": 10}
    )
    seed: int = param(0, "random seed of the factors and the sampling", at_least=0)

    def fit(self, data: FitData) -> Scorer:
        return _fit(
            _implicit_cpu().bpr.BayesianPersonalizedRanking,
            data,
            self.name,
            factors=self.factors,
            learning_rate=self.learning_rate,
            regularization=self.regularization,
            iterations=self.iterations,
            random_state=self.seed,
        )

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        # implicit's BPR keeps one extra factor column for the item bias
        per_user = float(self.factors + 1) * n_items + selection_ops(n_items, pool)
        return np.full(history.shape, per_user, dtype=np.float64)

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        vectors = scorer.item_factors[:, :-1]  # type: ignore[attr-defined]  # minus the bias
        found = reasons.nearest_rated(vectors, data.X, user, items, top, "factor space")
        return [[r] for r in found]
