"""Every metric on tiny cases computed by hand."""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from paretorec.data.features import ItemSimilarity
from paretorec.errors import DataWarning
from paretorec.metrics import ListContext, Reference, Truth, beyond, parse_metric, ranking, rating


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
    hit = TRUTH.judge(LISTS).hit  # [[T, F, T], [F, F, T]]; R = [2, 1]
    R = TRUTH.n_relevant
    assert ranking.precision(hit, R, 3).tolist() == pytest.approx([2 / 3, 1 / 3])
    assert ranking.recall(hit, R, 3).tolist() == pytest.approx([1.0, 1.0])
    assert ranking.hit_rate(hit, R, 2).tolist() == [1.0, 0.0]
    ndcg0 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    ndcg1 = (1 / math.log2(4)) / 1.0
    assert ranking.ndcg(hit, R, 3).tolist() == pytest.approx([ndcg0, ndcg1])
    # f1 = 2h / (k + R): user 0 2*2/(3+2); user 1 2*1/(3+1)
    assert ranking.f1(hit, R, 3).tolist() == pytest.approx([4 / 5, 1 / 2])
    # AP@3: user 0 hits at ranks 1 and 3: (P@1 + P@3) / R = (1 + 2/3) / 2; user 1: (1/3) / 1
    assert ranking.average_precision(hit, R, 3).tolist() == pytest.approx([5 / 6, 1 / 3])
    # AP@1 divides by R = 2, not min(k, R) = 1 (ranx, trec_eval)
    assert ranking.average_precision(hit, R, 1).tolist() == pytest.approx([1 / 2, 0.0])
    assert ranking.reciprocal_rank(hit, R, 3).tolist() == pytest.approx([1.0, 1 / 3])
    assert ranking.reciprocal_rank(hit, R, 2).tolist() == pytest.approx([1.0, 0.0])


def test_a_cut_off_beyond_the_list_counts_missing_slots_as_misses():
    hit = TRUTH.judge(LISTS).hit
    R = TRUTH.n_relevant
    assert ranking.precision(hit, R, 5).tolist() == pytest.approx([2 / 5, 1 / 5])
    assert ranking.f1(hit, R, 5).tolist() == pytest.approx([4 / 7, 2 / 6])
    assert ranking.ndcg(hit, R, 5).tolist() == pytest.approx(ranking.ndcg(hit, R, 3).tolist())


def test_users_without_held_out_items_are_nan_and_warned_about_once():
    truth = _truth([{1: 5.0}, {}])
    ctx = _context(truth, np.array([[1, 2], [0, 2]]))
    with pytest.warns(DataWarning, match="1 of 2 users have no held-out items"):
        value, n = parse_metric("precision@2").compute(ctx)
    assert (value, n) == (0.5, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per truth, its takes included
        for name in ("recall@2", "f1@2", "ndcg@2", "map@2", "mrr@2", "hit@2", "serendipity@2"):
            assert np.isnan(parse_metric(name).metric.fn(ctx, 2)[1]), name
        assert parse_metric("ndcg@2").compute(ctx.take(np.array([1, 1, 0])))[1] == 1


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


# A stage by hand. Training users (rows of X) and their items:
#   u0 {0}   u1 {1, 2}   u2 {0, 1}   u3 {0, 2, 3}
# popularity |U_i| = [3, 2, 2, 1, 0, 0]; by popularity, ties by code: 0, 1, 2, 3, 4, 5.
# Genres (2): item 0 A, 1 B, 2 A+B, 3 A, 4 B, 5 none.
TRAIN = sp.csr_matrix(
    ([1.0] * 8, ([0, 1, 1, 2, 2, 3, 3, 3], [0, 1, 2, 0, 1, 0, 2, 3])), shape=(4, 6)
)
GENRES = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 1], [1, 0], [0, 1], [0, 0]], dtype=float))
STAGE_TRUTH = _truth([{1: 5.0, 4: 4.0}, {0: 5.0, 5: 3.0}])  # users u0 and u1 held out
STAGE_LISTS = np.array([[1, 4, 5], [3, 0, -1]])


def _stage(lists=STAGE_LISTS, truth=STAGE_TRUTH, features=GENRES) -> ListContext:
    reference = Reference(TRAIN, np.array([0, 1]), SIM, features)
    return ListContext(lists, truth, reference, np.zeros(len(lists)), 0.0)


def _values(name: str, ctx: ListContext | None = None) -> list[float]:
    ref = parse_metric(name)
    return np.asarray(ref.metric.fn(ctx or _stage(), ref.k)).tolist()


