from dataclasses import dataclass
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest

from paretorec.data.features import ItemSimilarity
from paretorec.errors import ConfigError
from paretorec.rerank import TERMS, CandidatePool, Diversity, RerankSettings
from paretorec.rerank import rerank as rerank_pool


def W(pool=50, diversity=0.0, novelty=0.0):
    return RerankSettings.of(pool, diversity=diversity, novelty=novelty)


def build(items, scores, novelty, sim):
    """A pool over a stand-in stage whose novelty bonus is exactly ``novelty`` (one training
    user: the bonus is ``info / log2(2)``) and whose similarity is ``sim``."""
    stage = SimpleNamespace(similarity=sim, info=np.asarray(novelty, float), n_train_users=1)
    return CandidatePool.build(items, scores, stage)


def rerank(items, scores, w, k, novelty, sim):
    out = rerank_pool(build(items, scores, novelty, sim), w, k)
    return out.items, out.values


def _reference(items, scores, w, k, novelty, sim_full):
    """Plain per-user greedy MMR, written from the definition."""
    out = np.full((len(items), k), -1)
    diversity = sum(t.weight for t in w.pick_terms())
    for u in range(len(items)):
        cand = [i for i in items[u, : w.pool] if i >= 0]
        rel = np.array([scores[u, j] for j in range(len(cand))])
        span = rel.max() - rel.min() if len(rel) and rel.max() > rel.min() else 1.0
        value = (rel - (rel.min() if len(rel) else 0)) / span + w.weight("novelty") * novelty[cand]
        picked = []
        for _ in range(min(k, len(cand))):
            best, best_m = None, -np.inf
            for j, item in enumerate(cand):
                if j in picked:
                    continue
                red = max((sim_full[item, cand[p]] for p in picked), default=0.0)
                m = value[j] - diversity * red
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
    w = W(pool=22, diversity=diversity, novelty=novelty)
    lists, _ = rerank(items, scores, w, 10, nov, sim)
    assert np.array_equal(lists, _reference(items, scores, w, 10, nov, full))


def test_no_weights_keeps_the_model_order(setup):
    items, scores, sim, _, nov = setup
    lists, _ = rerank(items, scores, W(pool=25), 10, nov, sim)
    assert np.array_equal(lists[1:], items[1:, :10])


def test_diversity_raises_intra_list_dissimilarity(setup):
    items, scores, sim, full, nov = setup

    def mean_sim(lists):
        return np.mean([full[np.ix_(r, r)][np.triu_indices(10, 1)].mean() for r in lists[1:]])

    plain, _ = rerank(items, scores, W(pool=25), 10, nov, sim)
    diverse, _ = rerank(items, scores, W(pool=25, diversity=1.0), 10, nov, sim)
    assert mean_sim(diverse) < mean_sim(plain)


def test_short_pools_pad_with_minus_one(setup):
    items, scores, sim, _, nov = setup
    lists, values = rerank(items, scores, W(pool=25, diversity=0.5), 22, nov, sim)
    assert np.all(lists[0, 20:] == -1) and np.all(lists[0, :20] >= 0)
    assert np.all(np.isneginf(values[0, 20:]))


def test_pool_must_hold_k(setup):
    items, scores, sim, _, nov = setup
    with pytest.raises(ConfigError, match="pool >= k"):
        rerank(items, scores, W(pool=5), 10, nov, sim)
    with pytest.raises(ConfigError, match="diversity >= 0"):
        W(diversity=-0.1)


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
    for w in (W(pool=c, novelty=0.5), W(pool=c, diversity=0.5)):
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
    w = W(pool=c, diversity=0.3, novelty=2.0)
    lists, _ = rerank(items, scores, w, 6, novelty, sim)
    assert np.array_equal(lists, _reference(items, scores, w, 6, novelty, full))


