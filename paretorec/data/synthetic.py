"""Synthetic interactions shaped like a real dataset, at any size, without a bigger download.

Two entry points share one sampler:

- ``generate_like(shape_of(real), n_interactions, seed)``: calibrated to a real dataset and sized
  by a target interaction count (100 k to 10 M and beyond on a laptop);
- ``generate(n_users, n_items, ...)``: the small uncalibrated MovieLens-like set the unit tests
  use, with a fixed default shape.

**Shape** (what ``shape_of`` measures; see ``Shape`` for the fields):

- Item popularity is a *piecewise power law* on the rank-frequency curve: the log of the mean
  count in bins of log relative rank ``q = (rank - 1/2) / n_items``, interpolated linearly in
  log-log. A single Zipf exponent cannot describe MovieLens (its head is flat and its tail drops
  off): a least-squares Zipf fit to ML-100k's curve implies Gini 0.94 and a top-10 % share of 93 %
  where the data has 0.63 and 43 %. The single exponent is still reported
  (``popularity_exponent``, an interaction-weighted least-squares slope) as a summary.
- User activity: a log-normal truncated below at the observed minimum (maximum likelihood),
  capped at the largest observed share of the catalogue one user has rated.
- Genres: each genre's share of the item-genre assignments and of the events (genres differ
  in popularity per item), the distribution of the number of genres per item, and a Dirichlet
  concentration of user tastes fitted by moments to how much users' genre profiles vary beyond
  what their finite histories explain.
- Ratings: the values and their probabilities, the shares of rating variance due to the user and
  to the item (corrected for the noise of finite means), and the correlation of an item's mean
  rating with its log popularity. None for implicit data.
- Timestamps: the overall span and a log-normal of per-user active spans.

**Sizes** (``scaled_size``): users grow in proportion to the target at the real mean activity
(each user keeps the real activity distribution), items sub-linearly,
``n_items = n_items_real * (n / n_real) ** 0.4``. The exponent is the one MovieLens' own releases
follow: 100 k -> 1 M -> 10 M -> 20 M ratings come with 1 682 -> 3 706 -> 10 677 -> 26 744 rated
movies, a log-log slope of 0.34 to 0.52 (0.40 from 100 k to 10 M). Popularity is defined on the
relative rank, so the Lorenz curve (Gini, head share) is kept as the catalogue grows; real larger
releases have longer tails than that.

**Sampler** (no dense users x items matrix, so 10 M events fit in a few GiB):

1. Every item gets one event from a user drawn in proportion to activity, so the catalogue is the
   rated catalogue as in MovieLens; the rest of each item's expected count is drawn below.
2. Each user draws a genre from a Dirichlet taste whose mean is the population's genre mix, then
   an item of that genre from the genre's popularity CDF (``np.searchsorted``). An item's weight
   is split evenly over its genres, so the population mixture reproduces item popularity exactly.
3. Draws are oversampled; duplicate user-item pairs are removed with one sort and each user is
   trimmed to their count; the few users left short draw again (adaptively oversampled, with a
   uniform fallback that guarantees termination).
4. Ratings map a latent score (user bias + item quality + taste + noise) through the real rating
   CDF by rank, so the rating marginal matches the real one exactly; timestamps increase within
   each user.

Everything is drawn from one ``np.random.Generator`` seeded by an int (an int, not a Generator,
because the dataset checksum must identify the data).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import optimize, special

from paretorec.config import DataConfig
from paretorec.data.interactions import Dataset, Interactions, ItemFeatures
from paretorec.errors import ConfigError

GENERATOR = "paretorec.synthetic/2"  # bump when the sampler changes what a seed produces
ITEM_EXPONENT = 0.4  # n_items grows as n_interactions ** ITEM_EXPONENT (see module docstring)
MIN_INTERACTIONS = 1_000  # smallest generate_like target; below it sizes round to nothing
TASTE_RATING_SHARE = 0.05  # latent-score variance from genre taste (not measurable, fixed)
MIN_NOISE_SHARE = 0.2  # the rest of the latent variance is noise, at least this much
MAX_ROUNDS = 60  # redraw rounds; the uniform fallback makes a handful enough in practice
UNIFORM_AFTER = 8  # from this round on, half of a short user's draws are uniform over items
PILOT_STEPS = 3  # pilot samples calibrating the latent shape (latent_shape)

SYNTHETIC_PARAMS = ("n_users", "n_items", "n_interactions", "n_genres", "min_per_user", "seed")
LIKE_PARAMS = ("like", "n_interactions", "seed", "item_exponent")


@dataclass(frozen=True)
class Shape:
    """What ``shape_of`` measures of a dataset and ``generate_like`` reproduces.

    Attributes:
        source: Name of the measured dataset.
        source_checksum: Its checksum (part of every calibrated dataset's checksum).
        n_users: Users with at least one event.
        n_interactions: Events.
        n_items: Items with at least one event (the rated catalogue).
        popularity_knots: ``((log q, log(count / mean count)), ...)``: the rank-frequency curve
            as a piecewise power law over log relative rank ``q = (rank - 1/2) / n_items``.
        popularity_exponent: Zipf exponent ``a`` of ``count ~ rank ** -a``, least squares on the
            log-log curve weighted by count (a summary; generation uses the knots).
        activity_min: Fewest events of any user (the truncation point).
        activity_mu: Mean of the log-normal of events per user (before truncation).
        activity_sigma: Its standard deviation on the log scale.
        activity_max_share: Most events of any user divided by ``n_items`` (the cap).
        genre_names: Item feature (genre) names; empty when the data has none.
        genre_share: ``(n_genres,)`` each genre's share of all item-genre assignments.
        genre_event_share: ``(n_genres,)`` each genre's share of the events, an event spreading
            one unit evenly over its item's genres (popularity differs by genre).
        genres_per_item: ``P(an item has k genres)`` for ``k = 0, 1, ...``.
        taste_concentration: Dirichlet concentration of user genre tastes (large = everyone
            follows the population mix, small = users stick to few genres).
        rating_values: The distinct rating values, ascending, or None for implicit data.
        rating_probs: Their probabilities, or None.
        rating_scale: ``(lowest, highest)`` possible rating, or None.
        rating_user_share: Share of rating variance due to the user (noise-corrected).
        rating_item_share: Share due to the item (noise-corrected).
        rating_popularity_corr: Correlation of item mean rating with log item count, events
            weighted.
        time_start: Earliest timestamp (epoch seconds), or None without timestamps.
        time_end: Latest timestamp, or None.
        span_mu: Mean of ``log(1 + seconds between a user's first and last event)``.
        span_sigma: Its standard deviation.
    """

    source: str
    source_checksum: str
    n_users: int
    n_interactions: int
    n_items: int
    popularity_knots: tuple[tuple[float, float], ...]
    popularity_exponent: float
    activity_min: int
    activity_mu: float
    activity_sigma: float
    activity_max_share: float
    genre_names: tuple[str, ...]
    genre_share: tuple[float, ...]
    genre_event_share: tuple[float, ...]
    genres_per_item: tuple[float, ...]
    taste_concentration: float
    rating_values: tuple[float, ...] | None
    rating_probs: tuple[float, ...] | None
    rating_scale: tuple[float, float] | None
    rating_user_share: float
    rating_item_share: float
    rating_popularity_corr: float
    time_start: int | None
    time_end: int | None
    span_mu: float
    span_sigma: float

    @property
    def mean_activity(self) -> float:
        """Events per user in the measured data."""
        return self.n_interactions / self.n_users

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (what the checksum hashes)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


# ---------------------------------------------------------------------------------------------
# measuring


def _popularity_knots(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Piecewise power law of the rank-frequency curve, and the single weighted Zipf exponent.

    Args:
        counts: ``(n_items,)`` positive event counts per item.

    Returns:
        Knot x (mean log relative rank of each bin), knot y (log of the bin's mean count over the
        overall mean count) and the Zipf exponent.
    """
    c = np.sort(counts.astype(np.float64))[::-1]
    n = len(c)
    rank = np.arange(1, n + 1, dtype=np.float64)
    logq = np.log((rank - 0.5) / n)
    # Bins even in log q resolve the head rank by rank; bins even in q resolve the tail, where
    # thousands of items share counts of 1-3 and log q bins would be a fifth of the catalogue.
    edges = np.unique(
        np.concatenate([np.linspace(logq[0], 0.0, 49), np.log(np.linspace(0.05, 1.0, 20))])
    )
    bins = np.clip(np.searchsorted(edges, logq, side="right") - 1, 0, len(edges) - 2)
    size = np.bincount(bins, minlength=len(edges) - 1)
    used = size > 0
    x = np.bincount(bins, logq, minlength=len(edges) - 1)[used] / size[used]
    # Arithmetic mean counts per bin keep each bin's share of events exactly.
    y = np.log(np.bincount(bins, c, minlength=len(edges) - 1)[used] / size[used] / c.mean())
    # Weighted by count: the fit follows where the events are, not the thousands of tail items
    # whose log counts are dominated by the discreteness of 1, 2, 3.
    w = np.sqrt(c)
    design = np.column_stack([np.ones(n), np.log(rank)]) * w[:, None]
    slope = np.linalg.lstsq(design, np.log(c) * w, rcond=None)[0][1]
    return x, y, float(-slope)


def _truncated_lognormal(values: np.ndarray, low: float) -> tuple[float, float]:
    """Maximum-likelihood ``(mu, sigma)`` of a log-normal truncated below at ``low``.

    Args:
        values: ``(n,)`` positive observations, all ``>= low``.
        low: The truncation point (a continuity correction is the caller's business).
    """
    logs = np.log(values.astype(np.float64))
    a = math.log(low)

    def nll(p: np.ndarray) -> float:
        mu, sigma = p[0], math.exp(p[1])
        z = (logs - mu) / sigma
        tail = special.log_ndtr(-(a - mu) / sigma)  # log P(X >= low)
        return float(0.5 * (z @ z) + len(logs) * (math.log(sigma) + tail))

    start = np.array([logs.mean(), math.log(max(logs.std(), 1e-3))])
    fit = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-6})
    return float(fit.x[0]), float(math.exp(fit.x[1]))