def test_popularity_baseline_by_hand():
    ref = _stage().reference
    # u0 has seen {0}: the most popular others are 1, 2, 3; u1 has seen {1, 2}: 0, 3, 4
    assert ref.popular_unseen(3).tolist() == [[1, 2, 3], [0, 3, 4]]
    # the catalogue runs out: -1 pads
    assert ref.popular_unseen(6).tolist() == [[1, 2, 3, 4, 5, -1], [0, 3, 4, 5, -1, -1]]
    # row-aligned: a take takes the cached rows
    assert ref.take(np.array([1, 1])).popular_unseen(3).tolist() == [[0, 3, 4], [0, 3, 4]]


def test_serendipity_by_hand():
    # @2: u0 [1, 4] vs baseline [1, 2]: 1 is held out but obvious, 4 held out and unexpected
    #     -> 1/2; u1 [3, 0] vs baseline [0, 3]: 0 is held out but obvious -> 0
    assert _values("serendipity@2") == pytest.approx([1 / 2, 0.0])
    # @3: u0 [1, 4, 5] vs [1, 2, 3]: only 4 -> 1/3; u1 [3, 0, -1]: nothing, the pad never counts
    assert _values("serendipity@3") == pytest.approx([1 / 3, 0.0])


def test_arp_by_hand():
    # u0 [1, 4, 5]: (2 + 0 + 0) / 3; u1 [3, 0, -1]: (1 + 3) / 2, the pad is not an item
    assert _values("arp@3") == pytest.approx([2 / 3, 2.0])


def test_aplt_by_hand():
    # popularity [3, 2, 2, 1, 0, 0], 8 interactions: 80% is 6.4; 3 + 2 = 5 < 6.4 <= 3 + 2 + 2,
    # so the short head is {0, 1, 2} and the long tail {3, 4, 5}
    assert _stage().reference.long_tail.tolist() == [False, False, False, True, True, True]
    # u0 [1, 4, 5]: 2 of 3 in the tail; u1 [3, 0, -1]: 1 of 2
    assert _values("aplt@3") == pytest.approx([2 / 3, 1 / 2])


def test_gini_by_hand():
    # exposure of items 0..5 in the top 3: [1, 1, 0, 1, 1, 1], sorted [0, 1, 1, 1, 1, 1], m = 6
    # sum (2j - m - 1) c_j = (-5, -3, -1, 1, 3, 5) . (0, 1, 1, 1, 1, 1) = 5
    # G = 5 / ((m - 1) * total) = 5 / (5 * 5) = 0.2
    assert parse_metric("gini@3").compute(_stage()) == (pytest.approx(0.2), 2)
    one_item = _stage(lists=np.array([[2, -1, -1], [2, -1, -1]]))
    assert parse_metric("gini@3").compute(one_item)[0] == pytest.approx(1.0)
    even = _stage(lists=np.array([[0, 1, 2], [3, 4, 5]]))
    assert parse_metric("gini@3").compute(even)[0] == pytest.approx(0.0)
    assert np.isnan(parse_metric("gini@3").compute(_stage(lists=np.full((2, 3), -1)))[0])


def test_ild_cooc_by_hand():
    # training users: U_0 = {u0, u2, u3}, U_1 = {u1, u2}, U_2 = {u1, u3}, U_3 = {u3}, U_4 = {}
    # [0, 1, 2]: cos(0,1) = 1/sqrt(3*2), cos(0,2) = 1/sqrt(3*2), cos(1,2) = 1/sqrt(2*2)
    # [0, 3, -1]: one pair, cos(0,3) = 1/sqrt(3*1)
    # [4, 0, 1]: item 4 has no training user: cos 0 with both; cos(0,1) = 1/sqrt(6)
    # [2, -1, -1]: no pair
    lists = np.array([[0, 1, 2], [0, 3, -1], [4, 0, 1], [2, -1, -1]])
    bits = _stage().reference.user_bits
    got = beyond.ild_cooc(lists, bits, 3)
    expected = [
        1 - (2 / math.sqrt(6) + 1 / 2) / 3,
        1 - 1 / math.sqrt(3),
        1 - (1 / math.sqrt(6)) / 3,
    ]
    assert got[:3].tolist() == pytest.approx(expected)
    assert np.isnan(got[3])


def test_ild_cooc_matches_dense_cosine_on_wide_bitsets():
    # more than 64 training users, so an item's users span several 64-bit words
    rng = np.random.default_rng(5)
    X = sp.csr_matrix((rng.random((150, 12)) < 0.3).astype(float))
    dense = X.toarray()
    norms = np.sqrt(dense.sum(axis=0))
    cos = (dense.T @ dense) / np.maximum(np.outer(norms, norms), 1e-300)
    lists = np.array([rng.permutation(12)[:5] for _ in range(20)])
    got = beyond.ild_cooc(lists, beyond.user_bits(X.T.tocsr()), 5)
    first, second = np.triu_indices(5, 1)
    expected = 1 - cos[lists[:, first], lists[:, second]].mean(axis=1)
    assert got.tolist() == pytest.approx(expected.tolist(), abs=1e-12)


