"""The weighted re-ranker: relevance plus the registered terms, picked greedily.

For each user, items are picked greedily from the model's top-``pool`` candidates::

    value(i | picked) = rel(i) + sum over terms t of  weight_t * gain_t(i | picked)

``rel`` is the model score min-max normalised over the user's pool, and every term's gain is
scaled to [0, 1] (or [-1, 0]) so the weights are comparable across models. With no active
pick-dependent term the picks are the k best values. The picks are compiled: ``greedy.py``
(the generic loop, any terms), and ``lazy.py`` (the built-in terms, lazily, the same lists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from paretorec import names
from paretorec.errors import ConfigError
from paretorec.registry import Param
from paretorec.rerank import greedy, lazy
from paretorec.rerank.pool import CandidatePool
from paretorec.rerank.term import TERMS, BonusTerm, PickTerm, Term, build_term

POOL = Param(
    "pool",
    50,
    "candidates per user taken from the model (>= k)",
    "int",
    above=0,
    # every user's pool is held in memory: 1e8 asked for 56 GiB before any check said no
    at_most=10_000,
    search={"low": 10, "high": 100},
)


@dataclass(frozen=True)
class RerankSettings:
    """The re-ranking decision variables: the pool size and the terms with their parameters.

    Attributes:
        pool: Candidates per user taken from the model, ``pool >= k``.
        terms: The terms, each with its weight (0 = off) and parameters.
    """

    pool: int = 50
    terms: tuple[Term, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "pool", POOL.check(self.pool, names.POOL_NAME))
        seen = [t.name for t in self.terms]
        if len(set(seen)) != len(seen):
            raise ConfigError(f"re-rank terms: each term once, got {', '.join(seen)}")

    @classmethod
    def of(cls, pool: int = 50, **weights: float) -> RerankSettings:
        """``RerankSettings.of(pool=20, diversity=0.2)``: terms by name with their weights."""
        return cls(pool, tuple(build_term(name, {"weight": w}) for name, w in weights.items()))

    @classmethod
    def from_params(cls, pool: int, terms: Mapping[str, Mapping[str, Any]]) -> RerankSettings:
        """From ``{term: {param: value}}`` (``weight`` for the weight)."""
        return cls(pool, tuple(build_term(name, params) for name, params in terms.items()))

    def weight(self, term: str) -> float:
        """The weight of ``term`` (0 when the settings do not have it)."""
        return next((t.weight for t in self.terms if t.name == term), 0.0)

    def values(self) -> dict[str, Any]:
        """Flat parameter names and values (``rerank.pool``, ``rerank.<term>[.<param>]``)."""
        out: dict[str, Any] = {names.POOL_NAME: self.pool}
        for term in self.terms:
            for key, value in term.params().items():
                out[names.term_param(term.name, key)] = value
        return out

    def ops(self, k: int) -> float:
        """Deterministic operation count of one user's re-rank: normalise and add the bonuses
        (``2 x pool``), then either a sort (``pool log2 pool``) or, with a pick-dependent term
        active, its own count (MMR: ``k x pool`` similarity lookups). The cost model of the
        ``cost`` objective, whatever the implementation does."""
        pool = float(self.pool)
        picks = [t.ops(k, self.pool) for t in self.terms if isinstance(t, PickTerm) and t.active]
        pick = sum(picks) if picks else pool * np.log2(max(self.pool, 2))
        return 2.0 * pool + pick + sum(t.ops(k, self.pool) for t in self.bonus_terms() if t.active)

    def bonus_terms(self) -> list[BonusTerm]:
        return [t for t in self.terms if isinstance(t, BonusTerm)]

    def pick_terms(self) -> list[PickTerm]:
        return [t for t in self.terms if isinstance(t, PickTerm)]


def costliest(pool: int, upper: Mapping[str, float]) -> RerankSettings:
    """The settings with every term at its largest weight (``upper``: term -> weight)."""
    return RerankSettings.of(pool, **{name: w for name, w in upper.items() if name in TERMS})


@dataclass(frozen=True, eq=False)
class Reranked:
    """Each user's top-k list.

    Attributes:
        items: ``(n, k)`` int32 items, best first (``-1`` pads users with fewer than k
            candidates).
        values: ``(n, k)`` float64 value each item had when it was picked (``-inf`` pads).
        slots: ``(n, k)`` flat index of each pick into the pool's position-major arrays
            (``position * n + user``; pads point at the empty last row), so any per-candidate
            fact gathers into the lists with one ``take``.
    """

    items: np.ndarray
    values: np.ndarray
    slots: np.ndarray


def rerank(pool: CandidatePool, settings: RerankSettings, k: int) -> Reranked:
    """Pick each user's top-``k`` list from the first ``settings.pool`` candidates.

    Args:
        pool: The model's candidates, position-major (built once per fitted model).
        settings: Pool size and terms.
        k: List length.
    """
    if k > settings.pool:
        raise ConfigError(f"`rerank.pool >= k` must hold, got pool={settings.pool}, k={k}")
    if settings.pool > pool.size:
        raise ConfigError(
            f"`rerank.pool <= {pool.size}` must hold here (candidates generated), "
            f"got {settings.pool}"
        )
    p = settings.pool
    lo, span = pool.relevance_range(p)
    bonus_terms = settings.bonus_terms()
    bonus = pool.bonus_stack(
        [(t.name, t.data_key()) for t in bonus_terms],
        lambda t: bonus_terms[t].bonus(pool.reference),
    )
    weights = np.array([t.weight for t in bonus_terms], dtype=np.float64)
    value_args = (pool.scores, lo, span, bonus, weights)
    active = [t for t in settings.pick_terms() if t.active] if k > 1 else []
    prepared = [_prepared(pool, t) for t in active]
    found = None
    if len(active) == 1:
        found = active[0].fused(prepared[0], value_args, float(weights.sum()), p, k, pool.size)
    if found is None and active:
        found = lazy.run(pool, greedy.values(*value_args, p), active, prepared, k)
    if found is not None:
        slots, values = found
    elif not active:
        slots, values = greedy.plain(*value_args, p, k, pool.size)
    else:
        slots, values = _generic(value_args, active, prepared, p, k, pool.size)
    return Reranked(items=pool.gather(pool.items, slots), values=values, slots=slots)


def _prepared(pool: CandidatePool, term: PickTerm) -> Any:
    return pool.memo((term.name, term.data_key()), lambda: term.prepare(pool.items, pool.reference))


def _generic(
    value_args: tuple,
    terms: Sequence[PickTerm],
    prepared: Sequence[Any],
    p: int,
    k: int,
    empty_row: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The greedy loop for any number of pick-dependent terms: a compiled pick per step, then
    each term writes every candidate's new gain (its own compiled pass)."""
    value = greedy.values(*value_args, p)
    n = value.shape[1]
    gains = np.zeros((len(terms), p, n))
    weights = np.array([t.weight for t in terms], dtype=np.float64)
    states = [t.start(data, p, n) for t, data in zip(terms, prepared, strict=True)]
    for t, term in enumerate(terms):
        term.initial(states[t], prepared[t], gains[t])
    slots = np.empty((n, k), np.intp)
    picked = np.empty((n, k), np.float64)
    top = np.empty(n, np.float64)
    arg = np.zeros(n, np.intp)
    for step in range(k):
        greedy.pick_best(value, gains, weights, top, arg)
        greedy.record(step, top, arg, picked, slots, empty_row)
        # a user with nothing left picked nothing: point the terms at the empty row, whose
        # candidate has no item, genres or group (row 0 would count a pick twice)
        arg[~np.isfinite(top)] = empty_row
        if step < k - 1:
            for t, term in enumerate(terms):
                term.advance(states[t], prepared[t], gains[t], arg)
    return slots, picked
