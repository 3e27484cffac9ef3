"""The novelty term: a bonus for items few training users know."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from paretorec.data.reference import Reference
from paretorec.registry import param
from paretorec.rerank.term import BonusTerm


@dataclass(frozen=True)
class Novelty(BonusTerm):
    """Novelty bonus: the item's self-information, scaled to [0, 1].

    ``nov(i) = -log2((u_i + 1) / (n + 1)) / log2(n + 1)`` with ``u_i`` the training users of
    item i and ``n`` all training users: 0 for an item everyone has, 1 for one nobody has.
    """

    name: ClassVar[str] = "novelty"
    metric: ClassVar[str] = "novelty"
    weight: float = param(
        0.0, "weight of the novelty bonus", at_least=0, search={"low": 0.0, "high": 1.0}
    )

    def bonus(self, reference: Reference) -> np.ndarray:
        return reference.info / math.log2(reference.n_train_users + 1.0)
