import numpy as np
import pytest

from paretorec.data import holdout_split
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
