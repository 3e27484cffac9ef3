"""Honest splits: the search fits on train and scores on validation; test is only reported.

``validation`` stage: fit on ``train``, score on ``validation``.
``test`` stage: fit on ``train + validation``, score on ``test``.

Methods (validation is always carved from what test leaves, the same way):
- ``holdout``: each user's events shuffled (seeded); a fraction or a count of them held out.
- ``temporal``: one global cutoff in time; everything after it is held out.
- ``leave_last``: each user's last n events by time (ties: file order) held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from paretorec.config import SplitConfig
from paretorec.data.interactions import Interactions
from paretorec.errors import ConfigError, DataError

Stage = Literal["validation", "test"]


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


def _per_user_counts(n: np.ndarray, amount: float | int) -> np.ndarray:
    """Held-out events per user: a count, or round(fraction * n) and at least 1; one event
    always stays behind."""
    if isinstance(amount, int | np.integer) and not isinstance(amount, bool):
        k = np.full(n.shape, int(amount), dtype=np.int64)
    else:
        k = np.floor(amount * n + 0.5).astype(np.int64)
        k = np.where((k == 0) & (n >= 2) & (amount > 0), 1, k)
    return np.minimum(k, np.maximum(n - 1, 0))


def _rank_within_user(user: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each event within its user when sorted by ``key``, and per-user counts."""
    order = np.lexsort((np.arange(len(user)), key, user))
    counts = np.bincount(user, minlength=int(user.max()) + 1 if len(user) else 0)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(len(user), dtype=np.int64)
    position[order] = np.arange(len(user)) - starts[user[order]]
    return position, counts


def _split_by_position(
    inter: Interactions,
    position: np.ndarray,
    counts: np.ndarray,
    test: float | int,
    validation: float | int,
    from_end: bool,
) -> Split:
    """Hold out the first (or last) events of each user in ``position`` order."""
    pos = counts[inter.user] - 1 - position if from_end else position
    n_test = _per_user_counts(counts, test)
    n_val = _per_user_counts(counts - n_test, validation)
    cut_test = n_test[inter.user]
    is_test = pos < cut_test
    is_val = (pos >= cut_test) & (pos < cut_test + n_val[inter.user])
    return Split(inter.take(~(is_test | is_val)), inter.take(is_val), inter.take(is_test))


def holdout_split(
    inter: Interactions, test: float | int = 0.2, validation: float | int = 0.2, seed: int = 42
) -> Split:
    """Seeded per-user random holdout.

    Args:
        inter: All events.
        test: Fraction (0 < x < 1) or count (>= 1) of each user's events held out for test.
        validation: The same for validation, of each user's remaining events.
        seed: Seed of the shuffle.

    Returns:
        The split; identical for identical input and seed. A user with one event keeps it in
        train.
    """
    for name, value in [("test", test), ("validation", validation)]:
        is_count = isinstance(value, int | np.integer) and not isinstance(value, bool)
        if (is_count and value < 1) or (not is_count and not 0.0 <= value < 1.0):
            raise ConfigError(
                f"`0 <= split.{name} < 1` or a count >= 1 must hold, got {name}={value}"
            )
    key = np.random.default_rng(seed).random(len(inter))
    position, counts = _rank_within_user(inter.user, key)
    return _split_by_position(inter, position, counts, test, validation, from_end=False)


def leave_last_split(inter: Interactions, test: int = 1, validation: int = 1) -> Split:
    """Each user's last ``test`` events by time to test, the ``validation`` before to validation."""
    if inter.timestamp is None:
        raise DataError("split method leave_last needs timestamps; the data has none")
    position, counts = _rank_within_user(inter.user, inter.timestamp)
    return _split_by_position(inter, position, counts, test, validation, from_end=True)


def _cutoff(times: np.ndarray, fraction: float) -> int:
    """The time after which ``fraction`` of the events lie (ties stay before the cutoff)."""
    ordered = np.sort(times)
    keep = int(np.ceil((1.0 - fraction) * len(ordered)))
    return int(ordered[max(keep, 1) - 1])


