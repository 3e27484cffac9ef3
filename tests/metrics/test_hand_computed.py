"""Every metric on tiny cases computed by hand."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from paretorec.metrics import ListContext, Reference, Truth, beyond, parse_metric, ranking, rating
from paretorec.rerank import ItemSimilarity


def _truth(rows: list[dict[int, float]], n_items: int = 6, scale=(1.0, 5.0)) -> Truth:
    data, idx, ptr = [], [], [0]
    for row in rows:
        for item, r in sorted(row.items()):
            idx.append(item)
            data.append(r)
        ptr.append(len(idx))
    m = sp.csr_matrix((data, idx, ptr), shape=(len(rows), n_items))
    return Truth(users=np.arange(len(rows)), matrix=m, rating_scale=scale)


# user 0 held out {1: 5 stars, 3: 1 star}; user 1 held out {0: 4 stars}
TRUTH = _truth([{1: 5.0, 3: 1.0}, {0: 4.0}])
LISTS = np.array([[1, 2, 3], [5, 4, 0]])


def test_judging_looks_up_hits_and_ratings():
    judged = TRUTH.judge(LISTS)
    assert judged.hit.tolist() == [[True, False, True], [False, False, True]]
    assert np.isnan(judged.rating[0, 1]) and judged.rating[0, 2] == 1.0
    sparse_path = Truth(TRUTH.users, TRUTH.matrix, TRUTH.rating_scale)
    object.__setattr__(sparse_path, "_dense", None)  # force the sorted-key search
    again = sparse_path.judge(LISTS)
    assert np.array_equal(again.hit, judged.hit)


def test_accuracy_by_hand():
    hit = TRUTH.judge(LISTS).hit
    assert ranking.precision(hit, 3).tolist() == pytest.approx([2 / 3, 1 / 3])
    assert ranking.recall(hit, TRUTH.n_relevant, 3).tolist() == pytest.approx([1.0, 1.0])
    assert ranking.hit_rate(hit, 2).tolist() == [1.0, 0.0]
    ndcg0 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    ndcg1 = (1 / math.log2(4)) / 1.0
    assert ranking.ndcg(hit, TRUTH.n_relevant, 3).tolist() == pytest.approx([ndcg0, ndcg1])


def test_satisfaction_by_hand():
    judged = TRUTH.judge(LISTS)
    gain = TRUTH.gain(judged.rating)  # 5 -> +1, 1 -> -1, 4 -> +0.5
    ideal = TRUTH.ideal_positive_dcg(3)  # user 0: only the 5-star item; user 1: the 4-star
    assert ideal.tolist() == pytest.approx([1.0, 0.5])
    got = rating.satisfaction(gain, ideal, 3)
    assert got.tolist() == pytest.approx([(1 - 1 / math.log2(4)) / 1.0, (0.5 / math.log2(4)) / 0.5])


def test_satisfaction_leaves_out_users_with_nothing_liked():
    truth = _truth([{1: 2.0}, {0: 5.0}])
    ctx = _context(truth, np.array([[1, 2], [0, 2]]))
    value, n = parse_metric("satisfaction@2").compute(ctx)
    assert n == 1 and value == pytest.approx(1.0)


def test_implicit_truth_counts_every_held_out_item_as_liked():
    truth = _truth([{1: 1.0}], scale=None)
    gain = truth.gain(truth.judge(np.array([[1, 0]])).rating)
    assert gain[0, 0] == 1.0 and np.isnan(gain[0, 1])


SIM = ItemSimilarity.cosine(np.array([[1, 0], [1, 0], [0, 1], [1, 1], [0, 0], [1, 0]], dtype=float))


def test_intra_list_diversity_by_hand():
    # pairs of [0, 1, 2]: sim(0,1)=1, sim(0,2)=0, sim(1,2)=0 -> mean dissimilarity 2/3
    # pairs of [0, 3, -1]: only (0,3): cos = 1/sqrt(2)
    got = beyond.ild(np.array([[0, 1, 2], [0, 3, -1]]), SIM, 3)
    assert got.tolist() == pytest.approx([2 / 3, 1 - 1 / math.sqrt(2)], abs=1e-6)
    assert np.isnan(beyond.ild(np.array([[2, -1, -1]]), SIM, 3)[0])


def test_novelty_by_hand():
    info = beyond.self_information(np.array([3, 0, 1]), n_users=3)
    assert info.tolist() == pytest.approx([0.0, 2.0, 1.0])
    assert beyond.novelty(np.array([[0, 1], [2, -1]]), info, 2).tolist() == pytest.approx(
        [1.0, 1.0]
    )


def test_coverage_by_hand():
    assert beyond.coverage(np.array([[0, 1, 2], [1, 2, 5]]), 10, 2) == pytest.approx(3 / 10)


def _context(truth, lists, ops=None):
    n_items = truth.matrix.shape[1]
    X = sp.csr_matrix((truth.n_users, n_items))
    return ListContext(
        lists=lists,
        truth=truth,
        reference=Reference(X, truth.users, SIM),
        ops=np.zeros(len(lists)) if ops is None else ops,
        ms_per_user=0.5,
    )


def test_cost_is_the_mean_operation_count():
    ctx = _context(TRUTH, LISTS, ops=np.array([100.0, 300.0]))
    assert parse_metric("cost").compute(ctx) == (200.0, 2)
    assert parse_metric("ms_per_user").compute(ctx)[0] == 0.5


@pytest.mark.parametrize(
    "name,match",
    [
        ("ndcg", "needs a cut-off"),
        ("cost@10", "takes no cut-off"),
        ("dcg@10", "unknown metric"),
        ("ndcg@x", "not of the form"),
    ],
)
def test_metric_names_are_validated(name, match):
    with pytest.raises(Exception, match=match):
        parse_metric(name)
