"""Exact incremental updates of the neighbourhood models: co-occurrence sums grown by the new
interactions, and neighbour lists recomputed only where a similarity can have changed.

The co-occurrence counts of the rows of a matrix ``A`` are ``C = A^T A``: a sum over A's rows.
For ItemKNN ``A = X`` (users x items, ``C`` item by item); for UserKNN ``A = X^T`` (``C`` user
by user). New interactions change some rows of ``A`` (the users, or items, that gained events),
so with ``D = A' - A`` (the new entries) ``C' = C + A'^T D + D^T A``. A shrunk cosine
``c_ab / (sqrt(c_aa) sqrt(c_bb) + shrinkage)`` changes where ``c_ab`` changed or where the
norm of either side did, so only the rows of C with such an entry get new neighbour lists.
Counts are integers, held as int32 and turned to float64 exactly, and the similarities use
the same operations in the same order as ``paretorec.models.base._top_similar``: the lists
are bitwise those of a full refit (the oracle test in ``tests/contracts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from paretorec.models.base import BLOCK_ELEMENTS, ITEM_BLOCK, FitData, Scorer, top_c


@dataclass(frozen=True, eq=False)
class NeighbourSums:
    """What an exact neighbourhood update keeps: the co-occurrence counts and the lists.

    Attributes:
        counts: ``(n, n)`` int32 CSR co-occurrence counts ``A^T A``.
        sources: ``(n, k)`` neighbour indices per row, best first.
        sims: ``(n, k)`` their shrunk cosines.
    """

    counts: sp.csr_matrix
    sources: np.ndarray
    sims: np.ndarray

    @property
    def norms(self) -> np.ndarray:
        """``(n,)`` the rows' norms ``sqrt(c_aa)``, as ``_top_similar`` computes them."""
        return np.sqrt(self.counts.diagonal().astype(np.float64))


class ExactNeighbours:
    """``fit``, ``updatable`` and ``update`` of a neighbourhood model (ItemKNN, UserKNN): its
    neighbour lists are the ``k`` rows most similar by shrunk cosine along ``axis``, and an
    update grows their co-occurrence sums exactly. A model says how its lists become a
    neighbour matrix (``_matrix``) and a scorer (``_scorer``)."""

    axis: ClassVar[str]  # "items" (C = X^T X) or "users" (C = X X^T)
    k: int
    shrinkage: float

    def _matrix(self, sources: np.ndarray, sims: np.ndarray) -> sp.csr_matrix:
        raise NotImplementedError

    def _scorer(
        self, X: sp.csr_matrix, neighbours: sp.csr_matrix, sums: NeighbourSums | None = None
    ) -> Scorer:
        raise NotImplementedError

    def _rows(self, data: FitData) -> sp.csr_matrix:
        """``A``, whose co-occurrence counts ``A^T A`` the similarities come from."""
        return data.X if self.axis == "items" else data.item_major

    def _lists(self, data: FitData) -> tuple[np.ndarray, np.ndarray]:
        sources, sims = data.neighbours(self.shrinkage, self.k, axis=self.axis)
        k = min(self.k, sources.shape[1])
        return sources[:, :k], sims[:, :k]

    def fit(self, data: FitData) -> Scorer:
        return self._scorer(data.X, self._matrix(*self._lists(data)))

    def updatable(self, fitted: Scorer, data: FitData) -> Scorer:
        sums = start(self._rows(data), *self._lists(data))
        return self._scorer(data.X, fitted.neighbours, sums)  # type: ignore[attr-defined]

    def update(self, fitted: Scorer, before: FitData, after: FitData) -> Scorer:
        # exact: the co-occurrence sums grow by the changed rows of A, and only rows whose
        # similarities moved get new neighbour lists
        sums = getattr(fitted, "sums", None)
        if sums is None:
            sums = start(self._rows(before), *self._lists(before))
        sums, _ = grow(sums, self._rows(before), self._rows(after), self.shrinkage)
        return self._scorer(after.X, self._matrix(sums.sources, sums.sims), sums)


def cooccurrence(rows: sp.csr_matrix) -> sp.csr_matrix:
    """``rows^T rows`` as int32 CSR (exact: the entries are integer counts)."""
    counts = (rows.T @ rows).tocsr()
    counts.data = np.rint(counts.data).astype(np.int32)
    counts.eliminate_zeros()
    return counts


def start(rows: sp.csr_matrix, sources: np.ndarray, sims: np.ndarray) -> NeighbourSums:
    """The sums of a fitted model (``rows`` its ``A``) and its top-k lists."""
    return NeighbourSums(cooccurrence(rows), sources, sims)


def grow(
    sums: NeighbourSums,
    before: sp.csr_matrix,
    after: sp.csr_matrix,
    shrinkage: float,
) -> tuple[NeighbourSums, int]:
    """The sums and lists for ``after`` (``A`` with the new interactions) from those of
    ``before``; also how many rows' lists were recomputed.

    Args:
        sums: The sums and lists on ``before``.
        before: ``(m, n)`` A before the new interactions.
        after: ``(m, n)`` A after them (same shape).
        shrinkage: The model's shrinkage.
    """
    # C' = (A + D)^T (A + D) = C + A^T D + D^T A + D^T D with D the new entries: the work
    # follows the new interactions and their co-occurring rows, not the whole matrix
    added = (after - before).tocsr()
    added.eliminate_zeros()
    # (A'^T A' - A^T A = A'^T D + D^T A: two products and one sum)
    delta = ((after.T @ added) + (added.T @ before)).tocsr()
    delta.data = np.rint(delta.data).astype(np.int32)
    delta.eliminate_zeros()
    counts = (sums.counts + delta).tocsr()
    counts.eliminate_zeros()
    counts.sort_indices()
    renormed = np.flatnonzero(delta.diagonal())
    # rows whose counts moved, and rows holding an entry of a renormed column (C is symmetric,
    # so those are the renormed rows' own columns)
    mark = np.diff(delta.indptr) > 0
    mark[counts[renormed].indices] = True
    mark[renormed] = True
    affected = np.flatnonzero(mark)
    sources, sims = sums.sources.copy(), sums.sims.copy()
    if len(affected):
        new_sources, new_sims = _lists(counts, shrinkage, sources.shape[1], affected)
        sources[affected], sims[affected] = new_sources, new_sims
    return NeighbourSums(counts, sources, sims), len(affected)


def _lists(
    counts: sp.csr_matrix, shrinkage: float, size: int, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``size`` shrunk-cosine neighbours of the ``targets`` rows of ``counts``, computed
    exactly as ``_top_similar`` computes every row."""
    n = counts.shape[0]
    norms = np.sqrt(counts.diagonal().astype(np.float64))
    sources = np.empty((len(targets), size), dtype=np.int32)
    sims = np.empty((len(targets), size))
    step = max(1, min(ITEM_BLOCK, BLOCK_ELEMENTS // max(n, 1)))
    for lo in range(0, len(targets), step):
        rows = targets[lo : lo + step]
        block = counts[rows].toarray().astype(np.float64)
        block /= np.outer(norms[rows], norms) + shrinkage + 1e-12
        block[np.arange(len(rows)), rows] = -np.inf  # not its own neighbour
        sources[lo : lo + len(rows)], sims[lo : lo + len(rows)] = top_c(block, size)
    return sources, sims
