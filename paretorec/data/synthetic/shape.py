"""The shape of an interaction dataset: what ``shape_of`` measures and the generators
reproduce (the package docstring says how each part is modelled)."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy import optimize, special

from paretorec.data.interactions import Dataset, Interactions
from paretorec.errors import ConfigError


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


def genre_segments(genres: sp.csr_matrix) -> sp.csr_matrix:
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
    split = genre_segments(genres)
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