def temporal_split(
    inter: Interactions,
    test: float = 0.2,
    validation: float = 0.2,
    test_cutoff: int | None = None,
    validation_cutoff: int | None = None,
) -> Split:
    """One global cutoff: events after it are test; validation is cut from the rest the same way.

    Every train event is no later than every validation event, and those no later than every
    test event.
    """
    if inter.timestamp is None:
        raise DataError("split method temporal needs timestamps; the data has none")
    t = inter.timestamp
    t_cut = _cutoff(t, test) if test_cutoff is None else int(test_cutoff)
    is_test = t > t_cut
    rest = t[~is_test]
    if not len(rest):
        raise DataError(f"temporal split: no event at or before the test cutoff {t_cut}")
    v_cut = _cutoff(rest, validation) if validation_cutoff is None else int(validation_cutoff)
    if v_cut > t_cut:
        raise ConfigError(
            f"[split] `validation_cutoff <= test_cutoff` must hold, got {v_cut} > {t_cut}"
        )
    is_val = ~is_test & (t > v_cut)
    return Split(inter.take(~(is_test | is_val)), inter.take(is_val), inter.take(is_test))


def partition(inter: Interactions, cfg: SplitConfig) -> Split:
    """The three parts a config's method gives, whatever they hold (possibly nothing)."""
    if cfg.method == "temporal":
        return temporal_split(
            inter, cfg.test, cfg.validation, cfg.test_cutoff, cfg.validation_cutoff
        )
    if cfg.method == "leave_last":
        return leave_last_split(inter, int(cfg.test), int(cfg.validation))
    return holdout_split(inter, cfg.test, cfg.validation, cfg.seed)


def make_split(inter: Interactions, cfg: SplitConfig) -> Split:
    """The split a config asks for, refused when it cannot be scored.

    Raises:
        DataError: fewer than 2 users or items, an empty validation or test part, or no
            held-out user with an event to fit on: every metric would be NaN, and the search
            would rank NaNs.
    """
    split = partition(inter, cfg)
    try:
        _refuse_degenerate(inter, split, cfg)
    except DataError as exc:
        raise DataError(f"{inter.source}: {exc}" if inter.source else str(exc)) from None
    return split


def _refuse_degenerate(inter: Interactions, split: Split, cfg: SplitConfig) -> None:
    for what, codes in (("user", inter.user), ("item", inter.item)):
        present = len(np.unique(codes))
        if present < 2:
            raise DataError(
                f"[split]: the data has {present} {what}{'' if present == 1 else 's'} after "
                f"cleaning; ranking needs at least 2 {what}s: check [data] path and "
                "min_user_interactions / min_item_interactions"
            )
    settings = _settings(cfg)
    for stage in ("validation", "test"):
        held_out, fit = split.truth(stage), split.fit_data(stage)  # type: ignore[arg-type]
        if not len(held_out):
            raise DataError(
                f"[split] {settings}: the {stage} part is empty ({_histories(inter)}); {_fix(cfg)}"
            )
        scored = np.intersect1d(np.unique(held_out.user), np.unique(fit.user))
        if not len(scored):
            raise DataError(
                f"[split] {settings}: no user with {stage} events has an event to fit on "
                f"({_histories(inter)}); {_fix(cfg)}"
            )


def _settings(cfg: SplitConfig) -> str:
    parts = [f"method = {cfg.method}", f"test = {cfg.test}", f"validation = {cfg.validation}"]
    for key in ("test_cutoff", "validation_cutoff"):
        if getattr(cfg, key) is not None:
            parts.append(f"{key} = {getattr(cfg, key)}")
    return ", ".join(parts)


def _histories(inter: Interactions) -> str:
    counts = np.bincount(inter.user, minlength=inter.n_users)
    counts = counts[counts > 0]
    if counts.min() == counts.max():
        return f"{len(inter):,} events; every user has {counts.min()}"
    return (
        f"{len(inter):,} events; users have {counts.min()} to {counts.max()}, "
        f"median {np.median(counts):g}"
    )


def _fix(cfg: SplitConfig) -> str:
    if cfg.method == "temporal":
        return "move [split] test_cutoff / validation_cutoff or change the fractions"
    return (
        "lower [split] test / validation below the users' event counts, or keep only users "
        "with more events ([data] min_user_interactions)"
    )


def check_list_length(inter: Interactions, k: int) -> None:
    """Lists of ``k`` items must leave a choice: refuse ``k`` at or above the catalogue size.

    Raises:
        ConfigError: ``k >= n_items``: every list would hold the whole catalogue (or more), and
            every ranking metric would only measure the order of everything.
    """
    if k >= inter.n_items:
        where = f"{inter.source}: " if inter.source else ""
        raise ConfigError(
            f"{where}[evaluation] k = {k}, but the data has only {inter.n_items} item"
            f"{'' if inter.n_items == 1 else 's'}: every list would hold the whole catalogue; "
            f"set [evaluation] k below {inter.n_items}"
        )