def test_miscalibration_by_hand():
    a = 0.01
    # genre weights per item: 0 (1, 0), 1 (0, 1), 2 (.5, .5), 3 (1, 0), 4 (0, 1), 5 none
    # p(u0) from history {0} = (1, 0); p(u1) from {1, 2} = (.5, 1.5) / 2 = (.25, .75)
    # u0 [1, 4, 5]: q = (0, 1); q~ = .99 q + .01 p = (.01, .99); KL = 1 log(1 / .01)
    # u1 [3, 0, -1]: q = (1, 0); q~ = (.99 + .0025, .0075) = (.9925, .0075)
    #     KL = .25 log(.25 / .9925) + .75 log(.75 / .0075)
    u1 = 0.25 * math.log(0.25 / (0.99 + a * 0.25)) + 0.75 * math.log(0.75 / (a * 0.75))
    assert _values("miscalibration@3") == pytest.approx([math.log(1 / a), u1])
    # u0 [0, 2]: q = (1.5, .5) / 2 = (.75, .25); q~ = (.99 * .75 + .01, .99 * .25)
    ctx = _stage(lists=np.array([[0, 2, -1], [1, 2, -1]]))
    # u1 [1, 2]: q = (.5, 1.5) / 2 = p, so q~ = p and KL = 0
    assert _values("miscalibration@3", ctx) == pytest.approx(
        [math.log(1 / (0.99 * 0.75 + a)), 0.0], abs=1e-12
    )
    assert parse_metric("miscalibration@3").metric.worst == pytest.approx(math.log(1 / a))


def test_miscalibration_equals_its_dense_definition_on_random_lists():
    from paretorec.data.features import normalise_rows
    from paretorec.metrics.calibration import miscalibration

    def dense(lists, weights, profile, k, alpha=0.01):  # the formula, over every genre
        top = lists[:, :k]
        valid = top >= 0
        mass = np.where(valid[:, :, None], weights[np.where(valid, top, 0)], 0.0).sum(axis=1)
        q = np.nan_to_num(normalise_rows(mass))
        smooth = (1 - alpha) * q + alpha * profile
        with np.errstate(invalid="ignore", divide="ignore"):
            terms = np.where(profile > 0, profile * np.log(profile / smooth), 0.0)
        return np.where(np.isnan(profile).any(axis=1), np.nan, terms.sum(axis=1))

    rng = np.random.default_rng(7)
    for _ in range(50):
        flags = (rng.random((40, 6)) < 0.3).astype(float)  # some items without genres
        total = flags.sum(axis=1, keepdims=True)
        weights = np.divide(flags, total, out=np.zeros_like(flags), where=total > 0)
        profile = normalise_rows(rng.random((25, 6)) * (rng.random((25, 6)) < 0.5))
        lists = rng.integers(-1, 40, (25, 8))
        k = int(rng.integers(1, 9))
        got, want = miscalibration(lists, weights, profile, k), dense(lists, weights, profile, k)
        assert np.array_equal(np.isnan(got), np.isnan(want))
        assert np.allclose(got, np.maximum(want, 0.0), rtol=0, atol=1e-12, equal_nan=True)


def test_miscalibration_leaves_out_users_without_genre_history():
    # training user u0 only has item 5, which has no genre; u1 has item 1: p = (0, 1), and
    # the list [3, 0] is all genre A: q~ = (.99, .01), KL = log(1 / .01)
    train = sp.csr_matrix(([1.0, 1.0], ([0, 1], [5, 1])), shape=(2, 6))
    reference = Reference(train, np.array([0, 1]), SIM, GENRES)
    ctx = ListContext(STAGE_LISTS, STAGE_TRUTH, reference, np.zeros(2), 0.0)
    with pytest.warns(DataWarning, match="no genre in their training history"):
        value, n = parse_metric("miscalibration@3").compute(ctx)
    assert n == 1 and value == pytest.approx(math.log(100.0))
    no_genres = ListContext(
        STAGE_LISTS, STAGE_TRUTH, Reference(TRAIN, np.array([0, 1]), SIM), np.zeros(2), 0.0
    )
    with pytest.warns(DataWarning, match="needs item genres"):
        assert parse_metric("miscalibration@3").compute(no_genres)[1] == 0


def test_short_head_holds_80_percent_of_interactions():
    from paretorec.data.popularity import long_tail_mask

    # 50 + 30 = 80 of 100 interactions: the first two items are the short head
    assert long_tail_mask(np.array([50, 30, 10, 5, 5])).tolist() == [False, False, True, True, True]
    # ties with the last head item join the head
    assert long_tail_mask(np.array([10, 70, 10, 10])).tolist() == [False, False, False, False]
    assert long_tail_mask(np.array([0, 0])).tolist() == [True, True]
