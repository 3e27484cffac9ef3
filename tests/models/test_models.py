import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics.pairwise import cosine_similarity

from paretorec.errors import ConfigError
from paretorec.models import EASE, FitData, ItemKNN, Popularity, build_model, top_c
from paretorec.models.base import generate_candidates


def _reference_top_c(scores, c):
    """Per-row loop: sort by (-score, item index), keep finite ones."""
    n, m = scores.shape
    out = np.full((n, c), -1)
    for i in range(n):
        order = [j for j in np.lexsort((np.arange(m), -scores[i])) if np.isfinite(scores[i, j])]
        out[i, : min(c, len(order))] = order[:c]
    return out


def test_top_c_is_exact_with_ties_and_exclusions():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n, m, c = rng.integers(1, 15), rng.integers(1, 40), rng.integers(1, 50)
        scores = rng.integers(0, 4, (n, m)).astype(float)
        scores[rng.random((n, m)) < 0.3] = -np.inf
        items, vals = top_c(scores, c)
        assert np.array_equal(items, _reference_top_c(scores, c))
        assert np.all(np.isneginf(vals[items < 0]))


def test_smaller_pool_is_a_prefix_of_a_larger_one():
    rng = np.random.default_rng(1)
    scores = np.floor(rng.random((50, 300)) * 20)  # many ties
    big, _ = top_c(scores, 100)
    for c in (10, 37, 99):
        assert np.array_equal(top_c(scores, c)[0], big[:, :c])


@pytest.fixture(scope="module")
def fit(small):
    return FitData(small.interactions.matrix())


@pytest.mark.parametrize("model", [Popularity(), ItemKNN(k=20, shrinkage=5.0), EASE(l2=50.0)])
def test_training_items_are_never_candidates(fit, model):
    users = np.arange(fit.X.shape[0])
    cands = generate_candidates(model.fit(fit), fit.X, users, 40)
    seen = fit.X.toarray().astype(bool)
    rows = np.repeat(users, 40).reshape(-1, 40)
    valid = cands.items >= 0
    assert not seen[rows[valid], cands.items[valid]].any()
    assert np.all(np.diff(cands.scores, axis=1)[np.isfinite(cands.scores[:, 1:])] <= 0)


def test_popularity_ranks_by_training_users(fit):
    scores = Popularity().fit(fit).score(np.array([0]))[0]
    assert np.array_equal(scores, fit.X.sum(axis=0).A1)


def test_itemknn_matches_sklearn_cosine_without_shrinkage(fit):
    n_items = fit.X.shape[1]
    scorer = ItemKNN(k=n_items - 1, shrinkage=0.0).fit(fit)
    sim = cosine_similarity(fit.X.T.toarray())
    np.fill_diagonal(sim, 0.0)
    assert np.allclose(scorer.neighbours.toarray(), sim, atol=1e-9)


def test_itemknn_keeps_k_neighbours_per_target_and_shrinks(fit):
    scorer = ItemKNN(k=5, shrinkage=0.0).fit(fit)
    assert scorer.neighbours.getnnz(axis=0).max() <= 5
    full = cosine_similarity(fit.X.T.toarray())
    np.fill_diagonal(full, 0.0)
    j = 7
    kept = scorer.neighbours[:, j].toarray().ravel()
    assert np.isclose(np.sort(kept)[-5:], np.sort(full[:, j])[-5:]).all()
    shrunk = ItemKNN(k=5, shrinkage=50.0).fit(fit).neighbours
    assert shrunk.max() < scorer.neighbours.max()


def test_ease_matches_the_closed_form(fit):
    X = fit.X.toarray()
    l2 = 30.0
    P = np.linalg.inv(X.T @ X + l2 * np.eye(X.shape[1]))
    B = np.eye(X.shape[1]) - P / np.diag(P)
    scorer = EASE(l2=l2).fit(fit)
    assert np.allclose(scorer.B, B, atol=1e-9)
    assert np.allclose(scorer.score(np.array([3, 4])), X[[3, 4]] @ B, atol=1e-9)


def test_cost_counts_grow_with_the_work_done():
    history = np.array([10, 100])
    assert np.all(
        ItemKNN(k=100).scoring_ops(history, 1000, 50) > ItemKNN(k=10).scoring_ops(history, 1000, 50)
    )
    assert np.all(
        EASE().scoring_ops(history, 1000, 50) > ItemKNN(k=50).scoring_ops(history, 1000, 50)
    )
    assert np.array_equal(Popularity().scoring_ops(history, 1000, 50), history + 50.0)


@pytest.mark.parametrize(
    "name,params,match",
    [
        ("itemknn", {"k": 0}, "itemknn.k > 0"),
        ("itemknn", {"shrinkage": -1.0}, "shrinkage >= 0"),
        ("ease", {"l2": 0.0}, "ease.l2 > 0"),
        ("ease", {"lambda": 3.0}, "no parameter `lambda`"),
        ("svd", {}, "unknown model `svd`"),
    ],
)
def test_bad_model_parameters_say_what_must_hold(name, params, match):
    with pytest.raises((ConfigError, KeyError), match=match):
        build_model(name, params)


def test_fit_data_caches_the_gram(small):
    data = FitData(sp.csr_matrix(small.interactions.matrix()))
    assert data.gram is data.gram
