"""A deterministic MovieLens-shaped generator for offline demos and fast unit tests.

Shape, not content: power-law item popularity, log-normal user activity (at least
``min_per_user`` events), items with one to three genres from a skewed genre mix, users with
genre tastes, and 1-5 ratings driven by user bias, item quality and taste. Never a substitute for
real data in experiments.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import scipy.sparse as sp

from paretorec.config import DataConfig
from paretorec.data.interactions import Dataset, Interactions, ItemFeatures
from paretorec.errors import ConfigError

SYNTHETIC_PARAMS = ("n_users", "n_items", "n_interactions", "n_genres", "min_per_user", "seed")


def generate(
    n_users: int = 300,
    n_items: int = 500,
    n_interactions: int = 20_000,
    n_genres: int = 12,
    min_per_user: int = 20,
    seed: int = 0,
) -> Dataset:
    """Draw a synthetic explicit-feedback dataset.

    Args:
        n_users: Number of users.
        n_items: Number of items (the catalogue).
        n_interactions: Target number of events (met within rounding).
        n_genres: Number of genres.
        min_per_user: Minimum events per user.
        seed: Seed of the only random generator used.

    Returns:
        A Dataset named ``synthetic`` with ratings 1-5, timestamps and genre features.
    """
    for name, value, low in [
        ("n_users", n_users, 1),
        ("n_items", n_items, 2),
        ("n_genres", n_genres, 1),
        ("min_per_user", min_per_user, 1),
    ]:
        if value < low:
            raise ConfigError(f"`{name} >= {low}` must hold, got {name}={value}")
    if min_per_user >= n_items:
        raise ConfigError(f"`min_per_user < n_items` must hold, got {min_per_user} >= {n_items}")
    if not n_users * min_per_user <= n_interactions <= n_users * n_items // 2:
        raise ConfigError(
            "`n_users*min_per_user <= n_interactions <= n_users*n_items/2` must hold, "
            f"got n_interactions={n_interactions}"
        )
    rng = np.random.default_rng(seed)

    genre_mix = rng.dirichlet(np.full(n_genres, 0.8))
    n_item_genres = rng.choice([1, 2, 3], size=n_items, p=[0.5, 0.35, 0.15])
    genre_keys = rng.random((n_items, n_genres)) ** (1.0 / genre_mix)  # weighted sampling keys
    genre_rank = np.argsort(-genre_keys, axis=1).argsort(axis=1)
    genres = (genre_rank < n_item_genres[:, None]).astype(np.float32)

    popularity = rng.permutation(np.arange(1, n_items + 1, dtype=np.float64) ** -0.9)
    taste = rng.dirichlet(np.full(n_genres, 0.5), size=n_users)
    affinity = taste @ genres.T / np.maximum(genres.sum(axis=1), 1.0)  # (n_users, n_items)
    weights = popularity[None, :] * np.exp(3.0 * affinity)

    extra = rng.lognormal(0.0, 1.0, size=n_users)
    budget = n_interactions - n_users * min_per_user
    counts = min_per_user + np.floor(extra / extra.sum() * budget).astype(np.int64)
    counts = np.minimum(counts, n_items // 2)

    # Gumbel top-k: each user's items drawn without replacement, all users at once.
    keys = np.log(weights) + rng.gumbel(size=weights.shape)
    order = np.argsort(-keys, axis=1)
    take = np.arange(n_items)[None, :] < counts[:, None]
    user = np.repeat(np.arange(n_users, dtype=np.int32), counts)
    item = order[take].astype(np.int32)

    quality = rng.normal(0.0, 0.6, size=n_items)
    bias = rng.normal(0.0, 0.4, size=n_users)
    latent = 3.55 + bias[user] + quality[item] + 2.0 * (affinity[user, item] - 0.1)
    rating = np.clip(np.rint(latent + rng.normal(0.0, 0.8, size=len(user))), 1, 5)

    start = 880_000_000 + rng.integers(0, 10**7, size=n_users)
    timestamp = start[user] + rng.integers(0, 10**6, size=len(user))

    inter = Interactions(
        user=user,
        item=item,
        rating=rating.astype(np.float32),
        timestamp=timestamp.astype(np.int64),
        n_users=n_users,
        n_items=n_items,
    )
    params = dict(
        n_users=n_users,
        n_items=n_items,
        n_interactions=n_interactions,
        n_genres=n_genres,
        min_per_user=min_per_user,
        seed=seed,
    )
    checksum = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
    names = tuple(f"genre{g}" for g in range(n_genres))
    return Dataset(
        name="synthetic",
        interactions=inter,
        user_ids=np.arange(1, n_users + 1),
        item_ids=np.arange(1, n_items + 1),
        item_features=ItemFeatures(sp.csr_matrix(genres), names),
        rating_scale=(1.0, 5.0),
        checksum="sha256:" + checksum,
        items=pd.DataFrame({"item": np.arange(1, n_items + 1)}),
    )


def load_synthetic(cfg: DataConfig, data_dir: object = None) -> Dataset:
    """The registry's ``synthetic`` dataset, sized by ``[data.synthetic]`` if given."""
    params = dict(cfg.synthetic or {})
    unknown = sorted(set(params) - set(SYNTHETIC_PARAMS))
    if unknown:
        raise ConfigError(
            f"[data.synthetic] unknown key `{unknown[0]}`; expected {', '.join(SYNTHETIC_PARAMS)}"
        )
    return generate(**params)
