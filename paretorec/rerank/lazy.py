"""The built-in pick-dependent terms in one compiled, bounded lazy greedy.

The generic loop (``reranker._generic``) has every active term rewrite every candidate's gain
after every pick, one compiled pass per term: with all five built-in pick terms, five passes
over ``(pool, users)`` per pick, and calibration pays a logarithm per candidate genre in each.
Here picks are made from upper bounds, and a candidate's gains are computed in full (a
"refresh") only when its bound could still make it the best:

- **diversity** (``-max sim`` to the picks), **intent** (the user's genres left uncovered)
  and **coverage** (``-exposure``) only fall as picks are made, so a gain computed at an
  earlier step bounds it from above;
- **calibration**'s gain is ``(after_u - now_u) + B_i``: a per-user part, computed exactly
  every step, plus ``B_i = sum_g p(g|u) log(1 + c w_i / base_g)`` with ``c w_i / base_g =
  (1 - α) w_i / ((1 - α) mass_g + α p(g|u) (count + 1))``, which falls as the list's genre mass
  and count grow: an earlier ``B_i`` bounds it from above;
- **long-tail**'s gain is two numbers per user and step (head, tail), computed exactly.

Before the first pick every gain depends on the candidates alone (memoised on the pool), so the
first step is exact without a refresh. At each later step, per user, the candidates are
refreshed in decreasing order of their bounds (the ``TOP`` largest kept sorted) until no bound
left can beat the best value found. That candidate is the generic loop's pick, the first row
with the largest value: every bound is at least its candidate's value, with a margin
(``MARGIN`` of the magnitudes summed) far above the rounding of the sums, so rounding cannot
hide a better or an equal earlier candidate. The values are computed in the generic loop's
arithmetic and order, so lists, values and slots are bitwise the generic loop's
(``tests/rerank/test_lazy.py``; ``experiments/bench_terms.py`` checks it on ML-100k).

Steps run for all users at once, as in the generic loop: the coverage term needs the whole
batch's picks at one position before the next. A term outside the five (a plug-in, or a
subclass of one of them) takes the generic loop, as does a weight above ``_MAX_WEIGHT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np

from paretorec.data.features import CALIBRATION_ALPHA as ALPHA
from paretorec.rerank.calibration import Calibration
from paretorec.rerank.coverage import Coverage
from paretorec.rerank.diversity import Diversity
from paretorec.rerank.intent import Intent
from paretorec.rerank.longtail import LongTail
from paretorec.rerank.pool import CandidatePool
from paretorec.rerank.term import PickTerm

DIVERSITY, CALIBRATION, INTENT, LONGTAIL, COVERAGE = range(5)
N_CODES = 5
TOP = 6  # bounds kept sorted per user and step: the refreshes rarely need more
MARGIN = 1e-9  # relative margin of a bound over its true value (rounding is ~1e-15)
# above the magnitude of calibration's per-candidate sums: each is a sum over genres of p(g|u)
# (summing to 1) times a difference of logs of numbers at least α p(g|u), which is far above
# e^-32 for any data here; the margin is taken relative to it
_CALIBRATION_SCALE = 64.0


@numba.njit(cache=True, nogil=True)
def greedy(  # type: ignore[no-untyped-def]
    value,
    order,
    w,
    k,
    empty_row,
    div_profile,
    div_rows,
    table,
    ptr,
    genre,
    gweight,
    gprofile,
    rows,
    log_base,
    empty_log_mix,
    alpha,
    cal_first,
    int_first,
    tail,
    interest,
    cov_items,
    n_items,
):
    """Greedy picks with the active built-in pick terms, lazily.

    Args:
        value: ``(p, n)`` float64 relevance plus bonuses (``greedy.values``).
        order: Codes of the active pick terms, in the settings' order (the order their gains
            are added in).
        w: ``(N_CODES,)`` each code's weight (0 when not active).
        k: List length.
        empty_row: The pool's empty last row.
        div_profile, div_rows, table: The diversity term's prepared profiles.
        ptr, genre, gweight, gprofile, rows: The candidates' genres (``CandidateGenres``; the
            calibration and intent terms prepare the same).
        log_base, empty_log_mix, alpha: Calibration's prepared logs and its smoothing.
        cal_first, int_first: ``(n, C + 1)`` each candidate's calibration sum ``B`` and
            intent gain before the first pick (``first_calibration``, ``first_intent``).
        tail, interest: The long-tail term's groups and user interests.
        cov_items, n_items: The coverage term's candidate items and the catalogue size.

    Returns:
        ``(n, k)`` flat slots, ``(n, k)`` float64 values, and the refreshes per user summed
        over the steps after the first (how lazy it was).
    """
    p, n = value.shape
    act = np.zeros(N_CODES, np.bool_)
    for c in order:
        act[c] = True
    n_genres = gprofile.shape[1]
    # per user
    mass = np.zeros((n, n_genres))
    shown = np.zeros((n, n_genres), np.intp)
    counts = np.zeros((2, n), np.intp)
    now = empty_log_mix.copy()
    base = alpha * gprofile
    log_mix = log_base.copy()
    left = np.ones((n, n_genres))
    in_group = np.zeros((n, 2))
    exposure = np.zeros(n_items)
    pick_profile = np.zeros((n, k), np.intp)
    n_picks = np.zeros(n, np.intp)
    # per candidate, user-major
    val = np.ascontiguousarray(value.T)
    stale = np.zeros((n, p))  # the lazily updated part of the value bound
    cal_gain = np.zeros((n, p))
    most = np.zeros((n, p))
    seen = np.zeros((n, p), np.intp)
    fresh = np.full((n, p), -1, np.intp)
    ub = np.empty(p)
    queue = np.empty(p, np.intp)
    top_b = np.empty(TOP)
    top_r = np.empty(TOP, np.intp)
    gain = np.zeros(N_CODES)
    group_gain = np.zeros(2)
    slots = np.empty((n, k), np.intp)
    picked = np.empty((n, k))
    arg = np.empty(n, np.intp)
    top = np.empty(n)
    refreshes = np.zeros(n, np.intp)
    for step in range(k):
        for u in range(n):
            # the exactly computed per-user parts of this step
            after = 0.0
            c_step = 0.0
            if act[CALIBRATION]:
                denom = counts[0, u] + 1.0
                c_step = (1.0 - alpha) / denom
                after = empty_log_mix[u]
                for j in range(counts[1, u]):
                    g = shown[u, j]
                    pg = gprofile[u, g]
                    if pg > 0.0:
                        base[u, g] = (1.0 - alpha) * mass[u, g] / denom + alpha * pg
                        log_mix[u, g] = np.log(base[u, g])
                        after += pg * (log_mix[u, g] - log_base[u, g])
            if act[LONGTAIL]:
                total = in_group[u, 0] + in_group[u, 1]
                for grp in range(2):
                    if total == 0.0:
                        group_gain[grp] = interest[u, grp]
                    else:
                        group_gain[grp] = interest[u, grp] * (1.0 - in_group[u, grp] / total)
            first = u * rows
            best = -1
            best_v = -np.inf
            if step == 0:
                # every gain before the first pick is known: no bounds, every value exact
                for r in range(p):
                    x = val[u, r]
                    if x == -np.inf:
                        continue
                    lazy = 0.0
                    gain[DIVERSITY] = 0.0
                    gain[COVERAGE] = 0.0
                    if act[CALIBRATION]:
                        if ptr[first + r] == ptr[first + r + 1]:
                            gain[CALIBRATION] = 0.0
                        else:
                            gain[CALIBRATION] = (after + cal_first[u, r]) - now[u]
                            lazy += w[CALIBRATION] * cal_first[u, r]
                        cal_gain[u, r] = gain[CALIBRATION]
                    if act[INTENT]:
                        gain[INTENT] = int_first[u, r]
                        lazy += w[INTENT] * gain[INTENT]
                    if act[LONGTAIL]:
                        grp = tail[r, u]
                        gain[LONGTAIL] = 0.0 if grp < 0 else group_gain[grp]
                    stale[u, r] = lazy
                    v = x
                    for c in order:
                        v = v + w[c] * gain[c]
                    fresh[u, r] = 0
                    if v > best_v:
                        best, best_v = r, v
            else:
                # upper bounds: the stale parts plus this step's exact per-user parts, with a
                # margin over the rounding
                part = w[CALIBRATION] * (after - now[u])
                scale = 1.0 + w[DIVERSITY] + w[INTENT] + w[LONGTAIL] + w[COVERAGE]
                scale += w[CALIBRATION] * (_CALIBRATION_SCALE + abs(after) + abs(now[u]))
                lt0 = w[LONGTAIL] * group_gain[0]
                lt1 = w[LONGTAIL] * group_gain[1]
                # the TOP largest bounds, largest first (ties: lower row first)
                n_top = 0
                for r in range(p):
                    x = val[u, r]
                    if x == -np.inf:
                        ub[r] = -np.inf
                        continue
                    b = x + stale[u, r]
                    if act[CALIBRATION] and ptr[first + r] != ptr[first + r + 1]:
                        b += part
                    if act[LONGTAIL]:
                        grp = tail[r, u]
                        if grp == 0:
                            b += lt0
                        elif grp == 1:
                            b += lt1
                    b += MARGIN * (scale + abs(x))
                    ub[r] = b
                    if n_top < TOP or b > top_b[n_top - 1]:
                        j = n_top if n_top < TOP else TOP - 1
                        while j > 0 and top_b[j - 1] < b:
                            top_b[j] = top_b[j - 1]
                            top_r[j] = top_r[j - 1]
                            j -= 1
                        top_b[j] = b
                        top_r[j] = r
                        if n_top < TOP:
                            n_top += 1
                # refresh in that order until no bound left can beat the best exact value;
                # the candidates outside the TOP are looked at only when the TOP ran out
                n_queue = n_top
                for j in range(n_top):
                    queue[j] = top_r[j]
                rest = top_b[n_top - 1] if n_top == TOP else -np.inf
                at = 0
                while True:
                    if at == n_queue:
                        if rest < best_v or (rest == best_v and best == 0):
                            break
                        # the TOP ran out: every other candidate that can still win, by bound
                        rest = -np.inf
                        n_queue = 0
                        at = 0
                        for q in range(p):
                            b = ub[q]
                            if fresh[u, q] != step and (b > best_v or (b == best_v and q < best)):
                                j = n_queue
                                while j > 0 and ub[queue[j - 1]] < b:
                                    queue[j] = queue[j - 1]
                                    j -= 1
                                queue[j] = q
                                n_queue += 1
                        if n_queue == 0:
                            break
                    r = queue[at]
                    at += 1
                    if ub[r] < best_v or (ub[r] == best_v and r > best):
                        if rest < best_v or (rest == best_v and best == 0):
                            break  # the queue is sorted: nothing after r can win either
                        continue
                    if fresh[u, r] == step:
                        continue
                    # candidate r's exact value at this step, in the generic loop's
                    # arithmetic, and the parts that bound its later values
                    refreshes[u] += 1
                    fresh[u, r] = step
                    slot = first + r
                    lazy = 0.0
                    if act[DIVERSITY]:
                        m = most[u, r]
                        for j in range(seen[u, r], n_picks[u]):
                            s = np.float64(table[div_rows[r, u] + pick_profile[u, j]])
                            if s > m:
                                m = s
                        most[u, r] = m
                        seen[u, r] = n_picks[u]
                        gain[DIVERSITY] = -m
                        lazy -= w[DIVERSITY] * m
                    if act[CALIBRATION]:
                        if ptr[slot] == ptr[slot + 1]:
                            gain[CALIBRATION] = 0.0
                        else:
                            acc = 0.0
                            for t in range(ptr[slot], ptr[slot + 1]):
                                g = genre[t]
                                pg = gprofile[u, g]
                                if pg > 0.0:
                                    acc += pg * (
                                        np.log(base[u, g] + c_step * gweight[t]) - log_mix[u, g]
                                    )
                            gain[CALIBRATION] = (after + acc) - now[u]
                            lazy += w[CALIBRATION] * acc
                        cal_gain[u, r] = gain[CALIBRATION]
                    if act[INTENT]:
                        acc = 0.0
                        for t in range(ptr[slot], ptr[slot + 1]):
                            g = genre[t]
                            acc += gprofile[u, g] * gweight[t] * left[u, g]
                        gain[INTENT] = acc
                        lazy += w[INTENT] * acc
                    if act[LONGTAIL]:
                        grp = tail[r, u]
                        gain[LONGTAIL] = 0.0 if grp < 0 else group_gain[grp]
                    if act[COVERAGE]:
                        i = cov_items[r, u]
                        gain[COVERAGE] = -exposure[i] / n if i >= 0 else 0.0
                        lazy += w[COVERAGE] * gain[COVERAGE]
                    stale[u, r] = lazy
                    v = val[u, r]
                    for c in order:
                        v = v + w[c] * gain[c]
                    ub[r] = v
                    if v > best_v or (v == best_v and r < best):
                        best, best_v = r, v
            if best < 0:
                top[u] = -np.inf
                arg[u] = 0
            else:
                top[u] = best_v
                arg[u] = best
            picked[u, step] = top[u]
            slots[u, step] = (arg[u] if np.isfinite(top[u]) else empty_row) * n + u
            if best < 0:
                continue
            val[u, best] = -np.inf
            if step == k - 1:
                continue
            # this user's pick moves the per-user states
            slot = first + best
            if act[CALIBRATION] and ptr[slot] != ptr[slot + 1]:
                now[u] += cal_gain[u, best]
                for t in range(ptr[slot], ptr[slot + 1]):
                    g = genre[t]
                    if mass[u, g] == 0.0:
                        shown[u, counts[1, u]] = g
                        counts[1, u] += 1
                    mass[u, g] += gweight[t]
                counts[0, u] += 1
            if act[INTENT]:
                for t in range(ptr[slot], ptr[slot + 1]):
                    left[u, genre[t]] *= 1.0 - gweight[t]
            if act[LONGTAIL]:
                grp = tail[best, u]
                if grp >= 0:
                    in_group[u, grp] += 1.0
            if act[DIVERSITY]:
                pick_profile[u, n_picks[u]] = div_profile[best, u]
                n_picks[u] += 1
        if act[COVERAGE] and step < k - 1:
            # the batch's exposure moves after every user picked at this position
            for u in range(n):
                if np.isfinite(top[u]):
                    i = cov_items[arg[u], u]
                    if i >= 0:
                        exposure[i] += 1.0
    return slots, picked, refreshes


@numba.njit(cache=True, nogil=True)
def first_calibration(ptr, genre, gweight, gprofile, rows, log_base, alpha):  # type: ignore[no-untyped-def]
    """``(n, rows)`` each candidate's calibration sum ``B`` before the first pick, in the
    generic loop's arithmetic (``calibration._gains`` with nothing picked)."""
    n = gprofile.shape[0]
    out = np.zeros((n, rows))
    c_step = (1.0 - alpha) / 1.0
    for u in range(n):
        for r in range(rows):
            slot = u * rows + r
            b = 0.0
            for t in range(ptr[slot], ptr[slot + 1]):
                g = genre[t]
                pg = gprofile[u, g]
                if pg > 0.0:
                    b += pg * (np.log(alpha * pg + c_step * gweight[t]) - log_base[u, g])
            out[u, r] = b
    return out


