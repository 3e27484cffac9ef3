"""The exact neighbourhood update against independent computations: the co-occurrence sums
it keeps equal ``X^T X`` computed densely, and the lists equal a brute-force shrunk cosine."""

import numpy as np
import scipy.sparse as sp

from paretorec.models import ALS, FitData, ItemKNN, Popularity, UserKNN
from paretorec.models.incremental import grow, start


def _matrix(rows, cols, shape):
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)


BEFORE = _matrix([0, 0, 1, 2, 2, 3], [0, 1, 1, 2, 3, 0], (5, 4))
AFTER = _matrix([0, 0, 1, 2, 2, 3, 1, 4, 4], [0, 1, 1, 2, 3, 0, 2, 0, 3], (5, 4))


def _brute_lists(X, shrinkage, k):
    """Top-k shrunk cosines per item, densely, ties to the lower index."""
    c = (X.T @ X).toarray()
    norms = np.sqrt(np.diag(c))
    sims = c / (np.outer(norms, norms) + shrinkage + 1e-12)
    np.fill_diagonal(sims, -np.inf)
    order = np.lexsort((np.tile(np.arange(len(c)), (len(c), 1)), -sims), axis=1)[:, :k]
    return order, np.take_along_axis(sims, order, axis=1)


def test_grown_sums_equal_the_dense_gram_and_the_lists_the_brute_force_ones():
    sources, sims = _brute_lists(BEFORE, 1.0, 2)
    grown, recomputed = grow(start(BEFORE, sources, sims), BEFORE, AFTER, 1.0)
    assert np.array_equal(grown.counts.toarray(), (AFTER.T @ AFTER).toarray())
    want_sources, want_sims = _brute_lists(AFTER, 1.0, 2)
    assert np.array_equal(grown.sources, want_sources)
    assert np.allclose(grown.sims, want_sims, rtol=0, atol=1e-15)
    # items 0, 2, 3 gained users (new norms): every item co-occurs with one of them
    assert recomputed == 4


def test_nothing_new_recomputes_nothing():
    sources, sims = _brute_lists(BEFORE, 0.0, 2)
    sums = start(BEFORE, sources, sims)
    grown, recomputed = grow(sums, BEFORE, BEFORE.copy(), 0.0)
    assert recomputed == 0
    assert np.array_equal(grown.sources, sources)


def test_popularity_update_adds_the_new_counts():
    fitted = Popularity().fit(FitData(BEFORE))
    updated = Popularity().update(fitted, FitData(BEFORE), FitData(AFTER))
    # hand count of AFTER's columns: item 0 by users 0, 3, 4; item 1 by 0, 1; ...
    assert updated.score(np.array([0]))[0].tolist() == [3.0, 2.0, 2.0, 2.0]


def test_knn_updates_are_declared_exact_and_als_approximate():
    assert ItemKNN.update_kind == UserKNN.update_kind == Popularity.update_kind == "exact"
    assert ALS.update_kind == "approximate"


def test_als_update_recomputes_only_the_users_who_changed():
    before = sp.random(30, 20, density=0.3, format="csr", random_state=1)
    before.data[:] = 1.0
    after = before.tolil()
    after[3, np.flatnonzero(before[3].toarray().ravel() == 0)[:2]] = 1.0
    after = after.tocsr()
    model = ALS(factors=4, iterations=3)
    fitted = model.fit(FitData(before))
    updated = model.update(fitted, FitData(before), FitData(after))
    moved = np.flatnonzero(np.abs(updated.user_factors - fitted.user_factors).max(axis=1) > 0)
    assert moved.tolist() == [3]  # only user 3 gained items
    assert np.array_equal(updated.item_factors, fitted.item_factors)  # items stay as fitted
