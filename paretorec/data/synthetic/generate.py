"""The generators (calibrated ``generate_like``, the unit tests' ``generate``) and the
``synthetic`` dataset of the registry."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
from typing import Any

import numpy as np

from paretorec.config import DataConfig
from paretorec.data.datasets import DATASETS
from paretorec.data.interactions import Dataset
from paretorec.data.synthetic.sampler import ITEM_EXPONENT, sample, scaled_size
from paretorec.data.synthetic.shape import Shape, shape_of
from paretorec.errors import ConfigError

GENERATOR = "paretorec.synthetic/2"  # bump when the sampler changes what a seed produces
PILOT_STEPS = 3  # pilot samples calibrating the latent shape (latent_shape)
SYNTHETIC_PARAMS = ("n_users", "n_items", "n_interactions", "n_genres", "min_per_user", "seed")
LIKE_PARAMS = ("like", "n_interactions", "seed", "item_exponent")


def _checksum(payload: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@functools.lru_cache(maxsize=16)
def latent_shape(shape: Shape) -> Shape:
    """The shape to *sample* with so that the data *measures* like ``shape``.

    Three measured quantities come out of the sampler different from what goes in, because
    drawing without replacement makes heavy users run out of their favourite genres' items:

    - the taste concentration is an *effective* one: saturated users' profiles look closer to
      the mix than their tastes are (ML-100k's sampled data measures about 1.4 times the value
      it was given);
    - popularity: ``_dedup_correction`` undoes de-duplication but not this taste saturation,
      which still flattens the head a little (ML-100k: Gini 0.606 for 0.629);
    - the genre mix of events, which follows the realised popularity (ML-100k: TV 0.03).

    All three are calibrated by simulation at the measured dataset's own size, where the
    target is known: ``PILOT_STEPS`` pilot samples (pilot seeds fixed, so the result depends on
    the shape alone, and is cached), each followed by a multiplicative step on the
    concentration and damped steps on the popularity knots (in log space) and the event genre
    shares. The latent values are then used at every
    target size; where saturation differs (bigger catalogues saturate less), the measured values
    drift a little (see ``results/synthetic/fidelity.md``).
    """
    target_c = shape.taste_concentration
    tune_taste = 0.05 < target_c < 1e4 and len(shape.genre_share) > 0
    kx, target_y = np.array(shape.popularity_knots).T
    target_events = np.asarray(shape.genre_event_share)
    latent = shape
    for step in range(PILOT_STEPS):
        pilot = sample(
            latent,
            shape.n_users,
            shape.n_items,
            shape.n_interactions,
            np.random.default_rng(step),
            "",
        )
        got = shape_of(pilot)
        px, py = np.array(got.popularity_knots).T
        # same catalogue size, so the same bins; the head's single-item bins are noisy, hence
        # the damping
        y = np.array(latent.popularity_knots)[:, 1] + 0.7 * (target_y - np.interp(kx, px, py))
        c = latent.taste_concentration
        events = np.asarray(latent.genre_event_share)
        if tune_taste:
            c = float(np.clip(c * target_c / got.taste_concentration, 0.05, 1e4))
            ratio = (target_events + 1e-4) / (np.asarray(got.genre_event_share) + 1e-4)
            events = events * ratio**0.7
            events /= events.sum()
        latent = dataclasses.replace(
            latent,
            taste_concentration=c,
            genre_event_share=tuple(float(e) for e in events),
            popularity_knots=tuple((float(a), float(b)) for a, b in zip(kx, y, strict=True)),
        )
    return latent


def generate_like(
    shape: Shape,
    n_interactions: int,
    seed: int = 0,
    item_exponent: float = ITEM_EXPONENT,
) -> Dataset:
    """Draw a dataset shaped like ``shape`` with exactly ``n_interactions`` events.

    Args:
        shape: The calibration, from ``shape_of(real_dataset)``.
        n_interactions: Target number of events (met exactly), at least 1 000.
        seed: Seed of the only random generator used.
        item_exponent: How the catalogue grows with the target (``scaled_size``).

    Returns:
        A Dataset named ``synthetic`` of ``scaled_size(shape, n_interactions)`` users x items,
        with ratings (if the shape has them), timestamps (likewise) and genres. Its checksum
        hashes the generator version, the parameters and the shape.
    """
    n_interactions = int(n_interactions)
    n_users, n_items = scaled_size(shape, n_interactions, item_exponent)
    checksum = _checksum(
        {
            "generator": GENERATOR,
            "params": {
                "n_interactions": n_interactions,
                "seed": int(seed),
                "item_exponent": float(item_exponent),
            },
            "shape": shape.to_dict(),
        }
    )
    return sample(
        latent_shape(shape), n_users, n_items, n_interactions, np.random.default_rng(seed), checksum
    )


# The uncalibrated default: MovieLens-like numbers written down once (ML-100k's rating
# marginal, a mild Zipf head, a log-normal activity with sigma 1).
_DEFAULT_RATINGS = (0.06, 0.11, 0.27, 0.34, 0.22)
_DEFAULT_GENRES_PER_ITEM = (0.0, 0.5, 0.35, 0.15)


def _default_shape(
    rng: np.random.Generator,
    n_users: int,
    n_items: int,
    n_interactions: int,
    n_genres: int,
    min_per_user: int,
) -> Shape:
    q = np.log((np.arange(n_items) + 0.5) / n_items)
    knots = tuple((float(a), float(-0.9 * a)) for a in q[:: max(1, n_items // 64)])
    mean_excess = max((n_interactions - n_users * min_per_user) / n_users, 1.0)
    mix = tuple(float(s) for s in rng.dirichlet(np.full(n_genres, 0.8)))
    return Shape(
        source="default",
        source_checksum="",
        n_users=n_users,
        n_interactions=n_interactions,
        n_items=n_items,
        popularity_knots=(*knots, (0.0, 0.0)),
        popularity_exponent=0.9,
        activity_min=min_per_user,
        activity_mu=math.log(min_per_user + mean_excess) - 0.5,
        activity_sigma=1.0,
        activity_max_share=0.5,
        genre_names=tuple(f"genre{g}" for g in range(n_genres)),
        genre_share=mix,
        genre_event_share=mix,
        genres_per_item=_DEFAULT_GENRES_PER_ITEM,
        taste_concentration=0.5 * n_genres,
        rating_values=(1.0, 2.0, 3.0, 4.0, 5.0),
        rating_probs=_DEFAULT_RATINGS,
        rating_scale=(1.0, 5.0),
        rating_user_share=0.15,
        rating_item_share=0.2,
        rating_popularity_corr=0.3,
        time_start=880_000_000,
        time_end=890_000_000,
        span_mu=math.log(1e6),
        span_sigma=1.0,
    )


def generate(
    n_users: int = 300,
    n_items: int = 500,
    n_interactions: int = 20_000,
    n_genres: int = 12,
    min_per_user: int = 20,
    seed: int = 0,
) -> Dataset:
    """Draw a small uncalibrated MovieLens-like dataset (the unit tests' fixture).

    Uses the same sampler as ``generate_like`` with a fixed default shape: a Zipf-like head
    (exponent 0.9), log-normal activity of at least ``min_per_user`` (at most half the
    catalogue), one to three genres per item from a random genre mix, 1-5 ratings with
    ML-100k's marginal.

    Args:
        n_users: Number of users.
        n_items: Number of items (the catalogue).
        n_interactions: Number of events (met exactly).
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
    if not n_users * min_per_user <= n_interactions <= n_users * (n_items // 2):
        raise ConfigError(
            "`n_users*min_per_user <= n_interactions <= n_users*(n_items//2)` must hold, "
            f"got n_interactions={n_interactions}"
        )
    rng = np.random.default_rng(seed)
    shape = _default_shape(rng, n_users, n_items, n_interactions, n_genres, min_per_user)
    params = dict(
        n_users=n_users,
        n_items=n_items,
        n_interactions=n_interactions,
        n_genres=n_genres,
        min_per_user=min_per_user,
        seed=seed,
    )
    checksum = _checksum({"generator": GENERATOR, "params": params})
    return sample(shape, n_users, n_items, n_interactions, rng, checksum)


# ---------------------------------------------------------------------------------------------
# registry


def _option(params: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = params.get(key, default)
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        raise ConfigError(f"[data.synthetic] `{key}` must be {kind.__name__}, got {value!r}")
    return float(value) if kind is float else value


CLEANING_DEFAULTS = {
    "rating_scale": None,
    "min_user_interactions": 1,
    "min_item_interactions": 1,
    "implicit_threshold": None,
    "strict": False,
}


def load_synthetic(cfg: DataConfig, data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """The registry's ``synthetic`` dataset, configured by ``[data.synthetic]``.

    Calibrated: ``like = "<registered dataset>"`` (loaded from ``data_dir`` with the rest of
    ``[data]``, e.g. its cleaning options), ``n_interactions`` (default: the real set's size),
    ``seed`` (default 0), ``item_exponent`` (default 0.4). Uncalibrated (no ``like``):
    ``n_users``, ``n_items``, ``n_interactions``, ``n_genres``, ``min_per_user``, ``seed`` as in
    ``generate``.

    Raises:
        ConfigError: an unknown key (the message lists the allowed ones), a wrong type, ``like``
            naming ``synthetic`` itself, or impossible sizes.
    """
    params = dict(cfg.synthetic or {})
    allowed = LIKE_PARAMS if "like" in params else SYNTHETIC_PARAMS
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        mode = "with `like`" if "like" in params else "without `like`"
        raise ConfigError(
            f"[data.synthetic] unknown key `{unknown[0]}` {mode}; expected one of "
            f"{', '.join(allowed)}" + ("" if "like" in params else " (or like)")
        )
    if "like" not in params:
        cleaning = [
            key for key, default in CLEANING_DEFAULTS.items() if getattr(cfg, key) != default
        ]
        if cleaning:
            raise ConfigError(
                f"[data] {cleaning[0]}: generated data is not cleaned; with "
                "[data.synthetic] like = ... the cleaning options apply to the imitated dataset"
            )
        for key in params:
            _option(params, key, int, None)
        return generate(**params)

    like = _option(params, "like", str, None)
    if like == cfg.dataset or like == "synthetic":
        raise ConfigError(f"[data.synthetic] `like` must name a real dataset, got {like!r}")
    real = DATASETS.get(like)(dataclasses.replace(cfg, dataset=like, synthetic=None), data_dir)
    shape = shape_of(real)
    n = _option(params, "n_interactions", int, shape.n_interactions)
    seed = _option(params, "seed", int, 0)
    exponent = _option(params, "item_exponent", float, ITEM_EXPONENT)
    return generate_like(shape, n, seed, exponent)