def test_slots_gather_per_candidate_facts_and_pads_hit_the_empty_row(setup):
    items, scores, sim, _, nov = setup
    items, scores = items.copy(), scores.copy()
    items[2], scores[2] = -1, -np.inf  # a user without any candidate
    pool = build(items, scores, nov, sim)
    out = rerank_pool(pool, W(pool=25, diversity=0.5), 22)
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
    w = W(pool=pool, novelty=0.4)
    lists, values = rerank(items, scores, w, 10, novelty, sim)
    assert np.array_equal(lists, _reference(items, scores, w, 10, novelty, full))
    assert np.all(np.diff(values[1:], axis=1) <= 0)


def test_non_finite_scores_of_real_candidates_are_refused(setup):
    items, scores, sim, _, nov = setup
    scores = scores.copy()
    scores[3, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        build(items, scores, nov, sim)


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
        w = W(pool=pool, diversity=diversity, novelty=float(rng.choice([0.0, 0.5])))
        lists, values = rerank(items, scores, w, k, novelty, sim)
        assert np.array_equal(lists, _reference(items, scores, w, k, novelty, full))
        assert np.array_equal(lists < 0, np.isneginf(values))


def test_a_tiny_diversity_weight_ranks_as_no_diversity(setup):
    items, scores, sim, _, nov = setup
    tiny = rerank(items, scores, W(pool=25, diversity=1e-40, novelty=0.3), 10, nov, sim)
    none = rerank(items, scores, W(pool=25, novelty=0.3), 10, nov, sim)
    assert np.array_equal(tiny[0], none[0]) and np.array_equal(tiny[1], none[1])


def test_weights_must_be_finite_and_the_table_is_float32():
    with pytest.raises(ConfigError, match="finite"):
        W(novelty=float("inf"))
    with pytest.raises(ConfigError, match="each term once"):
        RerankSettings(10, (Diversity(0.1), Diversity(0.2)))
    sim = ItemSimilarity(np.zeros(3, np.int32), np.ones((1, 1)))
    assert sim.table.dtype == np.float32 and sim.table.flags.c_contiguous


@dataclass(frozen=True)
class _Unfused(Diversity):
    """The MMR term without its fused kernel: it re-ranks through the generic loop."""

    name: ClassVar[str] = "mmr_generic"

    def fused(self, *args, **kwargs):
        return None


@pytest.mark.parametrize("seed", range(4))
def test_the_generic_loop_follows_the_definition_alone_and_with_two_pick_terms(seed):
    rng = np.random.default_rng(200 + seed)
    n_items, n_users, c = 60, 20, 30
    sim = ItemSimilarity.cosine(np.eye(4)[rng.integers(0, 4, n_items)])
    full = sim.table[sim.profile[:, None], sim.profile[None, :]].astype(np.float64)
    items = np.array([rng.permutation(n_items)[:c] for _ in range(n_users)], dtype=np.int32)
    scores = -np.sort(-rng.integers(0, 6, (n_users, c)).astype(float), axis=1)
    items[0, 10:], scores[0, 10:] = -1, -np.inf
    novelty = rng.integers(0, 3, n_items) / 2.0
    pool = build(items, scores, novelty, sim)
    with TERMS.temporarily(_Unfused.name, _Unfused):
        for terms in ((_Unfused(0.75),), (_Unfused(0.25), Diversity(0.5))):
            w = RerankSettings(c, (*terms, *RerankSettings.of(novelty=0.5).terms))
            out = rerank_pool(pool, w, 8)
            assert np.array_equal(out.items, _reference(items, scores, w, 8, novelty, full))
        # alone, the same lists as the fused kernel, at a weight whose float32 scaling is exact
        # (the fused kernel works on value / weight in float32: with integer scores, exact
        # ties of the definition can round apart there)
        alone = RerankSettings(c, (_Unfused(0.5), *RerankSettings.of(novelty=0.5).terms))
        fused = rerank_pool(pool, W(c, diversity=0.5, novelty=0.5), 8)
        assert np.array_equal(rerank_pool(pool, alone, 8).items, fused.items)
