"""Bootstrap intervals and paired comparisons on real ML-100k lists."""

import numpy as np
import pytest

from paretorec.errors import ConfigError
from paretorec.metrics.stats import bootstrap, compare, resample_rows

PER_USER = ["ndcg@10", "precision@10", "map@10", "ild_cooc@10", "arp@10", "miscalibration@10"]
SET_LEVEL = ["coverage@10", "gini@10"]


@pytest.fixture(scope="module")
def intervals(ml100k_ctx):
    return bootstrap(ml100k_ctx, PER_USER + SET_LEVEL + ["ms_per_user"], seed=11)


def test_same_seed_same_intervals(ml100k_ctx, intervals):
    again = bootstrap(ml100k_ctx, PER_USER + SET_LEVEL, seed=11)
    for name in PER_USER + SET_LEVEL:
        assert again[name] == intervals[name], name  # bit for bit
    # a generator seeded alike draws the same resamples; other metrics asked for change nothing
    alone = bootstrap(ml100k_ctx, ["ndcg@10"], seed=np.random.default_rng(11))
    assert alone["ndcg@10"] == intervals["ndcg@10"]
    different = bootstrap(ml100k_ctx, ["ndcg@10"], seed=12)["ndcg@10"]
    assert (different.low, different.high) != (intervals["ndcg@10"].low, intervals["ndcg@10"].high)


def test_intervals_contain_the_mean_and_are_narrow(ml100k_ctx, intervals):
    for name in PER_USER + SET_LEVEL:
        interval = intervals[name]
        assert interval.low < interval.mean < interval.high, name
        assert interval.level == 0.95 and interval.n_users == ml100k_ctx.truth.n_users
        # with ~900 users the 95% interval of a mean is a few percent of it
        assert (interval.high - interval.low) < 0.2 * abs(interval.mean), name
    assert np.isnan(intervals["ms_per_user"].low)  # one wall-clock number: no user spread


def test_per_user_intervals_are_the_percentiles_of_resampled_means(ml100k_ctx):
    values = ml100k_ctx.judged.hit[:, :10].sum(axis=1) / 10.0  # precision@10 per user
    rows = resample_rows(len(values), 200, seed=3)
    means = values[rows].mean(axis=1)
    expected = np.quantile(means, [0.025, 0.975])
    got = bootstrap(ml100k_ctx, ["precision@10"], n_resamples=200, seed=3)["precision@10"]
    assert (got.low, got.high) == pytest.approx(tuple(expected), abs=1e-12)


def test_a_configuration_is_not_different_from_itself(ml100k_ctx):
    result = compare(ml100k_ctx, ml100k_ctx, PER_USER + SET_LEVEL, seed=1, n_resamples=200)
    for name, c in result.items():
        assert c.diff == 0.0 and (c.low, c.high) == (0.0, 0.0), name
        assert c.p_value == 1.0 and not c.significant, name


def test_item_knn_beats_most_popular_on_ml100k(ml100k_ctx, ml100k_popular_ctx):
    result = compare(ml100k_popular_ctx, ml100k_ctx, PER_USER + SET_LEVEL, seed=1)
    ndcg = result["ndcg@10"]
    assert ndcg.test == "ttest_rel" and ndcg.n_users == ml100k_ctx.truth.n_users
    assert ndcg.diff == pytest.approx(ndcg.mean_b - ndcg.mean_a)
    assert ndcg.diff > 0 and ndcg.low > 0 and ndcg.p_value < 1e-6 and ndcg.significant
    coverage = result["coverage@10"]
    assert coverage.test == "bootstrap" and coverage.significant and coverage.low > 0
    assert coverage.low < coverage.diff < coverage.high
    assert result["arp@10"].diff < 0 and result["arp@10"].significant  # less popular items


def test_a_paired_comparison_needs_the_same_users(ml100k_ctx):
    with pytest.raises(ConfigError, match="same users"):
        compare(ml100k_ctx, ml100k_ctx.take(np.arange(10)), ["ndcg@10"])


@pytest.mark.parametrize(
    "kwargs,match", [({"level": 1.0}, "0 < level < 1"), ({"n_resamples": 0}, "n_resamples >= 1")]
)
def test_bad_bootstrap_settings_are_rejected(ml100k_ctx, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        bootstrap(ml100k_ctx, ["ndcg@10"], **kwargs)
