import numpy as np
import pytest

from paretorec.data.synthetic import generate
from paretorec.errors import ConfigError


def test_synthetic_is_deterministic_and_shaped_like_movielens():
    a = generate(seed=5)
    b = generate(seed=5)
    assert np.array_equal(a.interactions.item, b.interactions.item)
    assert np.array_equal(a.interactions.rating, b.interactions.rating)
    assert a.checksum == b.checksum != generate(seed=6).checksum
    inter = a.interactions
    assert inter.user_counts().min() >= 20
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
