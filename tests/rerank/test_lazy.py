"""The lazy greedy of the built-in pick terms (``rerank/lazy.py``) against the generic loop it
replaces: the same items, values and slots, bit for bit, for every mix of terms, orders and
weights, on fixtures with the awkward cases and on ML-100k."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import scipy.sparse as sp

from paretorec.data.features import ItemSimilarity
from paretorec.data.reference import Reference
from paretorec.rerank import CandidatePool, RerankSettings, lazy, rerank
from paretorec.rerank.calibration import Calibration
from paretorec.rerank.term import TERMS, build_term

PICK_TERMS = ("diversity", "calibration", "intent", "longtail", "coverage")
N_USERS, N_ITEMS, N_GENRES, C, K = 30, 60, 6, 20, 8


@pytest.fixture(scope="module")
def pool() -> CandidatePool:
    """Candidates with the awkward cases: users with fewer candidates than ``K`` (they run out),
    a user with none, items without genres, a user without genres in the history, and scores
    tied in blocks (equal values, so ties decide)."""
    rng = np.random.default_rng(11)
    flags = (rng.random((N_ITEMS, N_GENRES)) < 0.3).astype(float)
    flags[:4] = 0.0  # items without genres
    history = (rng.random((N_USERS, N_ITEMS)) < 0.25).astype(float)
    history[0] = 0.0
    history[0, :4] = 1.0  # a user whose history has no genre
    reference = Reference(
        sp.csr_matrix(history),
        np.arange(N_USERS),
        ItemSimilarity.cosine(flags),
        sp.csr_matrix(flags),
    )
    items = np.full((N_USERS, C), -1)
    scores = np.full((N_USERS, C), -np.inf)
    for u in range(N_USERS):
        n = 0 if u == 1 else 3 if u in (2, 3) else C
        items[u, :n] = rng.permutation(N_ITEMS)[:n]
        scores[u, :n] = -np.sort(-np.round(rng.random(n), 1))  # ties in blocks
    return CandidatePool.build(items, scores, reference)


def _generic(monkeypatch: pytest.MonkeyPatch, pool: CandidatePool, settings, k: int):
    with monkeypatch.context() as m:
        m.setattr(lazy, "run", lambda *args, **kwargs: None)
        return rerank(pool, settings, k)


def _settings(rng: np.random.Generator, pool_size: int) -> RerankSettings:
    names = [t for t in PICK_TERMS if rng.random() < 0.6] or ["calibration"]
    rng.shuffle(names)  # the order gains are added in is the settings' order
    scale = rng.choice([1e-6, 0.05, 0.5, 1.0, 5.0, 1e3])
    weights = {t: float(scale * rng.random()) for t in names}
    if rng.random() < 0.3:
        weights[names[0]] = 0.0  # present but off
    if rng.random() < 0.5:
        weights["novelty"] = float(rng.random())
    return RerankSettings.of(pool_size, **weights)


def _same(a, b) -> None:
    assert np.array_equal(a.items, b.items)
    assert np.array_equal(a.slots, b.slots)
    assert np.array_equal(a.values, b.values)  # -inf pads compare equal too


def test_the_lazy_kernel_runs_for_the_built_in_terms(pool, monkeypatch):
    calls = []
    real = lazy.run

    def spy(*args, **kwargs):
        calls.append(out := real(*args, **kwargs))
        return out

    monkeypatch.setattr(lazy, "run", spy)
    rerank(pool, RerankSettings.of(C, **dict.fromkeys(PICK_TERMS, 0.5)), K)
    assert len(calls) == 1 and calls[0] is not None


@pytest.mark.parametrize("seed", range(40))
def test_the_lazy_kernel_equals_the_generic_loop_bit_for_bit(pool, monkeypatch, seed):
    rng = np.random.default_rng(seed)
    settings = _settings(rng, int(rng.choice([K, 12, C])))
    k = int(rng.choice([2, 5, K]))
    _same(rerank(pool, settings, k), _generic(monkeypatch, pool, settings, k))


@pytest.mark.parametrize("pair", list(itertools.combinations(PICK_TERMS, 2)))
def test_every_pair_of_terms_in_both_orders(pool, monkeypatch, pair):
    for names in (pair, pair[::-1]):
        settings = RerankSettings.of(C, **dict.fromkeys(names, 0.7))
        _same(rerank(pool, settings, K), _generic(monkeypatch, pool, settings, K))


def test_a_subclass_takes_the_generic_loop(pool, monkeypatch):
    @dataclass(frozen=True)
    class Doubled(Calibration):
        name: ClassVar[str] = "calibration_doubled"

    with TERMS.temporarily(Doubled.name, Doubled):
        settings = RerankSettings(C, (build_term(Doubled.name, {"weight": 0.5}),))
        assert lazy.run(pool, np.zeros((C, N_USERS)), list(settings.terms), [None], K) is None


def test_a_user_who_runs_out_adds_no_exposure(pool, monkeypatch):
    """Users 2 and 3 have 3 candidates for 8 slots: past their third pick they pick nothing,
    and nothing they did not pick counts towards the batch's exposure (the generic loop once
    counted their first item again at every later position)."""
    settings = RerankSettings.of(C, coverage=1.0)
    out = rerank(pool, settings, K)
    assert (out.items[2, 3:] == -1).all() and np.isneginf(out.values[2, 3:]).all()
    # the batch definition: exposure counts real picks only
    items, scores = pool.items[:C].T, pool.scores[:C].T
    lo = np.array([s[np.isfinite(s)].min() if np.isfinite(s).any() else 0.0 for s in scores])
    hi = scores[:, 0]
    span = np.where(hi > lo, hi - lo, 1.0)
    shown = np.zeros(N_ITEMS)
    picked: list[list[int]] = [[] for _ in range(N_USERS)]
    for _ in range(K):
        step = []
        for u in range(N_USERS):
            best, best_v = -1, -np.inf
            for j in range(C):
                i = items[u, j]
                if i < 0 or i in picked[u]:
                    continue
                v = (scores[u, j] - lo[u]) / span[u] - shown[i] / N_USERS
                if v > best_v:
                    best, best_v = i, v
            step.append(best)
        for u, i in enumerate(step):
            if i >= 0:
                picked[u].append(i)
                shown[i] += 1
    expected = np.array([p + [-1] * (K - len(p)) for p in picked])
    assert np.array_equal(out.items, expected)
    _same(out, _generic(monkeypatch, pool, settings, K))


@pytest.mark.slow
def test_the_lazy_kernel_equals_the_generic_loop_on_ml100k(ml100k, ml100k_split, monkeypatch):
    from paretorec.study import Candidate, Pipeline

    pipe = Pipeline(ml100k, ml100k_split, 10, 100)
    real = pipe.candidates("validation", Candidate.from_values({"model": "itemknn"}).model).pool
    rng = np.random.default_rng(0)
    for _ in range(12):
        settings = _settings(rng, int(rng.choice([15, 50, 100])))
        _same(rerank(real, settings, 10), _generic(monkeypatch, real, settings, 10))
