"""From a candidate (model + re-rank settings) to recommendation lists and metric values.

One Pipeline serves one dataset. Its stages are ``validation`` (fit on train, score on
validation), ``test`` (fit on train + validation, score on test) and ``all`` (fit on everything,
recommend to every user, as serving would). Candidate lists are cached per (stage, model) at the
largest pool the study can ask for, so a change of re-rank weights or pool never refits; with
them is kept everything a weight setting reuses (the position-major pool, the truth of every
candidate, operation counts per pool size).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import tracemalloc
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from threadpoolctl import ThreadpoolController

from paretorec.data import Dataset, Split
from paretorec.data.features import ItemSimilarity, genre_similarity, tag_similarity
from paretorec.data.interactions import Interactions
from paretorec.data.reference import Reference
from paretorec.errors import ConfigError, DataWarning
from paretorec.metrics import Judged, ListContext, MetricRef, Truth
from paretorec.models import FitData, Model, SideInfo, generate_candidates
from paretorec.models.base import available_memory, resident_bytes
from paretorec.rerank import CandidatePool, rerank
from paretorec.study.candidate import Candidate

# What the cache keeps is what a re-rank needs, the top-C candidates (about 4 MB per fitted
# model on ML-100k, ~200 MB at 47k users), never the fitted models themselves. Its budget is a
# share of the memory available when the pipeline starts, at least 1 GiB: a fixed 1 GiB made a
# 47k-user search refit 102 times where 36 fits were needed. Over budget, the memos derived from
# the candidates go first (milliseconds to rebuild), then whole sets, least recently used first.
# Measured (experiments/bench_cache.py, a third of the needed memory): LRU keeping memos
# repeated 76 of 134 fits, shedding memos first 2 of 60; GreedyDual-Size (cheapest to refit per
# byte first) with memos shed repeated 27 of 85, so it was not kept.
CACHE_SHARE = 0.25
CACHE_FLOOR = 1 << 30


def default_cache_bytes() -> int:
    """The candidate cache's budget for this process: a share of the memory available now,
    never below 1 GiB (each worker process takes its own share)."""
    available = available_memory()
    if available is None:
        return CACHE_FLOOR
    return max(CACHE_FLOOR, int(available * CACHE_SHARE))


@dataclass(frozen=True)
class FitRecord:
    """One model fit: what was fitted, how long it took, how much memory it used.

    Attributes:
        stage: ``validation``, ``test`` or ``all``.
        model: The model's flat values (``{"model": ..., "<model>.<param>": ...}``).
        seconds: Wall time of the fit and of scoring the stage's users.
        peak_mb: Peak memory allocated during fit and scoring (tracemalloc), MiB.
        model_mb: Resident size of the fitted model (its arrays), MiB.
    """

    stage: str
    model: dict
    seconds: float
    peak_mb: float
    model_mb: float

    def key(self) -> str:
        return json.dumps([self.stage, self.model], sort_keys=True, default=str)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# Fits run single-threaded BLAS. On this project's 2-core machines a second BLAS thread made an
# EASE refit 25x slower whenever the other core was busy (0.2 s -> 5.8 s, measured), and one
# thread everywhere makes serial and --workers runs bitwise identical. Parallelism comes from
# evaluating several points at once (--workers, --scheduler), not from inside a fit.
_BLAS = ThreadpoolController()


@dataclass(frozen=True, eq=False)
class StageData:
    """One stage's fit matrix, who is recommended to, the truth (unless serving) and the
    training-side reference metrics compare against."""

    fit: FitData
    users: np.ndarray
    truth: Truth | None
    reference: Reference
    counts: dict[str, int] = field(default_factory=dict)


# Bytes one fitted model's candidate set holds per user and pool slot on one stage (the
# position-major pool, its term memos and the judged truth; measured on ML-100k at pool 200).
CANDIDATE_BYTES = 64


@dataclass(eq=False)
class FittedCandidates:
    """One fitted model's candidates for a stage, and what every weight setting reuses.

    Attributes:
        pool: The top-``max_pool`` candidates, position-major.
        seconds: Wall time the model spent scoring and selecting them.
        model_mb: Resident size of the fitted model, MiB.
        judged: The truth of every candidate, position-major ``(C + 1, n)`` like the pool
            (None when serving).
        scoring_ops: ``pool size -> (n,)`` operation counts, filled as sizes are asked for.
        fit_seconds: Wall time of the fit and scoring, what evicting this set would cost again.
    """

    pool: CandidatePool
    seconds: float
    judged: Judged | None
    model_mb: float = 0.0
    scoring_ops: dict[int, np.ndarray] = field(default_factory=dict)
    fit_seconds: float = 0.0

    def shed_memos(self) -> int:
        """Forget what was derived from the candidates; returns the bytes freed."""
        before = self.nbytes
        self.pool.forget_memos()
        self.scoring_ops.clear()
        return before - self.nbytes

    @property
    def nbytes(self) -> int:
        """Memory held now (the per-pool-size memos grow as sizes are asked for)."""
        arrays = [*self.scoring_ops.values()]
        arrays += [] if self.judged is None else [self.judged.hit, self.judged.rating]
        return self.pool.nbytes + sum(a.nbytes for a in arrays)


@dataclass(frozen=True, eq=False)
class RankedLists:
    """Top-k lists for a stage's users.

    Attributes:
        users: ``(n,)`` user codes.
        items: ``(n, k)`` item codes, best first (``-1`` pads).
        values: ``(n, k)`` re-ranking value of each pick.
        ops: ``(n,)`` deterministic operation count per user.
        ms_per_user: Measured milliseconds per user (candidate scoring share + re-rank).
        judged: The truth of each slot when the stage has held-out data, gathered from the
            candidates' (so metrics need not look lists up again).
        model_mb: Resident size of the fitted model, MiB.
        privacy_epsilon: The model's ε of differential privacy (``inf``: not private).
    """

    users: np.ndarray
    items: np.ndarray
    values: np.ndarray
    ops: np.ndarray
    ms_per_user: float
    judged: Judged | None = None
    model_mb: float = 0.0
    privacy_epsilon: float = float("inf")


class Pipeline:
    """Candidates, re-ranking and metrics for one dataset, with caches shared by all candidates.

    Args:
        dataset: The loaded dataset.
        split: Its train/validation/test split, or None when only serving (``all``) is needed.
        k: List length.
        max_pool: Candidates generated per user; every pool size up to it is a prefix.
        cache_bytes: Budget of the candidate cache (default: ``default_cache_bytes()``).
        similarity: Item similarity of diversity and ILD: ``genres`` or ``semantic``.
    """

    def __init__(
        self,
        dataset: Dataset,
        split: Split | None,
        k: int,
        max_pool: int,
        cache_bytes: int | None = None,
        similarity: str = "genres",
    ) -> None:
        if max_pool < k:
            raise ConfigError(f"`rerank.pool >= k` must hold, got pool={max_pool}, k={k}")
        self.dataset = dataset
        self.split = split
        self.similarity_source = similarity
        self._similarities: dict[str, ItemSimilarity] = {}
        self.k = k
        self.max_pool = max_pool
        self._stages: dict[str, StageData] = {}
        self._candidates: OrderedDict[tuple[str, Model], FittedCandidates] = OrderedDict()
        # Dask workers may share one pipeline between threads; the lock keeps the cache's
        # order and eviction consistent (a fit itself runs outside it).
        self._lock = threading.Lock()
        self.fits = 0  # how many candidate sets were computed (cache misses)
        self.cache_limit = default_cache_bytes() if cache_bytes is None else cache_bytes
        self.fit_records: list[FitRecord] = []  # drained by whoever reports them

    @cached_property
    def side(self) -> SideInfo:
        """The dataset's item side information, shared by every stage and fit."""
        return SideInfo.of(self.dataset)

    def fit_data(self, inter: Interactions) -> FitData:
        """A stage's fit matrices with the shared side information."""
        return FitData.of(inter, self.side)

    @cached_property
    def similarity(self) -> ItemSimilarity:
        """The item similarity of ILD (``[evaluation] similarity``)."""
        return self.similarity_named(self.similarity_source)

    def similarity_named(self, name: str) -> ItemSimilarity:
        """Item similarity from genres, tags (TF-IDF cosine) or sentence embeddings, built
        once per pipeline."""
        with self._lock:
            cached = self._similarities.get(name)
        if cached is not None:
            return cached
        if name == "semantic":
            from paretorec.data.semantic import semantic_similarity  # the optional extra

            made = semantic_similarity(self.dataset)
        elif name == "tags":
            made = tag_similarity(self.dataset)
        elif name == "genres":
            made = genre_similarity(self.dataset)
        else:
            raise ConfigError(f"unknown item similarity `{name}`; expected genres, tags, semantic")
        with self._lock:
            return self._similarities.setdefault(name, made)

    def stage(self, name: str) -> StageData:
        """The ``validation``, ``test`` or ``all`` stage (built once)."""
        if name not in self._stages:
            self._stages[name] = self._build_stage(name)
        return self._stages[name]

    def _stage_data(
        self, fit: FitData, users: np.ndarray, truth: Truth | None, counts: dict[str, int]
    ) -> StageData:
        features = self.dataset.item_features
        reference = Reference(
            fit.X,
            users,
            self.similarity,
            None if features is None else features.matrix,
            self.similarity_named,
        )
        return StageData(fit, users, truth, reference, counts)

    def _build_stage(self, name: str) -> StageData:
        if name == "all":
            inter = self.dataset.interactions
            users = np.arange(self.dataset.n_users, dtype=np.int32)
            return self._stage_data(self.fit_data(inter), users, None, {"users": len(users)})
        if name not in ("validation", "test"):
            raise ConfigError(f"unknown stage `{name}`; expected validation, test or all")
        if self.split is None:
            raise ConfigError(f"stage `{name}` needs a split; this pipeline only serves")
        fit = self.fit_data(self.split.fit_data(name))  # type: ignore[arg-type]
        truth = Truth.from_interactions(self.split.truth(name), self.dataset.rating_scale)  # type: ignore[arg-type]
        # A user with held-out events but no training events cannot be personalised; scoring
        # them would measure the fallback, not the model. They are left out and counted.
        cold = fit.history_length[truth.users] == 0
        if cold.any():
            warnings.warn(
                f"{name}: {int(cold.sum())} users have held-out events but no training events "
                "and are not evaluated",
                DataWarning,
                stacklevel=2,
            )
            truth = truth.take(np.flatnonzero(~cold))
        counts = {
            "evaluated users": truth.n_users,
            "users without held-out events": self.dataset.n_users - truth.n_users - int(cold.sum()),
            "users without training events": int(cold.sum()),
        }
        return self._stage_data(fit, truth.users, truth, counts)

    def candidates(self, stage: str, model: Model) -> FittedCandidates:
        """Top-``max_pool`` candidates of ``model`` for the stage's users (cached)."""
        key = (stage, model)
        with self._lock:
            if key in self._candidates:
                self._candidates.move_to_end(key)
                return self._candidates[key]
        data = self.stage(stage)
        start = time.perf_counter()
        with _BLAS.limit(limits=1, user_api="blas"), _PeakMemory() as peak:
            scorer = model.fit(data.fit)
            cands = generate_candidates(scorer, data.fit.X, data.users, self.max_pool)
        model_mb = resident_bytes(scorer) / 2**20
        record = FitRecord(
            stage,
            model.values() | {"model": model.name},
            time.perf_counter() - start,
            peak.mb,
            model_mb,
        )
        del scorer
        pool = CandidatePool.build(cands.items, cands.scores, data.reference)
        judged = None
        if data.truth is not None:
            by_user = data.truth.judge(np.ascontiguousarray(pool.items.T))
            judged = Judged(
                np.ascontiguousarray(by_user.hit.T), np.ascontiguousarray(by_user.rating.T)
            )
        with self._lock:
            self.fits += 1
            self.fit_records.append(record)
            entry = self._candidates.setdefault(
                key,
                FittedCandidates(pool, cands.seconds, judged, model_mb, fit_seconds=record.seconds),
            )
            self._candidates.move_to_end(key)
            self._make_room(keep=key)
        return entry

    def _make_room(self, keep: tuple[str, Model]) -> None:
        """Bring the cache under its budget (call under the lock). Measured at each insert, so
        memos grown since the last one count too."""
        held = self.cache_bytes
        for key, entry in self._candidates.items():  # least recently used first
            if held <= self.cache_limit:
                return
            if key != keep:
                held -= entry.shed_memos()
        while held > self.cache_limit and len(self._candidates) > 1:
            victim = next(k for k in self._candidates if k != keep)  # least recently used
            held -= self._candidates.pop(victim).nbytes

    @property
    def cache_bytes(self) -> int:
        """Memory held by the cached candidate sets."""
        return sum(entry.nbytes for entry in list(self._candidates.values()))

    def drain_fit_records(self) -> list[FitRecord]:
        """The fits made since the last call (each reported once)."""
        with self._lock:
            out, self.fit_records = self.fit_records, []
        return out

    def clear(self) -> None:
        """Forget every fitted candidate set (the next evaluation of each model refits)."""
        with self._lock:
            self._candidates.clear()

    def recommend(self, stage: str, candidate: Candidate, k: int | None = None) -> RankedLists:
        """Re-ranked top-k lists of ``candidate`` for every user of ``stage``."""
        k = self.k if k is None else k
        if candidate.rerank.pool > self.max_pool:
            raise ConfigError(
                f"`rerank.pool <= {self.max_pool}` must hold here, got {candidate.rerank.pool}"
            )
        fitted = self.candidates(stage, candidate.model)
        data = self.stage(stage)
        start = time.perf_counter()
        lists = rerank(fitted.pool, candidate.rerank, k)
        elapsed = time.perf_counter() - start
        pool = candidate.rerank.pool
        scoring = fitted.scoring_ops.get(pool)  # one read: the cache may shed memos meanwhile
        if scoring is None:
            history = data.fit.history_length[data.users]
            scoring = candidate.model.scoring_ops(history, data.fit.n_items, pool)
            fitted.scoring_ops[pool] = scoring
        ops = scoring + candidate.rerank.ops(k)
        ms = 1000.0 * (fitted.seconds * pool / self.max_pool + elapsed) / max(len(data.users), 1)
        judged = None
        if fitted.judged is not None:
            gather = fitted.pool.gather
            judged = Judged(
                gather(fitted.judged.hit, lists.slots), gather(fitted.judged.rating, lists.slots)
            )
        return RankedLists(
            data.users,
            lists.items,
            lists.values,
            ops,
            ms,
            judged,
            fitted.model_mb,
            candidate.model.privacy_epsilon(),
        )

    def context(self, stage: str, lists: RankedLists) -> ListContext:
        """What metrics read about ``lists`` of a scored stage."""
        data = self.stage(stage)
        if data.truth is None:
            raise ConfigError(f"stage `{stage}` has no held-out data to score against")
        return ListContext(
            lists=lists.items,
            truth=data.truth,
            reference=data.reference,
            ops=lists.ops,
            ms_per_user=lists.ms_per_user,
            prejudged=lists.judged,
            model_mb=lists.model_mb,
            privacy_epsilon=lists.privacy_epsilon,
        )

    def evaluate(
        self, stage: str, candidate: Candidate, metrics: Sequence[MetricRef]
    ) -> dict[str, float]:
        """Mean of each metric over the stage's users (users without a value left out)."""
        ctx = self.context(stage, self.recommend(stage, candidate))
        return {m.name: m.compute(ctx)[0] for m in metrics}


class _PeakMemory:
    """Peak bytes allocated inside the block (tracemalloc; numpy and scipy report their
    buffers to it). Nested or concurrent use shares one trace: the peak then covers them all."""

    _depth = 0
    _lock = threading.Lock()

    def __enter__(self) -> _PeakMemory:
        with _PeakMemory._lock:
            if _PeakMemory._depth == 0 and not tracemalloc.is_tracing():
                tracemalloc.start()
                self._started = True
            else:
                self._started = False
            _PeakMemory._depth += 1
            self._base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        self.mb = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        with _PeakMemory._lock:
            self.mb = max(0, tracemalloc.get_traced_memory()[1] - self._base) / 2**20
            _PeakMemory._depth -= 1
            if _PeakMemory._depth == 0 and self._started:
                tracemalloc.stop()
