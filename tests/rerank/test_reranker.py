import numpy as np
import pytest

from paretorec.errors import ConfigError
from paretorec.rerank import CandidatePool, ItemSimilarity, RerankWeights
from paretorec.rerank import rerank as rerank_pool


def rerank(items, scores, w, k, novelty, sim):
    out = rerank_pool(CandidatePool.build(items, scores, novelty, sim), w, k, sim)
    return out.items, out.values


def _reference(items, scores, w, k, novelty, sim_full):
    """Plain per-user greedy MMR, written from the definition."""
    out = np.full((len(items), k), -1)
    for u in range(len(items)):
        cand = [i for i in items[u, : w.pool] if i >= 0]
        rel = np.array([scores[u, j] for j in range(len(cand))])
        span = rel.max() - rel.min() if len(rel) and rel.max() > rel.min() else 1.0
        value = (rel - (rel.min() if len(rel) else 0)) / span + w.novelty * novelty[cand]
        picked = []
        for _ in range(min(k, len(cand))):
            best, best_m = None, -np.inf
            for j, item in enumerate(cand):
                if j in picked:
                    continue
                red = max((sim_full[item, cand[p]] for p in picked), default=0.0)
                m = value[j] - w.diversity * red
                if m > best_m + 1e-9:
                    best, best_m = j, m
            picked.append(best)
        out[u, : len(picked)] = [cand[p] for p in picked]
    return out


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(4)
    n_items, n_users, c = 60, 40, 25
    features = (rng.random((n_items, 6)) < 0.3).astype(float)
    sim = ItemSimilarity.cosine(features)
    full = sim.table[sim.profile[:, None], sim.profile[None, :]].astype(np.float64)
    items = np.array([rng.permutation(n_items)[:c] for _ in range(n_users)], dtype=np.int32)
    scores = -np.sort(-rng.random((n_users, c)), axis=1)
    items[0, 20:] = -1  # a user with few candidates
    scores[0, 20:] = -np.inf
    novelty = rng.random(n_items)
    return items, scores, sim, full, novelty


@pytest.mark.parametrize("diversity,novelty", [(0.0, 0.0), (0.0, 0.7), (0.4, 0.0), (1.5, 0.3)])
def test_rerank_equals_the_per_user_definition(setup, diversity, novelty):
    items, scores, sim, full, nov = setup
    w = RerankWeights(pool=22, diversity=diversity, novelty=novelty)
    lists, _ = rerank(items, scores, w, 10, nov, sim)
    assert np.array_equal(lists, _reference(items, scores, w, 10, nov, full))


def test_no_weights_keeps_the_model_order(setup):
    items, scores, sim, _, nov = setup
    lists, _ = rerank(items, scores, RerankWeights(pool=25), 10, nov, sim)
    assert np.array_equal(lists[1:], items[1:, :10])


def test_diversity_raises_intra_list_dissimilarity(setup):
    items, scores, sim, full, nov = setup

    def mean_sim(lists):
        return np.mean([full[np.ix_(r, r)][np.triu_indices(10, 1)].mean() for r in lists[1:]])

    plain, _ = rerank(items, scores, RerankWeights(pool=25), 10, nov, sim)
    diverse, _ = rerank(items, scores, RerankWeights(pool=25, diversity=1.0), 10, nov, sim)
    assert mean_sim(diverse) < mean_sim(plain)


def test_short_pools_pad_with_minus_one(setup):
    items, scores, sim, _, nov = setup
    lists, values = rerank(items, scores, RerankWeights(pool=25, diversity=0.5), 22, nov, sim)
    assert np.all(lists[0, 20:] == -1) and np.all(lists[0, :20] >= 0)
    assert np.all(np.isneginf(values[0, 20:]))


def test_pool_must_hold_k(setup):
    items, scores, sim, _, nov = setup
    with pytest.raises(ConfigError, match="pool >= k"):
        rerank(items, scores, RerankWeights(pool=5), 10, nov, sim)
    with pytest.raises(ConfigError, match="diversity >= 0"):
        RerankWeights(diversity=-0.1)


def test_featureless_items_are_similar_to_nothing():
    sim = ItemSimilarity.cosine(np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [2.0, 0.0]]))
    assert sim.table[sim.profile[0], sim.profile[3]] == pytest.approx(1.0)
    assert sim.table[sim.profile[1], sim.profile[2]] == 0.0


def test_ties_go_to_the_better_model_rank_on_both_paths():
    """Integer scores and one-genre items give many exact ties in value and similarity."""
    rng = np.random.default_rng(11)
    n_items, n_users, c = 30, 25, 20
    features = np.eye(3)[rng.integers(0, 3, n_items)]
    sim = ItemSimilarity.cosine(features)
    full = sim.table[sim.profile[:, None], sim.profile[None, :]].astype(np.float64)
    items = np.array([rng.permutation(n_items)[:c] for _ in range(n_users)], dtype=np.int32)
    scores = -np.sort(-rng.integers(0, 4, (n_users, c)).astype(float), axis=1)
    novelty = rng.integers(0, 2, n_items).astype(float)
    for w in (RerankWeights(pool=c, novelty=0.5), RerankWeights(pool=c, diversity=0.5)):
        lists, _ = rerank(items, scores, w, 8, novelty, sim)
        assert np.array_equal(lists, _reference(items, scores, w, 8, novelty, full))


