"""Re-rank terms: what a weighted objective adds to an item's value during the greedy picks.

For each user, the re-ranker picks greedily from the model's top-``pool`` candidates::

    value(i | picked) = rel(i) + sum over terms t of  weight_t * gain_t(i | picked)

``rel`` is the model score min-max scaled over the user's pool. A term is a frozen dataclass
with a declared ``weight`` (0 switches it off, and a term at weight 0 leaves every list exactly
as it was) and any further parameters. It is one of two kinds:

- ``BonusTerm``: the gain of an item does not depend on what was picked (novelty). Its
  per-item bonus, in [0, 1], is computed once per stage and laid out with the candidates.
- ``PickTerm``: the gain depends on the items picked so far (MMR diversity). It prepares
  per-candidate arrays once per fitted model, and after each pick updates every candidate's
  gain (``advance``, compiled). A term may also offer a fused kernel for when it is the only
  pick-dependent term, which is what keeps a search's cached evaluation under 1.5 ms.

The generic loop (``reranker._generic``) runs any mix of pick terms and defines the lists. The
five built-in pick terms also run in one bounded lazy kernel (``rerank/lazy.py``) that gives
the same lists, values and slots bit for bit, faster; a new term takes the generic loop, correct
but slower, until the kernel learns its gain and the bound on it.

Each term names the metric it exists to move (``metric``), the dataset features it reads
(``needs``), and its share of the cost model (``ops``). A new term is one file plus a
registration (``@register_term``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from paretorec import names
from paretorec.data.reference import Reference
from paretorec.errors import ConfigError
from paretorec.registry import Declared, Registry, declared_params


class Term(Declared):
    """Base of re-rank terms. Subclasses declare ``weight = param(0.0, ..., at_least=0)``."""

    name: ClassVar[str] = ""
    metric: ClassVar[str] = ""  # the metric a larger weight moves its own way (``ild``)
    needs: ClassVar[tuple[str, ...]] = ()  # dataset features read: "genres", "tags", ...
    batch_dependent: ClassVar[bool] = False  # a user's list depends on who else is re-ranked
    weight: float

    @classmethod
    def prefix(cls) -> str:
        return names.term_param(cls.name)

    @classmethod
    def kind_label(cls) -> str:
        return "re-rank term"

    def __post_init__(self) -> None:
        for p in declared_params(type(self)):
            label = names.term_param(self.name, p.name)
            object.__setattr__(self, p.name, p.check(getattr(self, p.name), label))

    @property
    def active(self) -> bool:
        return self.weight > 0

    def data_key(self) -> tuple:
        """What the term's prepared arrays depend on: every parameter but the weight."""
        return tuple((k, v) for k, v in self.params().items() if k != "weight")

    def ops(self, k: int, pool: int) -> float:
        """Operations per user this term adds to the re-rank when active (cost model)."""
        return 0.0

    @classmethod
    def check_data(cls, available: Mapping[str, bool], params: Mapping[str, tuple]) -> None:
        """Raise ConfigError (one line) when the dataset lacks what the term reads.

        Args:
            available: Which item features the dataset has (``genres``, ``tags``,
                ``semantic``).
            params: Each of the term's parameters in the space and the values it can take.
        """
        missing = [need for need in cls.needs if not available.get(need, False)]
        if missing:
            raise ConfigError(
                f"re-rank term `{cls.name}` needs item {missing[0]}, which the dataset does not "
                f"have; remove `{names.term_param(cls.name)}` from the space or use data with "
                f"{missing[0]}"
            )


class BonusTerm(Term):
    """A term whose gain is a fixed per-item bonus in [0, 1]."""

    def bonus(self, reference: Reference) -> np.ndarray:
        """``(n_items,)`` float64 bonus of each item on the stage ``reference`` describes."""
        raise NotImplementedError


class PickTerm(Term):
    """A term whose gain depends on the items already picked for the user."""

    def prepare(self, items: np.ndarray, reference: Reference) -> Any:
        """Per-candidate data, once per fitted model.

        Args:
            items: ``(C + 1, n)`` position-major candidate items (``-1`` for empty slots).
            reference: The stage's training side and item features.
        """
        raise NotImplementedError

    def start(self, prepared: Any, p: int, n: int) -> Any:
        """The state before the first pick."""
        raise NotImplementedError

    def initial(self, state: Any, prepared: Any, gain: np.ndarray) -> None:
        """Write every candidate's gain before the first pick into ``gain`` (``(p, n)``,
        zeros on entry); a term whose gain starts at 0 (MMR) leaves it."""

    def advance(self, state: Any, prepared: Any, gain: np.ndarray, arg: np.ndarray) -> None:
        """After each user ``u`` picked row ``arg[u]``: write every candidate's new gain into
        ``gain`` (``(p, n)`` float64)."""
        raise NotImplementedError

    def fused(
        self,
        prepared: Any,
        value_args: tuple,
        bonus_weight: float,
        p: int,
        k: int,
        empty_row: int,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """A compiled re-rank for when this is the only active pick-dependent term, or None to
        use the generic loop. ``value_args`` are the relevance and bonus inputs of
        ``greedy.values``; ``bonus_weight`` is the sum of the bonus weights (bonuses <= 1)."""
        return None


TERMS: Registry[type[Term]] = Registry("re-rank term")


def register_term(cls: type[Term]) -> type[Term]:
    """Class decorator: register a Term subclass under its ``name``."""
    TERMS.add(cls.name, cls)
    return cls


def build_term(name: str, params: Mapping[str, Any]) -> Term:
    """The registered term ``name`` with validated parameters (``weight`` and others)."""
    return TERMS.get(name).create(dict(params))
