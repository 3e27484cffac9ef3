"""Cutting events into time windows, and the refusals of data that cannot be replayed."""

import numpy as np
import pytest

from paretorec.data.interactions import Dataset, Interactions
from paretorec.dynamic.windows import boundary_users, cut, windows_for
from paretorec.errors import DataError


def _dataset(user, timestamp, n_users=None):
    user = np.asarray(user, dtype=np.int32)
    inter = Interactions(
        user=user,
        item=np.arange(len(user), dtype=np.int32) % 3,
        rating=None,
        timestamp=None if timestamp is None else np.asarray(timestamp, dtype=np.int64),
        n_users=n_users or int(user.max()) + 1,
        n_items=3,
    )
    ids = np.arange(inter.n_users)
    return Dataset("toy", inter, ids, np.arange(3), None, None, "sha256:x")


def test_windows_have_equal_counts_and_follow_time():
    ts = np.array([7, 1, 5, 3, 2, 8, 4, 6])
    # sorted 1..8, starts at positions 0 and 4 -> [1, 5): window 0, [5, ...): window 1
    assert cut(ts, 2).tolist() == [1, 0, 1, 0, 0, 1, 0, 1]
    assert cut(ts, 4).tolist() == [3, 0, 2, 1, 0, 3, 1, 2]


def test_events_of_the_same_second_stay_in_one_window():
    ts = np.array([1, 2, 2, 2, 3, 4])
    # starts: positions 0 and 3 hold times 1 and 2; every time-2 event joins window 1
    assert cut(ts, 2).tolist() == [0, 1, 1, 1, 1, 1]


def test_boundary_users_have_history_before_and_events_after():
    ds = _dataset([0, 1, 0, 2, 1, 2], [1, 2, 3, 4, 5, 6])
    window = cut(ds.interactions.timestamp, 3)  # [0, 0, 1, 1, 2, 2]
    # boundary 1 scores window 1: users 0 (history) and 2 (none) -> 1;
    # boundary 2 scores window 2: users 1 (history in window 0) and 2 (in window 1) -> 2
    assert boundary_users(ds.interactions, window, 3) == [1, 2]


def test_data_without_timestamps_is_refused():
    with pytest.raises(DataError, match="no timestamps"):
        windows_for(_dataset([0, 1], None), 2)


def test_too_many_windows_name_the_most_that_work():
    # 12 users, each with one event at t=0 and one at t=10: two windows work, three would
    # leave window 1 empty
    user = np.repeat(np.arange(12), 2)
    ts = np.tile([0, 10], 12)
    ds = _dataset(user, ts)
    assert windows_for(ds, 2, min_users=10).tolist() == cut(ts, 2).tolist()
    with pytest.raises(DataError, match=r"--windows 3: .* at most 2 windows work"):
        windows_for(ds, 3, min_users=10)


def test_no_number_of_windows_works_says_so():
    ds = _dataset(np.repeat(np.arange(5), 2), np.tile([0, 10], 5))
    with pytest.raises(DataError, match="not even 2 windows work"):
        windows_for(ds, 2, min_users=10)