def _segments(genres: sp.csr_matrix) -> sp.csr_matrix:
    """Each item's weight split evenly over its genres, plus a last ``no genre`` column.

    Args:
        genres: ``(n_items, n_genres)`` genre indicators.

    Returns:
        ``(n_items, n_genres + 1)`` CSR whose rows sum to 1.
    """
    member = (genres != 0).astype(np.float64).tocsr()
    k = np.asarray(member.sum(axis=1)).ravel()
    none = sp.csr_matrix((k == 0).astype(np.float64)[:, None])
    split = sp.diags(1.0 / np.maximum(k, 1.0)) @ member
    return sp.hstack([split, none], format="csr")


def _taste_concentration(inter: Interactions, split: sp.csr_matrix, counts: np.ndarray) -> float:
    """Method-of-moments Dirichlet concentration of user tastes over genre segments.

    The generator draws a segment ``g ~ theta_u`` then an item of ``g``; an event's genre vector
    is the item's split row ``x_e``. Under that model the users' mean vectors ``P_u`` vary by
    ``tr(A' (diag(pi) - pi pi') A) / (1 + c)`` (``A[g]`` = mean split row of an item drawn from
    segment ``g``) plus the within-user variance over ``n_u``. Solving for ``c`` on the data
    gives the concentration that reproduces it.

    Args:
        inter: The events.
        split: ``(n_items, n_segments)`` split genre rows (``_segments``).
        counts: ``(n_items,)`` events per item.
    """
    X = inter.matrix()
    n_u = np.asarray(X.sum(axis=1)).ravel()
    active = n_u > 1
    X, n_u = X[active], n_u[active]
    profile = np.asarray((sp.diags(1.0 / n_u) @ X @ split).todense())  # (n_users, n_segments)
    sq = np.asarray(split.multiply(split).sum(axis=1)).ravel()  # ||x_e||^2 per item
    within = (X @ sq - n_u * (profile**2).sum(axis=1)) / (n_u - 1.0)
    between = profile.var(axis=0).sum() - within.mean() * (1.0 / n_u).mean()
    mass = sp.diags(counts.astype(np.float64)) @ split  # events each segment receives per item
    seg_total = np.asarray(mass.sum(axis=0)).ravel()
    used = seg_total > 0
    pi = seg_total[used] / seg_total.sum()
    A = np.asarray((sp.diags(1.0 / seg_total[used]) @ mass[:, used].T @ split).todense())
    spread = float(pi @ (A**2).sum(axis=1) - ((pi @ A) ** 2).sum())
    if spread <= 1e-12 or between <= 0:  # one segment, or no taste beyond noise
        return 1e4
    return float(np.clip(spread / between - 1.0, 0.05, 1e4))