def test_deep_pools_with_ties_at_the_bottom_follow_the_definition():
    rng = np.random.default_rng(5)
    n_items, n_users, c = 400, 6, 300
    sim = ItemSimilarity.cosine((rng.random((n_items, 5)) < 0.4).astype(float))
    full = sim.table[sim.profile[:, None], sim.profile[None, :]].astype(np.float64)
    items = np.array([rng.permutation(n_items)[:c] for _ in range(n_users)], dtype=np.int32)
    scores = -np.sort(-rng.random((n_users, c)), axis=1)
    scores[:, -5:] = scores[:, -6:-5]  # ties at the bottom of a deep pool
    novelty = rng.random(n_items)
    w = RerankWeights(pool=c, diversity=0.3, novelty=2.0)
    lists, _ = rerank(items, scores, w, 6, novelty, sim)
    assert np.array_equal(lists, _reference(items, scores, w, 6, novelty, full))


def test_slots_gather_per_candidate_facts_and_pads_hit_the_empty_row(setup):
    items, scores, sim, _, nov = setup
    items, scores = items.copy(), scores.copy()
    items[2], scores[2] = -1, -np.inf  # a user without any candidate
    pool = CandidatePool.build(items, scores, nov, sim)
    out = rerank_pool(pool, RerankWeights(pool=25, diversity=0.5), 22, sim)
    assert np.array_equal(pool.gather(pool.items, out.slots), out.items)
    assert np.all(out.items[2] == -1) and np.all(np.isneginf(out.values[2]))
    pads = out.items < 0
    assert np.all(out.slots[pads] // pool.n_users == pool.size)


@pytest.mark.parametrize("pool", [12, 40])
def test_plain_ranking_agrees_with_the_definition(pool):
    rng = np.random.default_rng(pool)
    n_items, n_users = 80, 30
    sim = ItemSimilarity.cosine((rng.random((n_items, 4)) < 0.5).astype(float))
    full = sim.table[sim.profile[:, None], sim.profile[None, :]].astype(np.float64)
    items = np.array([rng.permutation(n_items)[:pool] for _ in range(n_users)], dtype=np.int32)
    scores = -np.sort(-rng.integers(0, 5, (n_users, pool)).astype(float), axis=1)
    items[0, pool - 3 :], scores[0, pool - 3 :] = -1, -np.inf
    novelty = rng.integers(0, 3, n_items) / 2.0
    w = RerankWeights(pool=pool, novelty=0.4)
    lists, values = rerank(items, scores, w, 10, novelty, sim)
    assert np.array_equal(lists, _reference(items, scores, w, 10, novelty, full))
    assert np.all(np.diff(values[1:], axis=1) <= 0)


def test_non_finite_scores_of_real_candidates_are_refused(setup):
    items, scores, sim, _, nov = setup
    scores = scores.copy()
    scores[3, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        CandidatePool.build(items, scores, nov, sim)


@pytest.mark.parametrize("seed", range(6))
def test_random_pools_follow_the_definition_including_empty_users_and_tiny_weights(seed):
    rng = np.random.default_rng(100 + seed)
    n_items, n_users = 70, int(rng.integers(1, 30))
    c = int(rng.integers(10, 40))
    pool, k = int(rng.integers(10, c + 1)), int(rng.integers(1, 11))
    features = np.eye(5)[rng.integers(0, 5, n_items)] * (rng.random((n_items, 1)) < 0.9)
    sim = ItemSimilarity.cosine(features)  # one genre each, some items without any
    full = sim.table[sim.profile[:, None], sim.profile[None, :]].astype(np.float64)
    items = np.array([rng.permutation(n_items)[:c] for _ in range(n_users)], dtype=np.int32)
    scores = -np.sort(-rng.integers(0, 6, (n_users, c)).astype(float), axis=1)
    short = rng.random(n_users) < 0.3
    cut = rng.integers(0, c, n_users)  # some users have few candidates, some none
    for u in np.flatnonzero(short):
        items[u, cut[u] :], scores[u, cut[u] :] = -1, -np.inf
    # Integer scores and quarter-step bonuses: values that tie are exactly equal and the others
    # differ by far more than the reference's 1e-9 tolerance.
    novelty = rng.integers(0, 3, n_items) / 2.0
    for diversity in (0.0, 1e-40, 0.25, 3.0):
        w = RerankWeights(pool=pool, diversity=diversity, novelty=float(rng.choice([0.0, 0.5])))
        lists, values = rerank(items, scores, w, k, novelty, sim)
        assert np.array_equal(lists, _reference(items, scores, w, k, novelty, full))
        assert np.array_equal(lists < 0, np.isneginf(values))


def test_a_tiny_diversity_weight_ranks_as_no_diversity(setup):
    items, scores, sim, _, nov = setup
    tiny = rerank(items, scores, RerankWeights(pool=25, diversity=1e-40, novelty=0.3), 10, nov, sim)
    none = rerank(items, scores, RerankWeights(pool=25, novelty=0.3), 10, nov, sim)
    assert np.array_equal(tiny[0], none[0]) and np.array_equal(tiny[1], none[1])


def test_a_pool_refuses_a_similarity_it_was_not_built_with(setup):
    items, scores, sim, _, nov = setup
    pool = CandidatePool.build(items, scores, nov, sim)
    other = ItemSimilarity(np.zeros(60, np.int32), np.zeros((1, 1)))
    with pytest.raises(ValueError, match="profiles"):
        rerank_pool(pool, RerankWeights(pool=25, diversity=0.5), 10, other)


def test_weights_must_be_finite_and_the_table_is_float32():
    with pytest.raises(ConfigError, match="finite"):
        RerankWeights(novelty=float("inf"))
    sim = ItemSimilarity(np.zeros(3, np.int32), np.ones((1, 1)))
    assert sim.table.dtype == np.float32 and sim.table.flags.c_contiguous
