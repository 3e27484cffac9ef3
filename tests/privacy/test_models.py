"""DP models: contribution bounding caps each user's influence at the stated sensitivity,
ε = ∞ equals the non-private model, and privacy_epsilon reaches the results."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from paretorec.models import (
    DPItemKNN,
    DPPopularity,
    DPUserKNN,
    FitData,
    ItemKNN,
    Popularity,
    UserKNN,
)
from paretorec.privacy import EPSILON_CAP, bound_contributions
from paretorec.testing.contracts import fixture_dataset


def _binary(rng, n_users, n_items, density):
    X = sp.random(n_users, n_items, density=density, format="csr", random_state=rng)
    X.data[:] = 1.0
    return X


def test_bounding_caps_rows_and_depends_on_the_users_own_row_only():
    rng = np.random.default_rng(0)
    X = _binary(rng, 40, 60, 0.3)
    L = 4
    B = bound_contributions(X, L)
    lengths = np.diff(X.indptr)
    assert (np.diff(B.indptr) == np.minimum(lengths, L)).all()
    assert (B.multiply(X) != B).nnz == 0  # a subset of each user's items
    short = lengths <= L
    assert (B[short] != X[short]).nnz == 0  # rows within the bound are kept whole
    # removing a user in the middle leaves every other user's bounded row as it was
    rest = np.delete(np.arange(40), 17)
    assert (bound_contributions(X[rest], L) != B[rest]).nnz == 0


@pytest.mark.parametrize("L", [1, 3, 6])
def test_one_users_influence_is_within_the_stated_sensitivity(L):
    # the L1 change of each released vector when one heavy user joins, against the models'
    # Δ; the heaviest user meets it exactly (every pair among its L kept items is new)
    rng = np.random.default_rng(1)
    X = _binary(rng, 30, 25, 0.2)
    heavy = sp.csr_matrix(np.ones((1, 25)))
    Y = sp.vstack([X, heavy]).tocsr()
    bx, by = bound_contributions(X, L), bound_contributions(Y, L)
    pop = np.abs(np.asarray(by.sum(0) - bx.sum(0))).sum()
    assert pop == DPPopularity.sensitivity(L)
    iu = np.triu_indices(25)
    pairs = np.abs((by.T @ by).toarray()[iu] - (bx.T @ bx).toarray()[iu]).sum()
    assert pairs == DPItemKNN.sensitivity(L) == L * (L + 1) // 2
    weights = [np.rint(1000 / np.sqrt(np.diff(b.indptr).clip(1))) for b in (bx, by)]
    grams = [(b.T @ sp.diags(w) @ b).toarray()[iu] for b, w in zip((bx, by), weights, strict=True)]
    assert np.abs(grams[1] - grams[0]).sum() <= DPUserKNN.sensitivity(L)


def _data():
    dataset, split = fixture_dataset()
    return dataset, FitData.of(split.train)


def test_infinite_epsilon_equals_the_non_private_models():
    dataset, data = _data()
    users = np.arange(dataset.n_users)
    longest = int(data.history_length.max())
    pop = DPPopularity(max_items=longest).scorer_for(data, math.inf).score(users)
    assert np.array_equal(pop, Popularity().fit(data).score(users))
    for k, shrinkage in ((10, 0.0), (40, 25.0)):
        dp_knn = DPItemKNN(k=k, shrinkage=shrinkage, max_items=longest)
        got = dp_knn.scorer_for(data, math.inf).score(users)
        assert np.array_equal(got, ItemKNN(k=k, shrinkage=shrinkage).fit(data).score(users))
    # user kNN over every user with cosine, no shrinkage: the same scores on unseen items
    got = DPUserKNN(max_items=longest).scorer_for(data, math.inf).score(users)
    want = UserKNN(k=dataset.n_users, shrinkage=0.0).fit(data).score(users)
    unseen = data.X.toarray() == 0
    np.testing.assert_allclose(got[unseen], want[unseen], rtol=1e-9, atol=1e-12)


def test_finite_epsilon_changes_the_scores_and_is_reported():
    dataset, data = _data()
    users = np.arange(dataset.n_users)
    model = DPPopularity(epsilon=20.0, max_items=8)
    assert model.privacy_epsilon() == 20.0 and Popularity().privacy_epsilon() == math.inf
    noisy = model.fit(data).score(users)[0]
    exact = model.scorer_for(data, math.inf).score(users)[0]
    assert not np.array_equal(noisy, exact)
    assert np.array_equal(noisy, np.round(noisy))  # integer counts plus integer noise
    # noise scale L/ε = 0.4 against bounded counts spread over 0..~15: close, not equal
    assert np.corrcoef(noisy, exact)[0, 1] > 0.8
    assert EPSILON_CAP == 100.0


def test_the_noise_floor_zeroes_small_released_pairs_only():
    from paretorec.models.private import _noisy_gram
    from paretorec.privacy import laplace_scale

    rng = np.random.default_rng(3)
    gram = rng.integers(0, 40, (60, 60))
    gram = np.triu(gram) + np.triu(gram, 1).T
    out = _noisy_gram(gram, 10, 1.0, floor=True)
    assert np.array_equal(out, out.T)
    cut = laplace_scale(10, 1.0) * np.log(60)
    off = ~np.eye(60, dtype=bool)
    assert ((out[off] == 0) | (out[off] > cut)).all()
    # the same release without the floor: equal wherever the floor kept the pair
    plain = _noisy_gram(gram, 10, 1.0)
    kept = off & (out != 0)
    assert np.array_equal(out[kept], plain[kept])
    assert np.array_equal(np.diagonal(out), np.diagonal(plain))  # item counts are never cut


def test_non_private_points_sit_at_the_privacy_reference_and_stay_on_the_front():
    from paretorec.objectives import front_mask, hypervolume, make_objective, normalise, to_min

    objectives = [make_objective("ndcg@10", worst=0.0), make_objective("privacy_epsilon")]
    assert (objectives[1].direction, objectives[1].best, objectives[1].worst) == ("min", 0, 100)
    # natural values: a non-private model (ε = ∞ recorded as the cap) and two DP points
    values = np.array([[0.40, EPSILON_CAP], [0.20, 10.0], [0.10, 1.0]])
    F = normalise(objectives, to_min(objectives, values))
    assert front_mask(F).all()  # the most accurate end of the front is the non-private one
    # hand computation: the boxes of (0.8, 0.1) and (0.9, 0.01) w.r.t. (1, 1); the
    # non-private point lies on the reference's privacy face and adds nothing
    expected = (1 - 0.8) * (1 - 0.1) + (1 - 0.9) * (0.1 - 0.01)
    assert hypervolume(F) == pytest.approx(expected, abs=1e-12)
    assert hypervolume(F[1:]) == pytest.approx(expected, abs=1e-12)