@numba.njit(cache=True, nogil=True)
def first_intent(ptr, genre, gweight, gprofile, rows):  # type: ignore[no-untyped-def]
    """``(n, rows)`` each candidate's intent gain before the first pick, in the generic
    loop's arithmetic (``intent._gains`` with every genre left)."""
    n = gprofile.shape[0]
    out = np.zeros((n, rows))
    for u in range(n):
        for r in range(rows):
            slot = u * rows + r
            acc = 0.0
            for t in range(ptr[slot], ptr[slot + 1]):
                acc += gprofile[u, genre[t]] * gweight[t] * 1.0
            out[u, r] = acc
    return out


def compile_now() -> None:
    """Compile the kernels (or load them from numba's on-disk cache) in this process: see
    ``greedy.compile_now``."""
    n, p, k = 1, 2, 2
    ptr = np.zeros(n * (p + 1) + 1, np.intp)
    genre, gweight, zeros = np.zeros(1, np.intp), np.zeros(1), np.zeros((n, p + 1))
    ids = np.zeros((p + 1, n), np.intp)
    greedy(
        np.zeros((p, n)),
        np.arange(N_CODES),
        np.ones(N_CODES),
        k,
        p,
        ids,
        ids,
        np.zeros(1, np.float32),
        ptr,
        genre,
        gweight,
        np.ones((n, 1)),
        p + 1,
        np.zeros((n, 1)),
        np.zeros(n),
        ALPHA,
        zeros,
        zeros,
        np.zeros((p + 1, n), np.int8),
        np.ones((n, 2)),
        ids,
        1,
    )
    first_calibration(ptr, genre, gweight, np.ones((n, 1)), p + 1, np.zeros((n, 1)), ALPHA)
    first_intent(ptr, genre, gweight, np.ones((n, 1)), p + 1)


