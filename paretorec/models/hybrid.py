"""A hybrid of two member models: a per-user blend of their normalised scores, switching to
the second member alone for users with short histories (Burke 2002's weighted and switching
hybrids)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from paretorec import names
from paretorec.errors import ConfigError
from paretorec.models import reasons
from paretorec.models.base import FitData, Model, Scorer
from paretorec.models.catalog import MODELS
from paretorec.registry import param


def minmax_rows(scores: np.ndarray) -> np.ndarray:
    """Each row rescaled to [0, 1] (a constant row becomes zeros), so members with different
    score scales blend by rank position rather than by magnitude."""
    lo = scores.min(axis=1, keepdims=True)
    span = scores.max(axis=1, keepdims=True) - lo
    span[span == 0] = 1.0
    return (scores - lo) / span


class _HybridScorer:
    def __init__(self, first: Scorer, second: Scorer, weight: float, switched: np.ndarray) -> None:
        self.first, self.second = first, second
        self.weight = weight
        self.switched = switched  # (n_users,) True: the second member alone

    def score(self, users: np.ndarray) -> np.ndarray:
        a = minmax_rows(np.asarray(self.first.score(users), dtype=np.float64))
        b = minmax_rows(np.asarray(self.second.score(users), dtype=np.float64))
        blended = self.weight * a + (1.0 - self.weight) * b
        short = self.switched[users]
        blended[short] = b[short]
        return blended


@dataclass(frozen=True)
class Hybrid(Model):
    """Weighted hybrid of two members with a switching rule.

    ``score(u, i) = weight * norm_first(u, i) + (1 - weight) * norm_second(u, i)``, each member's
    scores min-max normalised per user; users with fewer than ``switch`` training events get
    ``norm_second`` alone (a content or popularity member serves them better than sparse CF).
    The members are models of the space; their hyperparameters are the point's values of
    ``<member>.<param>`` (decision variables when the space searches them).
    """

    name: ClassVar[str] = "hybrid"
    first: str = param(
        "ease",
        "first member model (collaborative)",
        search=["itemknn", "userknn", "ease", "als", "bpr"],
    )
    second: str = param(
        "content", "second member model (serves short histories)", search=["content", "popularity"]
    )
    weight: float = param(
        0.7, "weight of the first member", at_least=0, at_most=1, search={"low": 0.0, "high": 1.0}
    )
    switch: int = param(
        3,
        "users with fewer training events than this get the second member alone",
        at_least=0,
        search={"low": 0, "high": 20},
    )
    members: tuple[Model, ...] = field(default=(), compare=True, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        for role in ("first", "second"):
            if getattr(self, role) == self.name:
                raise ConfigError(f"`hybrid.{role}`: a hybrid cannot be its own member")
        if not self.members:
            object.__setattr__(
                self, "members", tuple(_build(getattr(self, r), {}) for r in ("first", "second"))
            )

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Model:
        own = cls.create(names.model_params(values, cls.name))
        members = tuple(
            _build(member, names.model_params(values, member)) for member in (own.first, own.second)
        )
        return cls(own.first, own.second, own.weight, own.switch, members)

    def values(self) -> dict[str, Any]:
        out = super().values()
        for member in self.members:
            out.update(member.values())
        return out

    @classmethod
    def check_space(cls, space_models: tuple[str, ...], domain: Mapping[str, tuple]) -> None:
        for role in ("first", "second"):
            for member in domain.get(role, ()):
                if member not in space_models or member == cls.name:
                    raise ConfigError(
                        f"space `hybrid.{role}`: member `{member}` must be another model of "
                        f"the space ({', '.join(m for m in space_models if m != cls.name)})"
                    )

    def fit(self, data: FitData) -> Scorer:
        first, second = (_fitted(member, data) for member in self.members)
        switched = data.history_length < self.switch
        return _HybridScorer(first, second, self.weight, switched)

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        a, b = (m.scoring_ops(history, n_items, pool) for m in self.members)
        # both members' work, then a normalise-and-blend pass over every item
        return np.where(history < self.switch, b, a + b + 4.0 * n_items)

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        # each member's own reasons, attributed to it (the second alone for short histories)
        first, second = self.members
        two = second.explain(scorer.second, data, user, items, top)  # type: ignore[attr-defined]
        if scorer.switched[user]:  # type: ignore[attr-defined]
            label = f"{second.name} (serves short histories)"
            return [[r.via_(label) for r in rs] for rs in two]
        one = first.explain(scorer.first, data, user, items, top)  # type: ignore[attr-defined]
        w = self.weight
        return [
            [r.via_(f"{first.name} (weight {w:.2g})") for r in a]
            + [r.via_(f"{second.name} (weight {1 - w:.2g})") for r in b]
            for a, b in zip(one, two, strict=True)
        ]


def _build(name: str, params: Mapping[str, Any]) -> Model:
    return MODELS.get(name).create(dict(params))


# Member fits are kept per stage so a hybrid changing only its weight or switch does not
# refit them; the few most recent are enough for a search's revisits.
MEMBER_FITS = 4


def _fitted(member: Model, data: FitData) -> Scorer:
    fits = data.derived.setdefault("hybrid.members", {})
    assert isinstance(fits, dict)
    if member not in fits:
        while len(fits) >= MEMBER_FITS:
            fits.pop(next(iter(fits)))
        fits[member] = member.fit(data)
    return fits[member]
