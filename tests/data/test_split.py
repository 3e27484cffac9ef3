import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paretorec.config import SplitConfig
from paretorec.data import holdout_split, make_split
from paretorec.data.interactions import Interactions
from paretorec.data.split import leave_last_split, partition, temporal_split
from paretorec.errors import ConfigError


def _pairs(inter):
    return set(zip(inter.user.tolist(), inter.item.tolist(), strict=True))


def test_split_partitions_every_interaction(ml100k, ml100k_split):
    s = ml100k_split
    assert len(s.train) + len(s.validation) + len(s.test) == len(ml100k.interactions)
    train, val, test = _pairs(s.train), _pairs(s.validation), _pairs(s.test)
    assert not train & test and not train & val and not val & test
    assert train | val | test == _pairs(ml100k.interactions)


def test_fractions_per_user(ml100k, ml100k_split):
    n = ml100k.interactions.user_counts()
    n_test = ml100k_split.test.user_counts()
    n_val = ml100k_split.validation.user_counts()
    assert np.all(n_test == np.floor(0.2 * n + 0.5))
    assert np.all(n_val == np.floor(0.2 * (n - n_test) + 0.5))
    assert ml100k_split.train.user_counts().min() >= 1


def test_stages_fit_on_the_right_data(ml100k_split):
    s = ml100k_split
    assert s.fit_data("validation") is s.train
    assert _pairs(s.fit_data("test")) == _pairs(s.train) | _pairs(s.validation)
    assert _pairs(s.truth("test")) == _pairs(s.test)
    # the search stage never sees a test interaction
    assert not _pairs(s.fit_data("validation")) & _pairs(s.test)
    assert not _pairs(s.truth("validation")) & _pairs(s.test)


def test_same_seed_same_split_other_seed_other_split(ml100k):
    a = holdout_split(ml100k.interactions, 0.2, 0.2, 7)
    b = holdout_split(ml100k.interactions, 0.2, 0.2, 7)
    c = holdout_split(ml100k.interactions, 0.2, 0.2, 8)
    assert _pairs(a.test) == _pairs(b.test)
    assert _pairs(a.test) != _pairs(c.test)


def test_single_event_users_stay_in_train(small):
    inter = small.interactions
    keep = np.ones(len(inter), bool)
    first_user_rows = np.flatnonzero(inter.user == 0)
    keep[first_user_rows[1:]] = False
    s = holdout_split(inter.take(keep), 0.5, 0.5, 0)
    assert 0 in s.train.user and 0 not in s.test.user and 0 not in s.validation.user


@pytest.mark.parametrize("test,val", [(1.0, 0.2), (-0.1, 0.2), (0.2, 1.5)])
def test_bad_fractions_are_config_errors(small, test, val):
    with pytest.raises(ConfigError, match="must hold"):
        holdout_split(small.interactions, test, val, 0)


def test_holdout_counts_per_user(ml100k):
    s = holdout_split(ml100k.interactions, 3, 2, 1)
    assert np.all(s.test.user_counts() == 3) and np.all(s.validation.user_counts() == 2)


def test_temporal_split_never_trains_on_the_future(ml100k):
    s = temporal_split(ml100k.interactions, 0.2, 0.1)
    assert s.train.timestamp.max() <= s.validation.timestamp.min()
    assert s.validation.timestamp.max() <= s.test.timestamp.min()
    assert s.train.timestamp.max() < s.test.timestamp.min()
    assert abs(len(s.test) / len(ml100k.interactions) - 0.2) < 0.01
    # explicit cutoffs
    t = int(np.median(ml100k.interactions.timestamp))
    s2 = temporal_split(ml100k.interactions, test_cutoff=t, validation_cutoff=t - 86400)
    assert s2.test.timestamp.min() > t >= s2.validation.timestamp.max()


def test_leave_last_holds_out_each_users_latest_events(ml100k):
    s = leave_last_split(ml100k.interactions, 2, 1)
    assert np.all(s.test.user_counts() == 2) and np.all(s.validation.user_counts() == 1)
    last_train = np.full(ml100k.n_users, -1)
    np.maximum.at(last_train, s.train.user, s.train.timestamp)
    first_test = np.full(ml100k.n_users, np.iinfo(np.int64).max)
    np.minimum.at(first_test, s.test.user, s.test.timestamp)
    assert np.all(last_train <= first_test)  # per user: nothing in train after the test events


def test_temporal_methods_need_timestamps(small):
    inter = small.interactions
    bare = Interactions(inter.user, inter.item, inter.rating, None, inter.n_users, inter.n_items)
    for cfg in (
        SplitConfig(method="temporal"),
        SplitConfig(method="leave_last", test=1, validation=1),
    ):
        with pytest.raises(Exception, match="needs timestamps"):
            make_split(bare, cfg)


@st.composite
def _interactions(draw):
    n_users = draw(st.integers(1, 8))
    n_items = draw(st.integers(2, 12))
    pairs = draw(
        st.sets(
            st.tuples(st.integers(0, n_users - 1), st.integers(0, n_items - 1)),
            min_size=1,
            max_size=60,
        )
    )
    pairs = sorted(pairs)
    times = draw(st.lists(st.integers(0, 50), min_size=len(pairs), max_size=len(pairs)))
    user = np.array([p[0] for p in pairs], dtype=np.int32)
    item = np.array([p[1] for p in pairs], dtype=np.int32)
    return Interactions(user, item, None, np.array(times, dtype=np.int64), n_users, n_items)


@settings(max_examples=80, deadline=None)
@given(_interactions(), st.sampled_from(["holdout", "temporal", "leave_last"]))
def test_every_split_partitions_without_leakage(inter, method):
    amount = 1 if method == "leave_last" else 0.3
    s = partition(inter, SplitConfig(method=method, test=amount, validation=amount, seed=3))
    parts = [_pairs(s.train), _pairs(s.validation), _pairs(s.test)]
    assert sum(map(len, parts)) == len(inter)
    assert set().union(*parts) == _pairs(inter)
    if method == "temporal" and len(s.test) and len(s.train):
        assert s.train.timestamp.max() < s.test.timestamp.min()
    if method != "temporal":  # per-user methods keep at least one training event per user
        assert set(np.unique(s.train.user)) == set(np.unique(inter.user))
