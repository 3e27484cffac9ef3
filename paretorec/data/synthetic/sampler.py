"""Sizes and the sampler: users, genres, items, ratings and timestamps drawn to a ``Shape``
(the package docstring describes the steps)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import special

from paretorec.data.interactions import Dataset, Interactions, ItemFeatures
from paretorec.data.synthetic.shape import Shape, genre_segments
from paretorec.errors import ConfigError

ITEM_EXPONENT = 0.4  # n_items grows as n_interactions ** ITEM_EXPONENT (see the package docstring)
MIN_INTERACTIONS = 1_000  # smallest generate_like target; below it sizes round to nothing
TASTE_RATING_SHARE = 0.05  # latent-score variance from genre taste (not measurable, fixed)
MIN_NOISE_SHARE = 0.2  # the rest of the latent variance is noise, at least this much
MAX_ROUNDS = 60  # redraw rounds; the uniform fallback makes a handful enough in practice
UNIFORM_AFTER = 8  # from this round on, half of a short user's draws are uniform over items


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


def sample(
    shape: Shape,
    n_users: int,
    n_items: int,
    n_interactions: int,
    rng: np.random.Generator,
    checksum: str,
) -> Dataset:
    """The sampler both generators share (the package docstring lists its steps)."""
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
    split = genre_segments(genres)  # (n_items, n_segments)
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
