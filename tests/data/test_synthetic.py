"""The synthetic generator: the small uncalibrated set, and sets calibrated to ML-100k.

Round-trip tolerances (``shape_of(generate_like(shape_of(ml100k), 100_000))`` against
``shape_of(ml100k)``) are stated in ``ROUND_TRIP`` and the test; they are a few times the
seed-to-seed spread seen at this size.
"""

import dataclasses

import numpy as np
import pytest

from paretorec.config import DataConfig
from paretorec.data import load_dataset
from paretorec.data.popularity import gini_of_counts as gini
from paretorec.data.synthetic import (
    ITEM_EXPONENT,
    Shape,
    generate,
    generate_like,
    scaled_size,
    shape_of,
)
from paretorec.errors import ConfigError


def _tv(a, b) -> float:
    """Total-variation distance of two distributions given as sequences (zero-padded)."""
    n = max(len(a), len(b))
    return 0.5 * float(np.abs(np.pad(a, (0, n - len(a))) - np.pad(b, (0, n - len(b)))).sum())


def _head_share(counts: np.ndarray) -> float:
    head = np.sort(counts)[::-1][: max(1, len(counts) // 10)]
    return float(head.sum() / counts.sum())


@pytest.fixture(scope="module")
def shape(ml100k) -> Shape:
    return shape_of(ml100k)


@pytest.fixture(scope="module")
def twin(shape):
    """ML-100k's synthetic twin at its own size (100 000 events)."""
    return generate_like(shape, shape.n_interactions, seed=1)


def test_synthetic_is_deterministic_and_shaped_like_movielens():
    a = generate(seed=5)
    b = generate(seed=5)
    assert np.array_equal(a.interactions.item, b.interactions.item)
    assert np.array_equal(a.interactions.rating, b.interactions.rating)
    assert a.checksum == b.checksum != generate(seed=6).checksum
    inter = a.interactions
    assert len(inter) == 20_000
    assert inter.user_counts().min() >= 20
    assert inter.user_counts().max() <= a.n_items // 2
    counts = np.sort(inter.item_counts())[::-1]
    assert counts[: len(counts) // 10].sum() > 0.3 * len(inter)  # head-heavy popularity
    assert set(np.unique(inter.rating)) <= {1, 2, 3, 4, 5}
    assert 3.0 < inter.rating.mean() < 4.2
    genres = a.item_features.matrix.toarray()
    assert genres.sum(axis=1).min() >= 1 and genres.sum(axis=1).max() <= 3
    pairs = inter.user.astype(np.int64) * a.n_items + inter.item
    assert len(np.unique(pairs)) == len(pairs)


def test_synthetic_rejects_impossible_sizes():
    with pytest.raises(ConfigError, match="n_interactions"):
        generate(n_users=10, n_items=30, n_interactions=5)
    with pytest.raises(ConfigError, match="min_per_user"):
        generate(n_users=10, n_items=30, n_interactions=100, min_per_user=40)


def test_generate_like_is_deterministic_for_a_seed(shape):
    a = generate_like(shape, 20_000, seed=4)
    b = generate_like(shape, 20_000, seed=4)
    c = generate_like(shape, 20_000, seed=5)
    for field in ("user", "item", "rating", "timestamp"):
        assert np.array_equal(getattr(a.interactions, field), getattr(b.interactions, field))
    assert a.checksum == b.checksum
    assert c.checksum != a.checksum
    assert not np.array_equal(a.interactions.item, c.interactions.item)
    assert np.array_equal(a.item_features.matrix.toarray(), b.item_features.matrix.toarray())


def test_round_trip_on_ml100k_matches_the_real_shape(ml100k, shape, twin):
    got = shape_of(twin)
    assert (got.n_users, got.n_items, got.n_interactions) == (943, 1682, 100_000)
    # popularity: the calibrated quantities within 0.02, the fitted exponent within 0.05
    real_items, twin_items = ml100k.interactions.item_counts(), twin.interactions.item_counts()
    assert gini(twin_items) == pytest.approx(gini(real_items), abs=0.02)
    assert _head_share(twin_items) == pytest.approx(_head_share(real_items), abs=0.02)
    assert got.popularity_exponent == pytest.approx(shape.popularity_exponent, abs=0.05)
    # activity: same minimum, log-normal parameters within 0.15, quantiles within 10 %
    assert got.activity_min == shape.activity_min
    assert got.activity_mu == pytest.approx(shape.activity_mu, abs=0.15)
    assert got.activity_sigma == pytest.approx(shape.activity_sigma, abs=0.15)
    q = [0.1, 0.5, 0.9]
    real_q = np.quantile(ml100k.interactions.user_counts(), q)
    assert np.quantile(twin.interactions.user_counts(), q) == pytest.approx(real_q, rel=0.1)
    # genres: item and event shares, genres-per-item within 0.03-0.05 total variation; taste
    # concentration within 25 %
    assert _tv(got.genre_share, shape.genre_share) < 0.03
    assert _tv(got.genre_event_share, shape.genre_event_share) < 0.05
    assert _tv(got.genres_per_item, shape.genres_per_item) < 0.03
    assert got.genre_names == shape.genre_names
    assert got.taste_concentration == pytest.approx(shape.taste_concentration, rel=0.25)
    # ratings: the marginal is exact by construction; structure within 0.05 / 0.08
    assert got.rating_values == shape.rating_values
    assert _tv(got.rating_probs, shape.rating_probs) < 1e-3
    assert got.rating_user_share == pytest.approx(shape.rating_user_share, abs=0.05)
    assert got.rating_item_share == pytest.approx(shape.rating_item_share, abs=0.05)
    assert got.rating_popularity_corr == pytest.approx(shape.rating_popularity_corr, abs=0.08)
    # time: inside the real range, per-user spans within half a log unit
    assert shape.time_start <= got.time_start and got.time_end <= shape.time_end
    assert got.span_mu == pytest.approx(shape.span_mu, abs=0.5)


def test_every_pair_once_every_item_rated_every_user_in_bounds(shape, twin):
    inter = twin.interactions
    pairs = inter.user.astype(np.int64) * twin.n_items + inter.item
    assert len(np.unique(pairs)) == len(pairs)
    assert inter.item_counts().min() >= 1  # the catalogue is the rated catalogue
    counts = inter.user_counts()
    assert counts.min() >= shape.activity_min
    assert counts.max() <= shape.activity_max_share * twin.n_items
    # events grouped by user, timestamps increasing within each user
    assert np.all(np.diff(inter.user) >= 0)
    same_user = np.diff(inter.user) == 0
    assert np.all(np.diff(inter.timestamp)[same_user] >= 0)


@pytest.mark.parametrize("n", [1_000, 7_777, 123_457])
def test_the_event_count_is_the_target(shape, n):
    assert len(generate_like(shape, n, seed=0).interactions) == n


def test_sizes_scale_as_documented(shape):
    users, items = scaled_size(shape, 400_000)
    assert users == round(400_000 / (100_000 / 943))  # proportional at the real mean activity
    assert items == round(1682 * 4**ITEM_EXPONENT)  # sub-linear: x4 events, x1.74 items
    ds = generate_like(shape, 400_000, seed=0)
    assert (ds.n_users, ds.n_items, len(ds.interactions)) == (users, items, 400_000)
    assert scaled_size(shape, 100_000) == (943, 1682)
    assert scaled_size(shape, 10_000_000) == (94_300, round(1682 * 100**ITEM_EXPONENT))
    assert scaled_size(shape, 400_000, item_exponent=1.0)[1] == 4 * 1682
    with pytest.raises(ConfigError, match="n_interactions >= 1000"):
        scaled_size(shape, 999)
    with pytest.raises(ConfigError, match="item_exponent"):
        scaled_size(shape, 10_000, item_exponent=1.5)


def test_implicit_data_without_genres_or_time(ml100k):
    inter = dataclasses.replace(ml100k.interactions, rating=None, timestamp=None)
    bare = dataclasses.replace(ml100k, interactions=inter, item_features=None, rating_scale=None)
    shape = shape_of(bare)
    assert shape.rating_values is None and shape.time_start is None and shape.genre_names == ()
    ds = generate_like(shape, 5_000, seed=0)
    assert ds.interactions.rating is None and ds.interactions.timestamp is None
    assert ds.item_features is None and ds.rating_scale is None
    assert len(ds.interactions) == 5_000


def test_checksum_identifies_parameters_and_shape(shape):
    base = generate_like(shape, 5_000, seed=0).checksum
    other_shape = dataclasses.replace(shape, source_checksum="sha256:other")
    assert generate_like(other_shape, 5_000, seed=0).checksum != base
    assert generate_like(shape, 5_001, seed=0).checksum != base
    assert generate_like(shape, 5_000, seed=0, item_exponent=0.5).checksum != base


def test_registry_like_ml100k(data_dir, shape):
    cfg = DataConfig(
        dataset="synthetic", synthetic={"like": "ml-100k", "n_interactions": 6_000, "seed": 2}
    )
    ds = load_dataset(cfg, data_dir)
    assert len(ds.interactions) == 6_000
    assert ds.checksum == generate_like(shape, 6_000, seed=2).checksum
    # default size: the real one
    full = load_dataset(DataConfig(dataset="synthetic", synthetic={"like": "ml-100k"}), data_dir)
    assert len(full.interactions) == 100_000


def test_registry_uncalibrated_keys_still_work():
    cfg = DataConfig(
        dataset="synthetic",
        synthetic={"n_users": 50, "n_items": 80, "seed": 1, "n_interactions": 1_500},
    )
    ds = load_dataset(cfg)
    assert (ds.n_users, ds.n_items, len(ds.interactions)) == (50, 80, 1_500)
    assert load_dataset("synthetic").checksum == generate().checksum


@pytest.mark.parametrize(
    "options,match",
    [
        ({"like": "ml-100k", "n_users": 10}, r"unknown key `n_users`.*like, n_interactions, seed"),
        ({"like": "ml-100k", "size": 10}, r"unknown key `size`.*item_exponent"),
        ({"n_user": 10}, r"unknown key `n_user`.*n_users, n_items"),
        ({"like": "synthetic"}, "must name a real dataset"),
        ({"like": "ml-100k", "n_interactions": "1M"}, "`n_interactions` must be int"),
        ({"like": "ml-100k", "n_interactions": 10}, "n_interactions >= 1000"),
        ({"like": 3}, "`like` must be str"),
        ({"n_users": 2.5}, "`n_users` must be int"),
    ],
)
def test_bad_options_are_config_errors(data_dir, options, match):
    with pytest.raises(ConfigError, match=match):
        load_dataset(DataConfig(dataset="synthetic", synthetic=options), data_dir)
