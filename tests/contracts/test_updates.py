"""Every registered model's ``update`` keeps the contract its ``update_kind`` declares: an
exact or refit update scores exactly as a full refit on the same data (the oracle); an
approximate one gives finite scores of the right shape (how far it lands from a refit is
measured by ``paretorec replay`` and reported with its results)."""

import numpy as np
import pytest

from paretorec.models import MODELS, FitData, SideInfo
from paretorec.testing.contracts import fixture_dataset

KINDS = ("exact", "approximate", "refit")


@pytest.fixture(scope="module")
def batches():
    """The fixture's events in time order, cut into three growing prefixes."""
    dataset, _ = fixture_dataset()
    inter, side = dataset.interactions, SideInfo.of(dataset)
    order = np.argsort(inter.timestamp, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    cuts = (len(order) // 2, len(order) * 3 // 4, len(order))
    return dataset, [FitData.of(inter.take(rank < c), side) for c in cuts]


def _scores(scorer, n_users):
    return np.asarray(scorer.score(np.arange(n_users, dtype=np.int32)), dtype=np.float64)


@pytest.mark.parametrize("name", MODELS.available())
def test_update_keeps_its_declared_contract(name, batches):
    dataset, (first, second, third) = batches
    cls = MODELS.get(name)
    assert cls.update_kind in KINDS, f"{name}: update_kind {cls.update_kind!r}"
    model = cls.create({})
    # two updates in a row, the first from a plain fit (no sums kept yet), the second from
    # the state the first left
    once = model.update(model.fit(first), first, second)
    twice = model.update(once, second, third)
    refit = model.fit(FitData(third.X, third.ratings, third.side))
    got, want = _scores(twice, dataset.n_users), _scores(refit, dataset.n_users)
    assert got.shape == want.shape
    assert np.isfinite(got).all()
    if cls.update_kind in ("exact", "refit"):
        assert np.array_equal(got, want), f"{name}: update differs from a refit"


@pytest.mark.parametrize(
    "name", [n for n in MODELS.available() if MODELS.get(n).update_kind == "exact"]
)
def test_exact_update_from_kept_sums_equals_a_refit(name, batches):
    dataset, (first, _, third) = batches
    model = MODELS.get(name).create({})
    kept = model.updatable(model.fit(first), first)
    got = _scores(model.update(kept, first, third), dataset.n_users)
    want = _scores(model.fit(FitData(third.X, third.ratings, third.side)), dataset.n_users)
    assert np.array_equal(got, want)