def _rating_structure(inter: Interactions) -> tuple[float, float, float]:
    """User and item shares of rating variance, noise-corrected, and quality-popularity corr."""
    r = inter.rating.astype(np.float64)  # type: ignore[union-attr]
    n = len(r)
    dev = r - r.mean()
    var = dev @ dev / n
    if var <= 0:
        return 0.0, 0.0, 0.0
    shares = []
    for codes, size in ((inter.user, inter.n_users), (inter.item, inter.n_items)):
        cnt = np.bincount(codes, minlength=size)
        mean = np.bincount(codes, dev, minlength=size) / np.maximum(cnt, 1)
        observed = float((mean[codes] ** 2).sum() / n / var)
        # A mean of m noisy ratings carries 1/m of the noise; events-weighted that is
        # (groups / events) on average, which the raw share overstates.
        noise = np.count_nonzero(cnt) / n
        shares.append(float(np.clip((observed - noise) / (1.0 - noise), 0.0, 0.9)))
    cnt = np.bincount(inter.item, minlength=inter.n_items)
    mean = np.bincount(inter.item, r, minlength=inter.n_items) / np.maximum(cnt, 1)
    a, b = mean[inter.item], np.log(cnt[inter.item])
    corr = 0.0 if a.std() == 0 or b.std() == 0 else float(np.corrcoef(a, b)[0, 1])
    return shares[0], shares[1], corr


