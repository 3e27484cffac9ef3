"""What every candidate generator shares: fit data with cached derived matrices, the model
contract, and exact top-C candidate selection."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Protocol

import numba
import numpy as np
import scipy.sparse as sp

from paretorec import names
from paretorec.data.interactions import Dataset, Interactions
from paretorec.models.reasons import Reason
from paretorec.registry import Declared

USER_BLOCK = 2048  # users scored at once; bounds the dense (block, n_items) score matrix
ITEM_BLOCK = 1024  # target items whose neighbour lists are computed at once


# Dense similarity rows computed at once while selecting neighbours: bounds the transient
# (rows, n) block to about 128 MB whatever the catalogue.
BLOCK_ELEMENTS = 1 << 24


@dataclass(frozen=True, eq=False)
class SideInfo:
    """Item (and user) information beyond the interactions, for content-aware models.

    Attributes:
        dataset_name: The dataset's registry name (for messages).
        n_items: Catalogue size (0 when unknown).
        checksum: The dataset's checksum (a key for on-disk caches such as embeddings).
        titles: ``(n_items,)`` item titles, or None.
        genres: Genre indicator matrix ``(n_items, n_genres)`` and the genre names, or None.
        tags: Tag count matrix ``(n_items, n_tags)`` and the tag names, or None.
        source: The dataset object itself (for plug-ins that need more), or None.
        memo: What models derive from the side information alone (TF-IDF matrices,
            embeddings), kept for every stage and fit.
    """

    dataset_name: str = ""
    checksum: str = ""
    n_items: int = 0
    titles: np.ndarray | None = None
    genres: tuple[sp.csr_matrix, tuple[str, ...]] | None = None
    tags: tuple[sp.csr_matrix, tuple[str, ...]] | None = None
    source: object = None
    memo: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, dataset: Dataset) -> SideInfo:
        """What ``dataset`` holds beyond its interactions."""
        titles = None
        if "title" in dataset.items.columns and len(dataset.items) == dataset.n_items:
            titles = dataset.items["title"].to_numpy(dtype=object)
        feats, tags = dataset.item_features, dataset.item_tags
        return cls(
            dataset_name=dataset.name,
            checksum=dataset.checksum,
            n_items=dataset.n_items,
            titles=titles,
            genres=None if feats is None else (feats.matrix.tocsr(), tuple(feats.names)),
            tags=None if tags is None else (tags.matrix.tocsr(), tuple(tags.names)),
            source=dataset,
        )


class FitData:
    """The training data of one stage plus matrices every model of that stage can reuse.

    Args:
        X: ``(n_users, n_items)`` binary CSR interaction matrix.
        ratings: The same pattern with explicit ratings as values, or None (implicit data).
        side: Item side information (titles, genres, tags), or None.
    """

    def __init__(
        self,
        X: sp.csr_matrix,
        ratings: sp.csr_matrix | None = None,
        side: SideInfo | None = None,
    ) -> None:
        self.X = X
        self.ratings = ratings
        self.side = side if side is not None else SideInfo()
        self._neighbours: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}
        self.derived: dict[object, object] = {}  # models' reusable intermediates, by their key

    @classmethod
    def of(cls, interactions: Interactions, side: SideInfo | None = None) -> FitData:
        """Binary and rating matrices of ``interactions`` (ratings None for implicit data)."""
        ratings = None if interactions.rating is None else interactions.matrix("rating")
        return cls(interactions.matrix(), ratings, side)

    @property
    def n_items(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_users(self) -> int:
        return int(self.X.shape[0])

    @cached_property
    def gram(self) -> np.ndarray:
        """``(n_items, n_items)`` dense co-occurrence counts ``X^T X`` (computed once; EASE)."""
        return (self.X.T @ self.X).toarray()

    @cached_property
    def item_major(self) -> sp.csr_matrix:
        """``X^T`` as CSR: one row of users per item."""
        return self.X.T.tocsr()

    def neighbours(
        self, shrinkage: float, k: int, axis: str = "items"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each item's (``axis="items"``) or user's (``"users"``) ``k`` (or more) most similar
        items or users by shrunk cosine, best first.

        ``sim(a, b) = c_ab / (sqrt(c_aa) sqrt(c_bb) + shrinkage + 1e-12)`` with ``c``
        co-occurrence counts; equal values go to the lower index, so the first k of a longer list
        are exactly the top k. (The 1e-12 makes two exactly equal cosines at shrinkage 0 unequal,
        the larger norm product first, as in the dense version these lists reproduce.) Lists
        are computed in blocks from the sparse matrix (memory O(n k), never n x n), cached per
        shrinkage and grown on demand, so a refit for another k only slices.

        Returns:
            ``(n, K)`` neighbour indices and ``(n, K)`` similarities, K >= min(k, n-1);
            row j lists the entities most similar to j.
        """
        rows = self.item_major if axis == "items" else self.X
        n = rows.shape[0]
        k = min(k, n - 1)
        cached = self._neighbours.get((axis, shrinkage))
        if cached is None or cached[0].shape[1] < k:
            size = min(max(k, 2 * (0 if cached is None else cached[0].shape[1])), n - 1)
            cached = _top_similar(rows, shrinkage, size)
            self._neighbours[(axis, shrinkage)] = cached
        return cached

    @cached_property
    def item_counts(self) -> np.ndarray:
        """``(n_items,)`` number of users who interacted with each item."""
        return np.asarray(self.X.sum(axis=0)).ravel()

    @cached_property
    def history_length(self) -> np.ndarray:
        """``(n_users,)`` number of training items per user."""
        return np.diff(self.X.indptr)


