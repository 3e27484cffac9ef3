"""Time windows of a replay: events cut into N consecutive windows by timestamp, and the check
that every boundary has users to score (history before it, events after it)."""

from __future__ import annotations

import numpy as np

from paretorec.data.interactions import Dataset, Interactions
from paretorec.errors import ConfigError, DataError

# Users a boundary must be able to score: a mean (and its bootstrap interval) over fewer says
# little. Users with history before the boundary and events in the next window.
MIN_USERS = 10


def cut(timestamps: np.ndarray, n: int) -> np.ndarray:
    """``(n_events,)`` window index (0..n-1) of each event: n windows of about equal event
    counts, cut at timestamps, so events of the same second stay in one window.

    Args:
        timestamps: ``(n_events,)`` event times.
        n: Number of windows, ``n >= 2``.
    """
    ordered = np.sort(timestamps, kind="stable")
    starts = ordered[np.arange(n) * len(ordered) // n]  # each window's first timestamp
    return (np.searchsorted(starts, timestamps, side="right") - 1).astype(np.int64)


def boundary_users(inter: Interactions, window: np.ndarray, n: int) -> list[int]:
    """For each boundary b = 1..n-1: users with events in windows < b and in window b."""
    first = np.full(inter.n_users, n, dtype=np.int64)
    np.minimum.at(first, inter.user, window)
    out = []
    for b in range(1, n):
        present = np.zeros(inter.n_users, dtype=bool)
        present[inter.user[window == b]] = True
        out.append(int((present & (first < b)).sum()))
    return out


def windows_for(dataset: Dataset, n: int, min_users: int = MIN_USERS) -> np.ndarray:
    """The window of each event of ``dataset``, after checking that time can be replayed.

    Raises:
        DataError: the events have no timestamps, or a boundary has fewer than ``min_users``
            users with both history and future events (naming the most windows that work).
    """
    inter = dataset.interactions
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ConfigError(f"--windows: `N >= 2` (an integer) must hold, got {n!r}")
    if inter.timestamp is None:
        raise DataError(
            f"{inter.source or dataset.name}: the events have no timestamps; a replay cuts them "
            "into windows by time, so use data with a timestamp column"
        )
    window = cut(inter.timestamp, n)
    users = boundary_users(inter, window, n)
    if min(users) >= min_users:
        return window
    b = int(np.argmin(users))
    works = [m for m in range(n - 1, 1, -1) if _works(inter, m, min_users)]
    fix = (
        f"at most {works[0]} windows work (--windows {works[0]})"
        if works
        else "not even 2 windows work: too few users come back over time"
    )
    raise DataError(
        f"--windows {n}: window {b + 2} has {users[b]} users with events in it and history "
        f"before it, {min_users} are needed to score it; {fix}"
    )


def _works(inter: Interactions, n: int, min_users: int) -> bool:
    return min(boundary_users(inter, cut(inter.timestamp, n), n)) >= min_users  # type: ignore[arg-type]