def shape_of(ds: Dataset) -> Shape:
    """Measure the shape ``generate_like`` reproduces.

    Args:
        ds: A loaded dataset (explicit or implicit, with or without genres and timestamps).

    Returns:
        The dataset's Shape (see the class for what each field measures).
    """
    inter = ds.interactions
    if len(inter) < 2:
        raise ConfigError(
            f"`at least 2 interactions` must hold to measure a shape, got {len(inter)}"
        )
    item_counts = inter.item_counts()
    rated = item_counts > 0
    user_counts = inter.user_counts()
    user_counts = user_counts[user_counts > 0]
    x, y, exponent = _popularity_knots(item_counts[rated])
    low = int(user_counts.min())
    mu, sigma = _truncated_lognormal(user_counts, max(low - 0.5, 0.5))

    if ds.item_features is not None and ds.item_features.matrix.shape[1] > 0:
        genres = ds.item_features.matrix.tocsr()
        names = tuple(ds.item_features.names)
    else:
        genres, names = sp.csr_matrix((ds.n_items, 0)), ()
    member = genres[rated] != 0
    per_genre = np.asarray(member.sum(axis=0), dtype=np.float64).ravel()
    genre_share = per_genre / per_genre.sum() if per_genre.sum() > 0 else per_genre
    per_item = np.bincount(np.asarray(member.sum(axis=1)).ravel().astype(np.int64))
    split = _segments(genres)
    event_mass = np.asarray(split.T @ item_counts.astype(np.float64)).ravel()[:-1]
    event_share = event_mass / event_mass.sum() if event_mass.sum() > 0 else event_mass
    taste = _taste_concentration(inter, split, item_counts)

    if inter.rating is not None:
        values, freq = np.unique(inter.rating, return_counts=True)
        rating_values = tuple(float(v) for v in values)
        rating_probs = tuple(float(p) for p in freq / freq.sum())
        user_share, item_share, corr = _rating_structure(inter)
        scale = ds.rating_scale or (rating_values[0], rating_values[-1])
        rating_scale: tuple[float, float] | None = (float(scale[0]), float(scale[1]))
    else:
        rating_values = rating_probs = rating_scale = None
        user_share = item_share = corr = 0.0

    if inter.timestamp is not None:
        first = np.full(inter.n_users, np.iinfo(np.int64).max)
        last = np.full(inter.n_users, np.iinfo(np.int64).min)
        np.minimum.at(first, inter.user, inter.timestamp)
        np.maximum.at(last, inter.user, inter.timestamp)
        seen = last >= first
        log_span = np.log1p((last[seen] - first[seen]).astype(np.float64))
        time_start, time_end = int(inter.timestamp.min()), int(inter.timestamp.max())
        span_mu, span_sigma = float(log_span.mean()), float(log_span.std())
    else:
        time_start = time_end = None
        span_mu = span_sigma = 0.0

    return Shape(
        source=ds.name,
        source_checksum=ds.checksum,
        n_users=len(user_counts),
        n_interactions=len(inter),
        n_items=int(rated.sum()),
        popularity_knots=tuple((float(a), float(b)) for a, b in zip(x, y, strict=True)),
        popularity_exponent=exponent,
        activity_min=low,
        activity_mu=mu,
        activity_sigma=sigma,
        activity_max_share=float(user_counts.max() / rated.sum()),
        genre_names=names,
        genre_share=tuple(float(s) for s in genre_share),
        genre_event_share=tuple(float(s) for s in event_share),
        genres_per_item=tuple(float(p) for p in per_item / per_item.sum()),
        taste_concentration=taste,
        rating_values=rating_values,
        rating_probs=rating_probs,
        rating_scale=rating_scale,
        rating_user_share=user_share,
        rating_item_share=item_share,
        rating_popularity_corr=corr,
        time_start=time_start,
        time_end=time_end,
        span_mu=span_mu,
        span_sigma=span_sigma,
    )


# ---------------------------------------------------------------------------------------------
# sizing


