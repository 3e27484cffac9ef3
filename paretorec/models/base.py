"""What every candidate generator shares: fit data with cached derived matrices, the model
contract, and exact top-C candidate selection."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar, Protocol

import numpy as np
import scipy.sparse as sp

from paretorec.registry import Declared

USER_BLOCK = 2048  # users scored at once; bounds the dense (block, n_items) score matrix
ITEM_BLOCK = 1024  # target items whose neighbour lists are computed at once


class FitData:
    """The training matrix of one stage plus matrices every model of that stage can reuse.

    Args:
        X: ``(n_users, n_items)`` binary CSR interaction matrix.
    """

    def __init__(self, X: sp.csr_matrix) -> None:
        self.X = X

    @property
    def n_items(self) -> int:
        return int(self.X.shape[1])

    @cached_property
    def gram(self) -> np.ndarray:
        """``(n_items, n_items)`` dense co-occurrence counts ``X^T X`` (computed once)."""
        return (self.X.T @ self.X).toarray()

    def neighbours(self, shrinkage: float, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each item's ``k`` (or more) most similar items by shrunk cosine, best first.

        ``sim(i, j) = c_ij / (sqrt(c_ii) sqrt(c_jj) + shrinkage)``; ties go to the lower item
        index, so the first k of a longer list are exactly the top k. Lists are cached per
        shrinkage and grown on demand, so ItemKNN refits for another k only slice.

        Returns:
            ``(n_items, K)`` source items and ``(n_items, K)`` similarities, K >= min(k, n-1);
            row j lists the items most similar to target j.
        """
        k = min(k, self.n_items - 1)
        cached = self._neighbours.get(shrinkage)
        if cached is None or cached[0].shape[1] < k:
            size = min(max(k, 2 * (0 if cached is None else cached[0].shape[1])), self.n_items - 1)
            cached = self._top_similar(shrinkage, size)
            self._neighbours[shrinkage] = cached
        return cached

    def _top_similar(self, shrinkage: float, size: int) -> tuple[np.ndarray, np.ndarray]:
        gram = self.gram
        norms = np.sqrt(np.diag(gram))
        n = self.n_items
        sources = np.empty((n, size), dtype=np.int32)
        sims = np.empty((n, size))
        for lo in range(0, n, ITEM_BLOCK):
            hi = min(lo + ITEM_BLOCK, n)
            # rows: targets lo..hi, columns: every source item
            block = gram[lo:hi] / (np.outer(norms[lo:hi], norms) + shrinkage + 1e-12)
            block[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf  # not its own neighbour
            sources[lo:hi], sims[lo:hi] = top_c(block, size)
        return sources, sims

    @cached_property
    def _neighbours(self) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        return {}

    @cached_property
    def item_counts(self) -> np.ndarray:
        """``(n_items,)`` number of users who interacted with each item."""
        return np.asarray(self.X.sum(axis=0)).ravel()

    @cached_property
    def history_length(self) -> np.ndarray:
        """``(n_users,)`` number of training items per user."""
        return np.diff(self.X.indptr)


class Scorer(Protocol):
    """A fitted model: dense relevance scores for a block of users."""

    def score(self, users: np.ndarray) -> np.ndarray:
        """``(len(users), n_items)`` scores; higher is more relevant."""
        ...


class Model(Declared):
    """Base of the candidate generators: a frozen dataclass of hyperparameters (declared with
    ``paretorec.registry.param``, checked on construction) that fits into a Scorer.

    A subclass sets ``name``, declares its hyperparameters (with their default search ranges),
    and implements ``fit`` and ``scoring_ops`` (its cost model: deterministic operations to
    produce one user's candidates). ``reference = True`` marks the model whose default lists
    anchor the hypervolume of accuracy objectives (popularity: "better than recommending what
    is popular"); ``default_space = False`` keeps a model out of the built-in search space.
    """

    name: ClassVar[str] = ""
    reference: ClassVar[bool] = False
    default_space: ClassVar[bool] = True

    @classmethod
    def kind_label(cls) -> str:
        return "model"

    def fit(self, data: FitData) -> Scorer:
        raise NotImplementedError

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        """``(n,)`` deterministic operation counts to produce a user's top-``pool`` candidates."""
        raise NotImplementedError


def selection_ops(n_scored: np.ndarray | float, pool: int) -> np.ndarray:
    """Comparisons of a heap selection of ``pool`` items from ``n_scored`` scored items."""
    return np.asarray(n_scored, dtype=np.float64) * np.log2(max(pool, 2))


@dataclass(frozen=True, eq=False)
class CandidateSet:
    """Each evaluated user's top candidates, best first.

    Attributes:
        users: ``(n,)`` user codes.
        items: ``(n, C)`` int32 item codes, ``-1`` where a user has fewer than C candidates.
        scores: ``(n, C)`` float64 model scores, ``-inf`` where ``items == -1``.
        seconds: Wall time spent scoring and selecting, for the measured cost.
    """

    users: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    seconds: float


def top_c(scores: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``c`` per row, ordered by score then by lower item index.

    The tie rule makes the result a pure function of the scores, so the top-c of a smaller c is
    always a prefix of a larger one (a pool size change never needs a refit).

    Args:
        scores: ``(n, m)`` scores, ``-inf`` for items that must not be returned.
        c: Number of items per row.

    Returns:
        ``(n, c)`` int32 items (``-1`` where fewer than c are finite) and their float64 scores.
    """
    m = scores.shape[1]
    c_eff = min(c, m)
    cols = np.argpartition(-scores, c_eff - 1, axis=1)[:, :c_eff]
    vals = np.take_along_axis(scores, cols, axis=1)
    # argpartition picks an arbitrary subset of the items tied at the cut; re-pick those rows
    # by lowest index so the result does not depend on the selection algorithm.
    threshold = vals.min(axis=1, keepdims=True)
    straddle = (scores == threshold).sum(axis=1) > (vals == threshold).sum(axis=1)
    if straddle.any():
        sub, thr = scores[straddle], threshold[straddle]
        tie = sub == thr
        need = c_eff - (sub > thr).sum(axis=1, keepdims=True)
        chosen = (sub > thr) | (tie & (np.cumsum(tie, axis=1) <= need))
        cols[straddle] = np.nonzero(chosen)[1].reshape(-1, c_eff)
        vals[straddle] = np.take_along_axis(sub, cols[straddle], axis=1)
    order = np.lexsort((cols, -vals), axis=1)
    items = np.take_along_axis(cols, order, axis=1).astype(np.int32)
    vals = np.take_along_axis(vals, order, axis=1)
    items[~np.isfinite(vals)] = -1
    if c_eff < c:
        items = np.pad(items, ((0, 0), (0, c - c_eff)), constant_values=-1)
        vals = np.pad(vals, ((0, 0), (0, c - c_eff)), constant_values=-np.inf)
    return items, vals


def generate_candidates(
    scorer: Scorer, X: sp.csr_matrix, users: np.ndarray, c: int
) -> CandidateSet:
    """Top-``c`` unseen items for ``users``; the users' training items are never candidates."""
    start = time.perf_counter()
    items = np.empty((len(users), c), dtype=np.int32)
    vals = np.empty((len(users), c), dtype=np.float64)
    for lo in range(0, len(users), USER_BLOCK):
        block = users[lo : lo + USER_BLOCK]
        s = np.array(scorer.score(block), dtype=np.float64)
        seen = X[block]
        s[np.repeat(np.arange(len(block)), np.diff(seen.indptr)), seen.indices] = -np.inf
        items[lo : lo + len(block)], vals[lo : lo + len(block)] = top_c(s, c)
    return CandidateSet(users, items, vals, time.perf_counter() - start)