def _top_similar(rows: sp.csr_matrix, shrinkage: float, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``size`` shrunk-cosine neighbours of every row of a binary matrix, in row blocks."""
    n = rows.shape[0]
    norms = np.sqrt(np.asarray(rows.multiply(rows).sum(axis=1), dtype=np.float64).ravel())
    columns = rows.T.tocsr()
    sources = np.empty((n, size), dtype=np.int32)
    sims = np.empty((n, size))
    step = max(1, min(ITEM_BLOCK, BLOCK_ELEMENTS // max(n, 1)))
    for lo in range(0, n, step):
        hi = min(lo + step, n)
        # rows: targets lo..hi, columns: every candidate neighbour; counts are exact integers,
        # so the block equals the same rows of the dense gram
        block = (rows[lo:hi] @ columns).toarray()
        # the 1e-12 guards empty rows; it also orders exactly equal cosines at shrinkage 0 by
        # the larger norm product (kept: the lists equal those of the dense version)
        block /= np.outer(norms[lo:hi], norms) + shrinkage + 1e-12
        block[np.arange(hi - lo), np.arange(lo, hi)] = -np.inf  # not its own neighbour
        sources[lo:hi], sims[lo:hi] = top_c(block, size)
    return sources, sims


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
    # How ``update`` takes in new interactions: "exact" (equals a full refit on the same data,
    # which the contract tests check), "approximate" (cheaper than a refit, measured against
    # one) or "refit" (a full refit: the default).
    update_kind: ClassVar[str] = "refit"

    @classmethod
    def kind_label(cls) -> str:
        return "model"

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Model:
        """The model from a flat point (``<name>.<param>`` entries; others ignored)."""
        return cls.create(names.model_params(values, cls.name))

    def values(self) -> dict[str, Any]:
        """The flat entries ``from_values`` reads back."""
        return {names.model_param(self.name, k): v for k, v in self.params().items()}

    @classmethod
    def check_space(cls, space_models: tuple[str, ...], domain: Mapping[str, tuple]) -> None:
        """Raise ConfigError when the space cannot serve this model; ``domain`` maps each of
        its parameters in the space to the values it can take (choices, or the fixed one)."""

    @classmethod
    def check_data(cls, side: SideInfo, domain: Mapping[str, tuple] | None = None) -> None:
        """Raise ConfigError (one line) when the dataset lacks what this model needs or the
        space's values cannot fit it (``domain``: each parameter's possible values, as in
        ``check_space``); called for every model of the space before the first fit."""

    def fit(self, data: FitData) -> Scorer:
        raise NotImplementedError

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[Reason]]:
        """Why ``scorer`` (this model fitted on ``data``) scored each of ``items`` for ``user``.

        Only the explain path calls it (``recommend --explain``), never a search.

        Args:
            scorer: What ``fit(data)`` returned.
            data: The fit data.
            user: The user's code.
            items: ``(n,)`` item codes (the user's recommended items).
            top: Evidence kept per reason (rated items, neighbours, terms).

        Returns:
            One list of ``Reason`` per item (``paretorec.models.reasons``).
        """
        raise NotImplementedError(
            f"model `{self.name}` cannot explain its items: implement `explain` (see "
            "paretorec.models.reasons)"
        )

    def updatable(self, fitted: Scorer, data: FitData) -> Scorer:
        """``fitted`` (fitted on ``data``) with what ``update`` keeps between updates
        (co-occurrence sums, say), so that the first update is as cheap as the next; by
        default ``fitted`` as it is."""
        return fitted

    def update(self, fitted: Scorer, before: FitData, after: FitData) -> Scorer:
        """A scorer for ``after`` (``before`` plus new interactions, same code space) from
        ``fitted`` (fitted on ``before``), as ``update_kind`` says; by default a full refit."""
        return self.fit(after)

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        """``(n,)`` deterministic operation counts to produce a user's top-``pool`` candidates."""
        raise NotImplementedError

    def privacy_epsilon(self) -> float:
        """ε of the differential privacy the fitted model gives a user (the ``privacy_epsilon``
        metric); ``inf`` for a model that is not private (paretorec.models.private)."""
        return float("inf")


def available_memory() -> int | None:
    """Bytes of memory available to this process now (Linux MemAvailable), None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def resident_bytes(obj: object, _depth: int = 0) -> int:
    """Bytes held by a fitted model's arrays (numpy and scipy.sparse), found through its
    attributes, sequences and dicts a few levels deep."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes if obj.base is None else 0  # views and broadcasts own nothing
    if sp.issparse(obj):
        return sum(
            getattr(obj, a).nbytes
            for a in ("data", "indices", "indptr", "row", "col")
            if hasattr(obj, a)
        )
    if _depth > 3:
        return 0
    if isinstance(obj, dict):
        return sum(resident_bytes(v, _depth + 1) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(resident_bytes(v, _depth + 1) for v in obj)
    if hasattr(obj, "__dict__"):
        return sum(resident_bytes(v, _depth + 1) for v in vars(obj).values())
    return 0


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
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    items = np.full((scores.shape[0], c), -1, np.int32)
    vals = np.full((scores.shape[0], c), -np.inf)
    _top_c_rows(scores, c, items, vals)
    return items, vals


@numba.njit(cache=True, nogil=True)
def _top_c_rows(scores, c, items, vals):  # type: ignore[no-untyped-def]
    # A bounded heap per row, scanned in item order: an item enters only when strictly better
    # than the worst kept one, so among equal scores the lower index stays, without a tie pass.
    # np.argpartition took 1 s per 2,048 x 9,724 block of popularity scores (its selection
    # degrades on many equal values) and the tie repair as much again; this is one pass.
    n, m = scores.shape
    heap_s = np.empty(c, np.float64)
    heap_i = np.empty(c, np.int64)
    for r in range(n):
        size = 0
        for i in range(m):
            v = scores[r, i]
            if not v > -np.inf:  # -inf (excluded) and NaN never enter
                continue
            if size < c:
                j = size
                size += 1
                while j > 0:  # sift up: the root is the worst kept (lowest, then highest index)
                    parent = (j - 1) // 2
                    if heap_s[parent] < v or (heap_s[parent] == v and heap_i[parent] > i):
                        break
                    heap_s[j] = heap_s[parent]
                    heap_i[j] = heap_i[parent]
                    j = parent
                heap_s[j] = v
                heap_i[j] = i
            elif v > heap_s[0]:
                _sift_down(heap_s, heap_i, size, v, i)
        # pop the worst first into the last free slot: best first, then by index
        for k in range(size - 1, -1, -1):
            items[r, k] = heap_i[0]
            vals[r, k] = heap_s[0]
            last = k
            if last > 0:
                _sift_down(heap_s, heap_i, last, heap_s[last], heap_i[last])


@numba.njit(cache=True, nogil=True)
def _sift_down(heap_s, heap_i, size, v, i):  # type: ignore[no-untyped-def]
    j = 0
    while True:
        left = 2 * j + 1
        if left >= size:
            break
        worst = left
        right = left + 1
        if right < size and (
            heap_s[right] < heap_s[left]
            or (heap_s[right] == heap_s[left] and heap_i[right] > heap_i[left])
        ):
            worst = right
        if heap_s[worst] < v or (heap_s[worst] == v and heap_i[worst] > i):
            heap_s[j] = heap_s[worst]
            heap_i[j] = heap_i[worst]
            j = worst
        else:
            break
    heap_s[j] = v
    heap_i[j] = i


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