def scaled_size(
    shape: Shape, n_interactions: int, item_exponent: float = ITEM_EXPONENT
) -> tuple[int, int]:
    """``(n_users, n_items)`` of a set of ``n_interactions`` events shaped like ``shape``.

    Users: ``round(n_interactions / shape.mean_activity)``, so activity keeps its distribution.
    Items: ``round(shape.n_items * (n_interactions / shape.n_interactions) ** item_exponent)``,
    at least enough for the heaviest users and never more than half the events.
    """
    if not 0.0 <= item_exponent <= 1.0:
        raise ConfigError(f"`0 <= item_exponent <= 1` must hold, got item_exponent={item_exponent}")
    if n_interactions < MIN_INTERACTIONS:
        raise ConfigError(
            f"`n_interactions >= {MIN_INTERACTIONS}` must hold, got n_interactions={n_interactions}"
        )
    n_users = max(1, round(n_interactions / shape.mean_activity))
    n_items = round(shape.n_items * (n_interactions / shape.n_interactions) ** item_exponent)
    n_items = max(n_items, 2 * shape.activity_min + 2)
    return n_users, int(min(n_items, n_interactions // 2))


# ---------------------------------------------------------------------------------------------
# sampling


def _scale_capped(weights: np.ndarray, total: float, cap: float) -> np.ndarray:
    """``(n,)`` values proportional to ``weights`` summing to ``total``, none above ``cap``:
    values over the cap are clipped and their overflow shared by the others (water-filling;
    each round fixes at least one more value, all values at once). Needs ``total <= n * cap``."""
    fixed = np.zeros(len(weights), dtype=bool)
    scaled = weights.astype(np.float64)
    for _ in range(len(weights) + 1):  # n fixes at most, then one pass that fixes nothing
        free = total - cap * fixed.sum()
        scaled = np.where(fixed, cap, weights * free / max(weights[~fixed].sum(), 1e-300))
        over = ~fixed & (scaled > cap)
        if not over.any():
            break
        fixed |= over
    return np.minimum(scaled, cap)


def _user_counts(
    rng: np.random.Generator,
    n_users: int,
    n_interactions: int,
    low: int,
    cap: int,
    mu: float,
    sigma: float,
) -> np.ndarray:
    """``(n_users,)`` events per user: truncated log-normal draws rescaled so the total is
    exactly ``n_interactions``, all within ``[low, cap]``.

    Counts are integers, so the continuous draw starts at ``low - 1/2`` and rounds to the
    nearest count; the excess over ``low - 1/2`` is what is rescaled (water-filling at the cap),
    so no user has zero weight and a capped user's overflow always has somewhere to go.
    """
    base = low - 0.5
    lo = special.ndtr((math.log(max(base, 0.5)) - mu) / sigma)
    # stratified quantiles (one per 1/n_users slice, in random user order): the sample's
    # quantiles follow the fit instead of wandering by a few percent from seed to seed
    u = lo + (1.0 - lo) * (rng.permutation(n_users) + rng.random(n_users)) / n_users
    raw = np.clip(np.exp(mu + sigma * special.ndtri(np.minimum(u, 1 - 1e-12))), base, cap)
    if not n_users * low <= n_interactions <= n_users * cap:
        raise ConfigError(
            f"`{n_users} users x [{low}, {cap}] events` must be able to hold n_interactions, "
            f"got n_interactions={n_interactions}"
        )
    value = base + _scale_capped(raw - base, n_interactions - n_users * base, cap - base)
    count = np.clip(np.floor(value + 0.5), low, cap).astype(np.int64)
    # Rounding leaves the total off by a few; move whole events where rounding lost most.
    off = int(n_interactions - count.sum())
    if off > 0:
        gap = np.where(count < cap, value - count, -np.inf)
        count[np.argsort(-gap, kind="stable")[:off]] += 1
    elif off < 0:
        gap = np.where(count > low, value - count, np.inf)
        count[np.argsort(gap, kind="stable")[:-off]] -= 1
    return count


def _assign_genres(
    rng: np.random.Generator,
    share: np.ndarray,
    event_share: np.ndarray,
    per_item: np.ndarray,
    popularity: np.ndarray,
) -> sp.csr_matrix:
    """``(n_items, n_genres)`` genre indicators matching three measured distributions.

    Each item draws its number of genres from ``per_item``, then that many distinct genres by
    weighted keys (Efraimidis-Spirakis). The weight of genre ``g`` on item ``i`` is
    ``exp(a_g + b_g z_i)``, ``z`` the item's standardised log popularity: ``a`` sets how many
    items carry ``g`` (``share``), ``b`` tilts ``g`` towards popular or obscure items so the
    genre mix *of events* matches ``event_share`` (in MovieLens, e.g., Sci-Fi and Thriller items
    are rated more often per item than Drama or Documentary ones). Both are fitted by damped
    fixed-point steps on the same keys, so the draw itself hits the targets, not just its
    expectation.

    Args:
        rng: The run's generator.
        share: ``(n_genres,)`` target share of the item-genre assignments.
        event_share: ``(n_genres,)`` target share of events' genre mass (each event spreads one
            unit over its item's genres).
        per_item: ``P(k genres)``, ``k = 0, 1, ...``.
        popularity: ``(n_items,)`` expected events per item.
    """
    n_items, n_genres = len(popularity), len(share)
    if n_genres == 0:
        return sp.csr_matrix((n_items, 0), dtype=np.float32)
    k = np.searchsorted(np.cumsum(per_item), rng.random(n_items) * per_item.sum(), side="right")
    k = np.minimum(k, min(n_genres, np.count_nonzero(share)))
    log_u = np.log(rng.random((n_items, n_genres)))
    z = np.log(popularity)
    z = (z - z.mean()) / (z.std() or 1.0)
    per_event = popularity / np.maximum(k, 1)
    live = share > 0
    a = np.where(live, np.log(np.where(live, share, 1.0)), 0.0)
    b = np.zeros(n_genres)
    best, best_err = np.zeros((n_items, n_genres), dtype=bool), np.inf
    for _ in range(40):
        keys = np.where(live, log_u / np.exp(a + np.outer(z, b)), -np.inf)
        rank = np.argsort(-keys, axis=1, kind="stable").argsort(axis=1, kind="stable")
        member = rank < k[:, None]
        count, mass = member.sum(axis=0), per_event @ member
        if count.sum() == 0:
            return sp.csr_matrix(member.astype(np.float32))
        err = 0.5 * (
            np.abs(count / count.sum() - share).sum()
            + np.abs(mass / mass.sum() - event_share).sum()
        )
        if err < best_err:
            best, best_err = member, err
        if err < 0.002:
            break
        # Half-an-item pseudo-counts keep genres with a handful of items (ML-100k's "unknown"
        # has 2) from taking huge log steps; clipped, damped steps keep the rest stable.
        item_gap = np.log((share * count.sum() + 0.5) / (count + 0.5))
        half = 0.5 * per_event.mean()
        event_gap = np.log((event_share * mass.sum() + half) / (mass + half))
        a = np.where(live, a + np.clip(0.7 * item_gap, -0.5, 0.5), 0.0)
        b = np.where(live, np.clip(b + np.clip(0.7 * event_gap, -0.5, 0.5), -3.0, 3.0), 0.0)
    return sp.csr_matrix(best.astype(np.float32))


def _flat_cdf(groups: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-group CDFs laid end to end: group ``g`` occupies ``(g, g + 1]``.

    ``np.searchsorted(cdf, g + u, side="right")`` with ``u ~ U[0, 1)`` then draws a member of
    group ``g`` in proportion to its weight, for millions of (group, u) pairs in one call.

    Args:
        groups: ``(n,)`` group of each member, ascending.
        weights: ``(n,)`` non-negative member weights.
        n_groups: Number of groups.
    """
    total = np.bincount(groups, weights, minlength=n_groups)
    size = np.bincount(groups, minlength=n_groups)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    csum = np.cumsum(weights)
    before = np.concatenate([[0.0], csum])[start]
    within = csum - before[groups]
    position = np.arange(len(groups)) - start[groups] + 1.0
    # Groups without weight never get drawn; an even CDF keeps the array well-formed.
    frac = np.where(
        total[groups] > 0, within / np.where(total > 0, total, 1.0)[groups], position / size[groups]
    )
    last = np.concatenate([start[1:], [len(groups)]]) - 1
    frac[last[size > 0]] = 1.0  # exactly 1 so rounding never leaks into the next group
    return groups + frac


def _draw(
    rng: np.random.Generator,
    users: np.ndarray,
    user_cdf: np.ndarray,
    n_segments: int,
    item_cdf: np.ndarray,
    item_order: np.ndarray,
    uniform: np.ndarray | None,
    n_items: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One draw per entry of ``users``: a segment from the user's taste, an item from the
    segment's popularity CDF (or uniformly where ``uniform``). Returns ``(items, segments)``."""
    pos = np.searchsorted(user_cdf, users + rng.random(len(users)), side="right")
    seg = (pos - users.astype(np.int64) * n_segments).astype(np.int16)
    item = item_order[np.searchsorted(item_cdf, seg + rng.random(len(users)), side="right")]
    if uniform is not None and uniform.any():
        item[uniform] = rng.integers(0, n_items, size=int(uniform.sum()), dtype=np.int32)
        seg[uniform] = -1  # no taste behind a fallback draw
    return item.astype(np.int32), seg


def _dedup_correction(rest: np.ndarray, counts: np.ndarray, n_bins: int = 32) -> np.ndarray:
    """Draw weights whose *distinct* user-item pairs reproduce ``rest`` in expectation.

    Draws repeat: a user making ``m`` draws holds item ``i`` with probability
    ``1 - exp(-m p_i)``, so de-duplication takes most from the head and the kept popularity is
    flatter than the weights. With users grouped into activity quantile bins, each bin's ``m``
    solves ``sum_i 1 - exp(-m p_i) = n_bin`` (Newton on log m), and ``p`` is rescaled by
    ``(target / expected)`` until the expected distinct counts match. Genre taste, which
    saturates a user's favourite genres sooner, is not modelled; the fidelity report shows the
    rest.

    Args:
        rest: ``(n_items,)`` target events per item from taste draws.
        counts: ``(n_users,)`` events per user.
        n_bins: Activity bins.

    Returns:
        ``(n_items,)`` corrected weights with the same total as ``rest``.
    """
    edges = np.quantile(counts, np.linspace(0.0, 1.0, n_bins + 1))
    b = np.clip(np.searchsorted(edges, counts, side="right") - 1, 0, n_bins - 1)
    size = np.bincount(b, minlength=n_bins).astype(np.float64)
    used = size > 0
    n_b = (np.bincount(b, counts, minlength=n_bins)[used] / size[used])[:, None]  # (bins, 1)
    size = size[used]
    # No item can reach more users than there are; near that, p would have to grow without
    # bound. Targets are held below 90 % of the users, the overflow spread over the rest.
    target = _scale_capped(rest, float(size @ n_b[:, 0]), 0.9 * len(counts))
    p = rest / rest.sum()
    log_m = np.log(n_b)
    for _ in range(40):
        for _ in range(50):
            mp = np.exp(log_m) * p[None, :]  # (bins, n_items)
            miss = np.exp(-mp)
            f = (1.0 - miss).sum(axis=1, keepdims=True) - n_b
            log_m -= f / np.maximum((mp * miss).sum(axis=1, keepdims=True), 1e-12)
            if np.abs(f).max() < 1e-6 * n_b.max():
                break
        got = size @ (1.0 - np.exp(-np.exp(log_m) * p[None, :]))
        ratio = target / np.maximum(got, 1e-12)
        if np.abs(ratio - 1.0).max() < 1e-4:
            break
        p *= ratio**0.7  # damped: the head saturates, a full step overshoots
        p /= p.sum()
    return p * rest.sum()


def _dedup_and_trim(
    user: np.ndarray, item: np.ndarray, counts: np.ndarray, n_items: int
) -> np.ndarray:
    """Indices of the events to keep: the first of every user-item pair, then each user's first
    ``counts[user]`` of those, all in draw order (draws are i.i.d., so "first" is random)."""
    pair = user.astype(np.int64) * n_items + item
    _, first = np.unique(pair, return_index=True)  # stable: the earliest draw of each pair wins
    keep = np.sort(first)
    order = np.argsort(user[keep], kind="stable")
    kept_user = user[keep][order]
    size = np.bincount(kept_user, minlength=len(counts))
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    position = np.arange(len(kept_user)) - start[kept_user]
    return keep[order][position < counts[kept_user]]


def _sample(
    shape: Shape,
    n_users: int,
    n_items: int,
    n_interactions: int,
    rng: np.random.Generator,
    checksum: str,
) -> Dataset:
    """The shared sampler (see the module docstring for the steps)."""
    # item popularity: the knot curve at this catalogue's relative ranks, in random item order
    kx, ky = np.array(shape.popularity_knots).T
    rank_q = np.log((np.arange(n_items) + 0.5) / n_items)
    curve = np.exp(np.interp(rank_q, kx, ky))
    expected = np.empty(n_items)
    expected[rng.permutation(n_items)] = curve * n_interactions / curve.sum()
    # Each item's first event is the seed below; the taste draws supply the rest. Items whose
    # expected count is about one keep a sliver of weight so no segment is left without any.
    rest = np.maximum(expected - 1.0, 0.05 * expected)
    cap = max(shape.activity_min, min(int(shape.activity_max_share * n_items), n_items - 1))
    counts = _user_counts(
        rng,
        n_users,
        n_interactions,
        shape.activity_min,
        cap,
        shape.activity_mu,
        shape.activity_sigma,
    )
    rest = _dedup_correction(rest, counts)

    share = np.asarray(shape.genre_share, dtype=np.float64)
    genres = _assign_genres(
        rng,
        share,
        np.asarray(shape.genre_event_share, dtype=np.float64),
        np.asarray(shape.genres_per_item),
        expected,
    )
    split = _segments(genres)  # (n_items, n_segments)
    n_segments = split.shape[1]
    by_segment = split.T.tocsr()  # rows = segments, sorted item columns
    seg_of = np.repeat(np.arange(n_segments), np.diff(by_segment.indptr))
    item_order = by_segment.indices.astype(np.int32)
    mass = by_segment.data * rest[item_order]
    item_cdf = _flat_cdf(seg_of, mass, n_segments)
    seg_mass = np.bincount(seg_of, mass, minlength=n_segments)
    pi = seg_mass / seg_mass.sum()
    first_seg = np.asarray(split.argmax(axis=1)).ravel().astype(np.int16)

    # Tastes: Dirichlet with the population mix as mean, so the mixture keeps item popularity.
    taste = np.zeros((n_users, n_segments))
    live = pi > 0
    taste[:, live] = rng.dirichlet(shape.taste_concentration * pi[live], size=n_users)
    bad = ~np.isfinite(taste).all(axis=1) | (taste.sum(axis=1) <= 0)
    taste[bad] = pi  # a degenerate Dirichlet row (all mass underflowed) follows the mix
    cum = np.cumsum(taste, axis=1)
    cum[:, -1] = 1.0
    user_cdf = (np.arange(n_users)[:, None] + cum).ravel()

    # seeds: one event per item, from users drawn in proportion to their activity
    seed_user = np.searchsorted(
        np.cumsum(counts), rng.random(n_items) * counts.sum(), side="right"
    ).astype(np.int32)
    user = seed_user
    item = np.arange(n_items, dtype=np.int32)
    seg = first_seg.copy()
    keep = _dedup_and_trim(user, item, counts, n_items)
    user, item, seg = user[keep], item[keep], seg[keep]

    have = np.bincount(user, minlength=n_users)
    # First round: heavy users need more draws per new item (they hit their own items more).
    factor = 1.05 + 2.0 * counts / n_items
    for round_ in range(MAX_ROUNDS):
        deficit = counts - have
        if not deficit.any():
            break
        short = np.flatnonzero(deficit > 0)
        want = np.ceil(deficit[short] * factor[short]).astype(np.int64) + 2
        new_user = np.repeat(short.astype(np.int32), want)
        uniform = None
        if round_ >= UNIFORM_AFTER:
            uniform = rng.random(len(new_user)) < 0.5
        new_item, new_seg = _draw(
            rng, new_user, user_cdf, n_segments, item_cdf, item_order, uniform, n_items
        )
        # Only the short users' events take part; everybody else is done.
        mine = deficit[user] > 0
        done_user, done_item, done_seg = user[~mine], item[~mine], seg[~mine]
        u = np.concatenate([user[mine], new_user])
        i = np.concatenate([item[mine], new_item])
        s = np.concatenate([seg[mine], new_seg])
        keep = _dedup_and_trim(u, i, counts, n_items)
        gained = np.bincount(u[keep], minlength=n_users) - have
        # Next round oversamples by each user's observed yield of new items per draw.
        rate = np.zeros(n_users)
        rate[short] = gained[short] / want
        factor[short] = 1.1 / np.clip(rate[short], 0.02, 1.0)
        user = np.concatenate([done_user, u[keep]])
        item = np.concatenate([done_item, i[keep]])
        seg = np.concatenate([done_seg, s[keep]])
        have = np.bincount(user, minlength=n_users)
    if (counts - have).any():  # the uniform fallback makes this unreachable in practice
        raise RuntimeError(f"synthetic sampler: users still short after {MAX_ROUNDS} rounds")

    # Order: by user, random within user (draw order would put seeds and redraws first).
    order = np.argsort(
        (user.astype(np.int64) << 32) | rng.integers(0, 2**32, size=len(user)), kind="stable"
    )
    user, item, seg = user[order], item[order], seg[order]
    n = len(user)

    rating = None
    if shape.rating_values is not None and shape.rating_probs is not None:
        rating = _ratings(rng, shape, user, item, seg, taste, expected, n_users, n_items)

    timestamp = None
    if shape.time_start is not None and shape.time_end is not None:
        timestamp = _timestamps(rng, shape, user, counts, n)

    inter = Interactions(
        user=user,
        item=item,
        rating=rating,
        timestamp=timestamp,
        n_users=n_users,
        n_items=n_items,
    )
    names = shape.genre_names or tuple(f"genre{g}" for g in range(len(share)))
    return Dataset(
        name="synthetic",
        interactions=inter,
        user_ids=np.arange(1, n_users + 1),
        item_ids=np.arange(1, n_items + 1),
        item_features=ItemFeatures(genres, names) if len(share) else None,
        rating_scale=shape.rating_scale,
        checksum=checksum,
        items=pd.DataFrame({"item": np.arange(1, n_items + 1)}),
    )


def _ratings(
    rng: np.random.Generator,
    shape: Shape,
    user: np.ndarray,
    item: np.ndarray,
    seg: np.ndarray,
    taste: np.ndarray,
    expected: np.ndarray,
    n_users: int,
    n_items: int,
) -> np.ndarray:
    """``(n,)`` ratings: a latent score through the real rating CDF by rank (exact marginal)."""
    s_user, s_item, s_taste = shape.rating_user_share, shape.rating_item_share, TASTE_RATING_SHARE
    total = s_user + s_item + s_taste
    if total > 1.0 - MIN_NOISE_SHARE:  # keep some noise: scale the structured parts down
        scale = (1.0 - MIN_NOISE_SHARE) / total
        s_user, s_item, s_taste = s_user * scale, s_item * scale, s_taste * scale
    s_noise = 1.0 - s_user - s_item - s_taste
    bias = rng.standard_normal(n_users)

    def standard(x: np.ndarray) -> np.ndarray:
        # weighted by events, as shape_of measures the shares and the correlation
        mean = np.average(x, weights=expected)
        sd = math.sqrt(np.average((x - mean) ** 2, weights=expected))
        return (x - mean) / (sd or 1.0)

    rho = float(np.clip(shape.rating_popularity_corr, -0.95, 0.95))
    quality = standard(
        rho * standard(np.log(expected))
        + math.sqrt(1.0 - rho**2) * standard(rng.standard_normal(n_items))
    )
    # taste: how much the user likes the genre the event was drawn from (fallback draws: none)
    liking = np.where(seg >= 0, np.log(taste[user, np.maximum(seg, 0)] + 1e-3), np.nan)
    liking = np.nan_to_num(liking, nan=float(np.nanmean(liking)) if len(liking) else 0.0)
    liking = (liking - liking.mean()) / (liking.std() or 1.0)
    latent = (
        math.sqrt(s_user) * bias[user]
        + math.sqrt(s_item) * quality[item]
        + math.sqrt(s_taste) * liking
        + math.sqrt(s_noise) * rng.standard_normal(len(user))
    )
    rank = np.empty(len(user), dtype=np.float64)
    rank[np.argsort(latent, kind="stable")] = np.arange(len(user))
    cdf = np.cumsum(shape.rating_probs)  # type: ignore[arg-type]
    level = np.searchsorted(cdf / cdf[-1], (rank + 0.5) / len(user), side="right")
    values = np.asarray(shape.rating_values, dtype=np.float32)
    return values[np.minimum(level, len(values) - 1)]


def _timestamps(
    rng: np.random.Generator, shape: Shape, user: np.ndarray, counts: np.ndarray, n: int
) -> np.ndarray:
    """``(n,)`` epoch seconds, increasing within each user (events are grouped by user).

    Each user is active for a log-normal span placed uniformly in the real time range; their
    events are uniform order statistics over it, from normalised cumulative exponential gaps
    (no sort).
    """
    t0, t1 = int(shape.time_start), int(shape.time_end)  # type: ignore[arg-type]
    total = max(t1 - t0, 1)
    n_users = len(counts)
    span = np.minimum(np.expm1(rng.normal(shape.span_mu, shape.span_sigma, n_users)), total)
    span = np.maximum(span, 0.0)
    start = t0 + rng.random(n_users) * (total - span)
    gaps = rng.exponential(size=n)
    csum = np.cumsum(gaps)
    size = np.bincount(user, minlength=n_users)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    base = np.concatenate([[0.0], csum])[first]
    within = csum - base[user]
    # one more gap after the last event, so the last event is not pinned to the span's end
    whole = within[np.maximum(first + size - 1, 0)] + rng.exponential(size=n_users)
    frac = within / whole[user]
    return (start[user] + frac * span[user]).astype(np.int64)


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
        pilot = _sample(
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
    return _sample(
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
    return _sample(shape, n_users, n_items, n_interactions, rng, checksum)


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
    from paretorec.data import DATASETS  # here: paretorec.data imports this module

    real = DATASETS.get(like)(dataclasses.replace(cfg, dataset=like, synthetic=None), data_dir)
    shape = shape_of(real)
    n = _option(params, "n_interactions", int, shape.n_interactions)
    seed = _option(params, "seed", int, 0)
    exponent = _option(params, "item_exponent", float, ITEM_EXPONENT)
    return generate_like(shape, n, seed, exponent)