# a weight above this could overflow a weighted gain, where the generic loop's NaN rules apply
_MAX_WEIGHT = 1e6
# the exact classes: a subclass may change the gain, so it takes the generic loop
_CODES: dict[type, int] = {
    Diversity: DIVERSITY,
    Calibration: CALIBRATION,
    Intent: INTENT,
    LongTail: LONGTAIL,
    Coverage: COVERAGE,
}


def run(
    pool: CandidatePool,
    value: np.ndarray,
    terms: Sequence[PickTerm],
    prepared: Sequence[Any],
    k: int,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Each user's ``k`` picks with the active pick ``terms`` (``prepared`` on ``pool``), or
    None when a term is not one of the built-in five or a weight is too large for the bounds.

    Args:
        pool: The candidates; what the first step needs is memoised on it.
        value: ``(p, n)`` relevance plus bonuses (``greedy.values``).
        terms: The active pick-dependent terms, in the settings' order.
        prepared: Each term's prepared data, aligned with ``terms``.
        k: List length.

    Returns:
        ``(n, k)`` flat slots and ``(n, k)`` values, as ``reranker._generic`` returns them.
    """
    args = arguments(pool, value, terms, prepared, k)
    if args is None:
        return None
    slots, values, _ = greedy(*args)
    return slots, values


def arguments(
    pool: CandidatePool,
    value: np.ndarray,
    terms: Sequence[PickTerm],
    prepared: Sequence[Any],
    k: int,
) -> tuple | None:
    """``greedy``'s arguments for ``run`` (or None); a benchmark calls ``greedy`` with them to
    count the refreshes."""
    if any(type(t) not in _CODES or t.weight > _MAX_WEIGHT for t in terms):
        return None
    order = np.array([_CODES[type(t)] for t in terms], np.intp)
    w = np.zeros(N_CODES)
    w[order] = [t.weight for t in terms]
    data = dict(zip(order.tolist(), prepared, strict=True))
    n = value.shape[1]
    none_i, none_f = np.zeros((1, 1), np.intp), np.zeros((n, 1))
    div, cal, lt, cov = (data.get(c) for c in (DIVERSITY, CALIBRATION, LONGTAIL, COVERAGE))
    genres = cal.genres if cal is not None else data.get(INTENT)
    cal_first = int_first = none_f
    if genres is None:
        ptr, genre, gweight = np.zeros(1, np.intp), np.zeros(1, np.intp), np.zeros(1)
        gprofile, rows = none_f, 0
    else:
        ptr, genre, gweight, _, gprofile, rows = genres
        if cal is not None:
            cal_first = pool.memo(
                ("lazy: calibration before the first pick",),
                lambda: first_calibration(ptr, genre, gweight, gprofile, rows, cal.log_base, ALPHA),
            )
        if INTENT in data:
            int_first = pool.memo(
                ("lazy: intent before the first pick",),
                lambda: first_intent(ptr, genre, gweight, gprofile, rows),
            )
    return (
        value,
        order,
        w,
        k,
        pool.size,
        div.profile if div is not None else none_i,
        div.rows if div is not None else none_i,
        div.table if div is not None else np.zeros(1, np.float32),
        ptr,
        genre,
        gweight,
        gprofile,
        rows,
        cal.log_base if cal is not None else none_f,
        cal.empty_log_mix if cal is not None else np.zeros(n),
        ALPHA,
        cal_first,
        int_first,
        lt.tail if lt is not None else np.zeros((1, 1), np.int8),
        lt.interest if lt is not None else none_f,
        cov.items if cov is not None else none_i,
        pool.reference.n_items,
    )
