"""Honest splits: the search fits on train and scores on validation; test is only reported.

``validation`` stage: fit on ``train``, score on ``validation``.
``test`` stage: fit on ``train + validation``, score on ``test``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from paretorec.data.interactions import Interactions
from paretorec.errors import ConfigError

Stage = Literal["validation", "test"]
STAGES: tuple[Stage, ...] = ("validation", "test")


@dataclass(frozen=True, eq=False)
class Split:
    """Three disjoint parts of one dataset's interactions, in the same code space."""

    train: Interactions
    validation: Interactions
    test: Interactions

    def fit_data(self, stage: Stage) -> Interactions:
        """What a model is fitted on for ``stage``."""
        return self.train if stage == "validation" else self.train.concat(self.validation)

    def truth(self, stage: Stage) -> Interactions:
        """The held-out interactions ``stage`` is scored on."""
        return self.validation if stage == "validation" else self.test


def _holdout_counts(n: np.ndarray, fraction: float) -> np.ndarray:
    """Per-user number of held-out events: round(fraction*n), at least 1 while 1 stays behind."""
    k = np.floor(fraction * n + 0.5).astype(np.int64)
    k = np.where((k == 0) & (n >= 2) & (fraction > 0), 1, k)
    return np.minimum(k, np.maximum(n - 1, 0))


def holdout_split(
    inter: Interactions, test: float = 0.2, validation: float = 0.2, seed: int = 42
) -> Split:
    """Seeded per-user random holdout.

    Each user's events are shuffled; ``test`` of them go to test, then ``validation`` of the
    remainder go to validation, the rest to train. A user with a single event keeps it in train.

    Args:
        inter: All events.
        test: Fraction of each user's events held out for test, in [0, 1).
        validation: Fraction of each user's remaining events held out for validation, in [0, 1).
        seed: Seed of the shuffle.

    Returns:
        The split; identical for identical input and seed.
    """
    for name, value in [("test", test), ("validation", validation)]:
        if not 0.0 <= value < 1.0:
            raise ConfigError(f"`0 <= split.{name} < 1` must hold, got {name}={value}")
    rng = np.random.default_rng(seed)
    key = rng.random(len(inter))
    order = np.lexsort((key, inter.user))
    counts = inter.user_counts()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(len(inter), dtype=np.int64)
    position[order] = np.arange(len(inter)) - starts[inter.user[order]]

    n_test = _holdout_counts(counts, test)
    n_val = _holdout_counts(counts - n_test, validation)
    pos_test = n_test[inter.user]
    is_test = position < pos_test
    is_val = (position >= pos_test) & (position < pos_test + n_val[inter.user])
    return Split(
        train=inter.take(~(is_test | is_val)),
        validation=inter.take(is_val),
        test=inter.take(is_test),
    )
