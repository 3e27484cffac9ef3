"""Why these items: per recommended item, the model's reason in words (the rated items,
neighbours, terms or popularity behind its score) and each re-rank term's contribution to the
pick.

A separate path from serving: the model is fitted a second time to read its evidence (a fit
is deterministic, so it is the served model), and the greedy re-rank is replayed along the
served picks to record, at the moment of each pick, the relevance and every active term's
weighted gain. Nothing here runs during a search or a plain ``recommend``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from paretorec.errors import ConfigError, DataError
from paretorec.export.recommender import Recommender
from paretorec.models.reasons import Reason
from paretorec.rerank.pool import CandidatePool
from paretorec.rerank.reranker import RerankSettings, rerank

TOP = 3  # evidence named per reason


def term_contributions(
    pool: CandidatePool, settings: RerankSettings, k: int, slots: np.ndarray
) -> dict[str, np.ndarray]:
    """What each part of the re-rank value contributed to each pick.

    Replays the greedy along the given picks (``slots``, as ``rerank`` returns them): bonus
    terms add ``weight * bonus(item)``; a pick-dependent term's gain is read before each pick
    and updated after it, exactly as the generic loop of the re-ranker does.

    Returns:
        ``relevance`` and each active term's name -> ``(n, k)`` float64 (NaN at empty slots);
        per pick they sum to the value the item was picked with.
    """
    n, p = pool.n_users, settings.pool
    rows = slots // n
    filled = rows < p
    nan = np.full(slots.shape, np.nan)
    lo, span = pool.relevance_range(p)
    scores = pool.gather(pool.scores, slots)
    out = {"relevance": np.where(filled, (scores - lo[:, None]) / span[:, None], nan)}
    items = pool.gather(pool.items, slots)
    for term in settings.bonus_terms():
        if term.active:
            bonus = np.asarray(term.bonus(pool.reference), dtype=np.float64)
            out[term.name] = np.where(filled, term.weight * bonus[np.maximum(items, 0)], nan)
    active = [t for t in settings.pick_terms() if t.active] if k > 1 else []
    users = np.arange(n)
    for term in active:
        prepared = pool.memo(
            (term.name, term.data_key()), lambda t=term: t.prepare(pool.items, pool.reference)
        )
        state = term.start(prepared, p, n)
        gain = np.zeros((p, n))
        term.initial(state, prepared, gain)
        picked = nan.copy()
        for step in range(k):
            # a user with nothing left stays at row 0, as in the re-ranker's generic loop
            arg = np.where(filled[:, step], rows[:, step], 0).astype(np.intp)
            picked[:, step] = np.where(filled[:, step], term.weight * gain[arg, users], np.nan)
            if step < k - 1:
                term.advance(state, prepared, gain, arg)
        out[term.name] = picked
    return out


def _names(served: Recommender) -> tuple[np.ndarray, np.ndarray]:
    """Item titles (ids where there is no title) and user ids, as text, by code."""
    dataset = served.dataset
    titles = served.pipeline.side.titles
    ids = np.asarray(dataset.item_ids).astype(str)
    if titles is not None:
        named = np.array([t if isinstance(t, str) and t.strip() else "" for t in titles], object)
        items = np.where(named != "", named, np.char.add("item ", ids)).astype(object)
    else:
        items = np.char.add("item ", ids).astype(object)
    return items, np.asarray(dataset.user_ids).astype(str)


def reason_text(
    reason: Reason, item_names: np.ndarray, user_ids: np.ndarray, show_users: bool = True
) -> str:
    """One reason in words: ``because you rated Heat, Casino``."""
    items = reason.kind in ("rated", "similar")
    listed = ", ".join(str(item_names[r]) for r in reason.refs) if items else ""
    if reason.kind == "popular":
        text = f"popular with {reason.count:.0f} users"
    elif not reason.refs:
        text = "no single piece of your history stands out"
    elif reason.kind == "rated":
        text = f"because you rated {listed}"
    elif reason.kind == "similar":
        text = f"close in {reason.via or 'vector space'} to {listed}, which you rated"
    elif reason.kind == "users":
        if show_users:
            text = "liked by users with tastes like yours: " + ", ".join(
                f"user {user_ids[r]}" for r in reason.refs
            )
        else:  # pseudonymised output names no other user
            text = f"liked by {len(reason.refs)} users with tastes like yours"
    else:  # terms
        text = "matches what you like: " + ", ".join(str(t) for t in reason.refs)
    member = reason.via if reason.via and reason.kind != "similar" else ""
    return f"{member}: {text}" if member else text


def rerank_text(parts: dict[str, float]) -> str:
    """``relevance 0.8213; novelty +0.1234; diversity -0.05201`` (4 significant digits)."""
    shown = []
    for name, value in parts.items():
        if np.isfinite(value):
            value = value + 0.0  # no "-0"
            shown.append(f"{name} {value:.4g}" if name == "relevance" else f"{name} {value:+.4g}")
    return "; ".join(shown)


def explain_recommendations(
    served: Recommender,
    users: Sequence[Any] | None = None,
    k: int | None = None,
    top: int = TOP,
    show_users: bool = True,
) -> pd.DataFrame:
    """The served lists with a reason per item.

    Args:
        served: A fitted recommender (``paretorec.recommender``).
        users: The dataset's user ids to explain (default: every served user).
        k: List length (default: the point's k).
        top: Rated items, neighbours or terms named per reason.
        show_users: Whether neighbour reasons may name other users' ids.

    Returns:
        ``user, item, [title,] rank, score, reason, rerank`` and one column per re-rank part
        (``relevance`` and each active term): the same rows as ``recommend``, with the
        model's reason in words and each term's contribution at the moment of the pick.
    """
    point = served.point
    if point.segments is not None:
        raise ConfigError(
            "--explain explains one point; a per-segment export serves several: explain each "
            "segment's point (export it with `paretorec select`) instead"
        )
    k = point.k if k is None else int(k)
    candidate = point.candidate
    lists = served.lists(k)  # checks k
    pipeline, stage = served.pipeline, served.stage
    fitted = pipeline.candidates(stage, candidate.model)
    picks = rerank(fitted.pool, candidate.rerank, k)
    if not np.array_equal(picks.items, lists.items):  # the replay must follow the served picks
        raise DataError("the re-rank replay differs from the served lists; please report this")
    rows = _rows(served, lists.users, users)
    parts = term_contributions(fitted.pool, candidate.rerank, k, picks.slots)
    data = pipeline.stage(stage)
    scorer = candidate.model.fit(data.fit)  # a second, identical fit: its evidence
    item_names, user_ids = _names(served)
    frame = served.to_frame(_subset(lists, rows))
    reasons: list[str] = []
    titles: list[str] = []
    rerank_parts: dict[str, list[float]] = {name: [] for name in parts}
    for row in rows:
        items = lists.items[row]
        valid = items >= 0
        titles += [str(item_names[i]) for i in items[valid]]
        try:
            found = candidate.model.explain(
                scorer, data.fit, int(lists.users[row]), items[valid], top
            )
        except NotImplementedError as exc:  # a plug-in model without reasons
            raise ConfigError(f"--explain: {exc}") from None
        for c, item_reasons in enumerate(found):
            reasons.append(
                "; ".join(reason_text(r, item_names, user_ids, show_users) for r in item_reasons)
            )
            for name, values in parts.items():
                rerank_parts[name].append(float(values[row, np.flatnonzero(valid)[c]]))
    if pipeline.side.titles is not None:
        frame.insert(2, "title", titles)
    frame["reason"] = reasons
    frame["rerank"] = [
        rerank_text({name: rerank_parts[name][i] for name in parts}) for i in range(len(frame))
    ]
    for name in parts:
        frame[name] = np.asarray(rerank_parts[name], dtype=np.float64) + 0.0  # no -0.0
    return frame


def users_frame(served: Recommender, lists: Any, users: Sequence[Any]) -> pd.DataFrame:
    """``to_frame`` of ``lists`` for the given user ids only (ids compared as text, as a
    command line gives them)."""
    return served.to_frame(_subset(lists, _rows(served, lists.users, users)))


def _rows(served: Recommender, codes: np.ndarray, users: Sequence[Any] | None) -> np.ndarray:
    if users is None:
        return np.arange(len(codes))
    ids = np.asarray(served.dataset.user_ids)[codes].astype(str)
    wanted = [str(u) for u in users]
    missing = sorted(set(wanted) - set(ids))
    if missing:
        raise DataError(
            f"{len(missing)} requested user(s) are not served at this stage "
            f"({', '.join(missing[:5])}); check the ids (or serve with --fit-on all)"
        )
    return np.flatnonzero(np.isin(ids, wanted))


def _subset(lists: Any, rows: np.ndarray) -> Any:
    from dataclasses import replace

    return replace(
        lists,
        users=lists.users[rows],
        items=lists.items[rows],
        values=lists.values[rows],
        ops=lists.ops[rows],
        judged=None,
    )
