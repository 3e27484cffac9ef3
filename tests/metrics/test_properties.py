"""Properties every metric keeps on random small stages (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paretorec.data.features import ItemSimilarity
from paretorec.metrics import METRICS, ListContext, Reference, Truth, parse_metric

pytestmark = pytest.mark.filterwarnings("ignore::paretorec.errors.DataWarning")

AT_K = [name for name in METRICS if METRICS.get(name).at_k]
SET_BASED = ["ild", "ild_cooc", "novelty", "arp", "aplt", "miscalibration", "coverage", "gini"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def stages(draw) -> ListContext:
    """A random stage: training matrix (sometimes > 64 users), genres, truth and lists with
    ``-1`` pads anywhere; each list is duplicate-free."""
    n_train = draw(st.integers(1, 80))
    n_items = draw(st.integers(2, 14))
    n = draw(st.integers(1, min(n_train, 8)))
    width = draw(st.integers(1, min(n_items, 6)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = sp.csr_matrix((rng.random((n_train, n_items)) < draw(st.floats(0.05, 0.6))) * 1.0)
    genres = (rng.random((n_items, draw(st.integers(1, 4)))) < 0.4) * 1.0
    held = rng.random((n, n_items)) < draw(st.floats(0.0, 0.5))  # some rows may be empty
    truth = Truth(
        users=np.arange(n),
        matrix=sp.csr_matrix(np.where(held, rng.integers(1, 6, held.shape), 0).astype(float)),
        rating_scale=(1.0, 5.0),
    )
    lists = np.array([rng.permutation(n_items)[:width] for _ in range(n)], dtype=np.int64)
    lists[rng.random(lists.shape) < draw(st.floats(0.0, 0.4))] = -1
    users = rng.choice(n_train, size=n, replace=False)
    reference = Reference(X, users, ItemSimilarity.cosine(genres), sp.csr_matrix(genres))
    return ListContext(lists, truth, reference, rng.random(n) * 100, 0.1)


def _rebuilt(ctx: ListContext, rows: np.ndarray, lists: np.ndarray | None = None) -> ListContext:
    """A fresh context (no shared caches) of ``rows`` of the users, with other lists if given."""
    truth, ref = ctx.truth, ctx.reference
    return ListContext(
        lists=ctx.lists[rows] if lists is None else lists,
        truth=Truth(truth.users[rows], truth.matrix[rows], truth.rating_scale),
        reference=Reference(ref.X, ref.users[rows], ref.similarity, ref.item_features),
        ops=ctx.ops[rows],
        ms_per_user=ctx.ms_per_user,
    )


def _value(name: str, ctx: ListContext, k: int):
    return parse_metric(f"{name}@{k}").metric.fn(ctx, k)


@SETTINGS
@given(stages(), st.integers(1, 8))
def test_values_stay_within_their_bounds(ctx, k):
    for name in AT_K:
        metric = METRICS.get(name)
        values = np.atleast_1d(np.asarray(_value(name, ctx, k), dtype=float))
        values = values[~np.isnan(values)]
        if name == "satisfaction":  # signed: worst = 0 is where hypervolume stops counting
            assert np.all(values <= 1.0 + 1e-12)
            continue
        # [worst, best] where both exist (miscalibration: [0, log 100]); else at least 0
        bounds = [b for b in (metric.best, metric.worst) if b is not None]
        low = min(bounds) if len(bounds) == 2 else 0.0
        high = max(bounds) if len(bounds) == 2 else math.inf
        assert np.all(values >= low - 1e-12) and np.all(values <= high + 1e-12), name


@SETTINGS
@given(stages(), st.integers(1, 8))
def test_accuracy_metrics_keep_their_order(ctx, k):
    v = {
        name: _value(name, ctx, k)
        for name in ("precision", "recall", "f1", "map", "mrr", "hit", "serendipity", "ndcg")
    }
    present = ~np.isnan(v["precision"])
    assert np.array_equal(present, ctx.truth.n_relevant > 0)
    for name, values in v.items():
        assert np.array_equal(np.isnan(values), ~present), name
    p, r, f = v["precision"][present], v["recall"][present], v["f1"][present]
    tol = 1e-12
    assert np.all(v["serendipity"][present] <= p + tol)  # serendipitous items are relevant ones
    assert np.all(v["map"][present] <= r + tol)  # each hit adds P@rank / R <= 1 / R
    assert np.all(v["mrr"][present] <= v["hit"][present])
    assert np.all(np.minimum(p, r) - tol <= f) and np.all(f <= np.maximum(p, r) + tol)


@SETTINGS
@given(stages(), st.integers(1, 8), st.randoms(use_true_random=False))
def test_permuting_users_permutes_values_and_keeps_aggregates(ctx, k, random):
    perm = np.array(random.sample(range(len(ctx.lists)), len(ctx.lists)))
    shuffled = _rebuilt(ctx, perm)
    for name in AT_K:
        before, after = _value(name, ctx, k), _value(name, shuffled, k)
        if np.ndim(before) == 0:
            assert after == pytest.approx(before, nan_ok=True), name
        else:
            assert np.allclose(after, before[perm], equal_nan=True, rtol=0, atol=1e-12), name
        mean_before, n_before = parse_metric(f"{name}@{k}").compute(ctx)
        mean_after, n_after = parse_metric(f"{name}@{k}").compute(shuffled)
        assert n_before == n_after and mean_after == pytest.approx(mean_before, nan_ok=True)


@SETTINGS
@given(stages(), st.integers(1, 4))
def test_a_cut_off_beyond_the_list_is_the_list_padded_with_empty_slots(ctx, extra):
    width = ctx.lists.shape[1]
    padded_lists = np.pad(ctx.lists, ((0, 0), (0, extra)), constant_values=-1)
    padded = _rebuilt(ctx, np.arange(len(ctx.lists)), padded_lists)
    for name in AT_K:
        for k in (width, width + extra):
            assert np.allclose(
                _value(name, ctx, k), _value(name, padded, k), equal_nan=True, rtol=0, atol=1e-12
            ), (name, k)


@SETTINGS
@given(stages())
def test_empty_slots_never_count_wherever_they_are(ctx):
    """Moving the ``-1`` pads to the end changes no set-based metric of the whole list."""
    width = ctx.lists.shape[1]
    order = np.argsort(ctx.lists < 0, axis=1, kind="stable")
    compact = _rebuilt(ctx, np.arange(len(ctx.lists)), np.take_along_axis(ctx.lists, order, 1))
    for name in SET_BASED:
        assert np.allclose(
            _value(name, ctx, width), _value(name, compact, width), equal_nan=True, atol=1e-12
        ), name
    # and a list of pads alone has no value for per-user metrics and no exposure
    empty = _rebuilt(ctx, np.arange(len(ctx.lists)), np.full_like(ctx.lists, -1))
    for name in ("ild", "ild_cooc", "novelty", "arp", "aplt"):
        assert np.isnan(_value(name, empty, width)).all(), name
    assert _value("coverage", empty, width) == 0.0 and np.isnan(_value("gini", empty, width))
    assert np.nansum(_value("precision", empty, width)) == 0.0


@SETTINGS
@given(stages())
def test_ild_cooc_is_the_mean_pairwise_cosine_of_training_columns(ctx):
    dense = ctx.reference.X.toarray() > 0
    width = ctx.lists.shape[1]
    got = _value("ild_cooc", ctx, width)
    for row, items in enumerate(ctx.lists):  # the slow, obvious way
        items = items[items >= 0]
        dissim = []
        for a in range(len(items)):
            for b in range(a + 1, len(items)):
                ua, ub = dense[:, items[a]], dense[:, items[b]]
                norm = math.sqrt(ua.sum() * ub.sum())
                dissim.append(1.0 - ((ua & ub).sum() / norm if norm else 0.0))
        if dissim:
            assert got[row] == pytest.approx(np.mean(dissim), abs=1e-12)
        else:
            assert np.isnan(got[row])


@SETTINGS
@given(stages(), st.integers(1, 16))
def test_popularity_baseline_is_the_most_popular_unseen_items(ctx, k):
    ref = ctx.reference
    counts = np.asarray(ref.X.sum(axis=0)).ravel()
    got = ref.popular_unseen(k)
    for row, user in enumerate(ref.users):
        seen = set(ref.X[user].indices)
        ranked = sorted((i for i in range(ref.n_items) if i not in seen), key=lambda i: -counts[i])
        expected = (ranked + [-1] * k)[:k]
        assert got[row].tolist() == expected
    # rows follow take without recomputation, and equal a fresh computation
    rows = np.arange(len(ref.users))[::-1]
    assert np.array_equal(ref.take(rows).popular_unseen(k), got[rows])


def test_pipeline_lists_are_duplicate_free(ml100k_ctx):
    """What the pairwise and exposure metrics assume of their input."""
    lists = ml100k_ctx.lists
    ordered = np.sort(lists, axis=1)
    assert not ((ordered[:, 1:] == ordered[:, :-1]) & (ordered[:, 1:] >= 0)).any()


def test_pipeline_truth_lookup_per_candidate_equals_looking_up_the_lists(ml100k_ctx):
    assert ml100k_ctx.prejudged is not None  # the pipeline judged every candidate once
    direct = ml100k_ctx.truth.judge(ml100k_ctx.lists)
    assert np.array_equal(ml100k_ctx.judged.hit, direct.hit)
    assert np.array_equal(ml100k_ctx.judged.rating, direct.rating, equal_nan=True)
    rows = np.array([5, 0, 5, 17])
    part = ml100k_ctx.take(rows)
    assert np.array_equal(part.judged.hit, part.truth.judge(part.lists).hit)
