"""Cold / medium / heavy users: sizes, tie handling, and per-segment means."""

import numpy as np
import pytest

from paretorec.errors import ConfigError
from paretorec.metrics import parse_metric
from paretorec.metrics.segments import activity_boundaries, segment_metrics, segment_rows

NAMES = ["ndcg@10", "map@10", "serendipity@10", "miscalibration@10", "coverage@10", "gini@10"]


def test_tercile_boundaries_by_hand():
    # sorted activity 1 1 1 2 3 3 5 8 8: a third of the users have <= 1, two thirds <= 3
    activity = np.array([3, 1, 8, 1, 2, 5, 1, 3, 8])
    assert activity_boundaries(activity) == (1, 3)
    rows = segment_rows(activity)
    assert {k: v.tolist() for k, v in rows.items()} == {
        "cold": [1, 3, 6],
        "medium": [0, 4, 7],
        "heavy": [2, 5, 8],
    }


def test_tied_users_share_a_segment_even_if_one_stays_empty():
    # four of six users have 2 items: both terciles are 2, so medium is empty
    activity = np.array([2, 9, 2, 2, 5, 2])
    rows = segment_rows(activity)
    assert [len(rows[s]) for s in ("cold", "medium", "heavy")] == [4, 0, 2]


def test_explicit_boundaries_are_validated():
    activity = np.array([1, 5, 20])
    assert [len(v) for v in segment_rows(activity, (4, 10)).values()] == [1, 1, 1]
    with pytest.raises(ConfigError, match="0 <= low <= high"):
        segment_rows(activity, (10, 4))


def test_segments_cover_every_user_and_match_a_direct_computation(ml100k_ctx):
    report = segment_metrics(ml100k_ctx, NAMES)
    activity = ml100k_ctx.reference.history_length
    assert sum(report.sizes().values()) == ml100k_ctx.truth.n_users
    everyone = np.sort(np.concatenate(list(report.rows.values())))
    assert np.array_equal(everyone, np.arange(ml100k_ctx.truth.n_users))
    low, high = report.boundaries
    assert activity[report.rows["cold"]].max() <= low < activity[report.rows["medium"]].min()
    assert activity[report.rows["medium"]].max() <= high < activity[report.rows["heavy"]].min()
    for segment, rows in report.rows.items():
        mask = np.zeros(ml100k_ctx.truth.n_users, bool)
        mask[rows] = True
        for name in NAMES:
            ref = parse_metric(name)
            full = ref.metric.fn(ml100k_ctx, ref.k)
            if np.ndim(full) == 0:  # set-level: recomputed on the segment's lists alone
                sub = ref.metric.fn(ml100k_ctx.take(rows), ref.k)
                expected = (sub, len(rows))
                if name == "coverage@10":
                    lists = ml100k_ctx.lists[rows]
                    distinct = len(np.unique(lists[lists >= 0]))
                    assert sub == pytest.approx(distinct / ml100k_ctx.n_items)
            else:  # per-user: the segment's slice of everyone's values
                present = full[mask][~np.isnan(full[mask])]
                expected = (present.mean(), present.size)
            got = report.values[segment][name]
            assert got[0] == pytest.approx(expected[0], abs=1e-12) and got[1] == expected[1]


def test_heavy_users_get_more_accurate_lists(ml100k_ctx):
    """A sanity check on real data: more history, better item k-NN recommendations."""
    report = segment_metrics(ml100k_ctx, ["ndcg@10"])
    assert report.values["heavy"]["ndcg@10"][0] > report.values["cold"]["ndcg@10"][0]
