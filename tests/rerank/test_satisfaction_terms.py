"""The calibration, long-tail, intent and coverage terms against greedy re-ranks written from
their definitions, and their metrics (α-NDCG, subtopic recall) against hand computations."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp

from paretorec.data.features import ItemSimilarity
from paretorec.data.popularity import long_tail_mask
from paretorec.data.reference import Reference
from paretorec.metrics import intent as intent_metrics
from paretorec.metrics.calibration import miscalibration
from paretorec.rerank import CandidatePool, RerankSettings, rerank

N_USERS, N_ITEMS, N_GENRES, POOL, K = 12, 40, 5, 15, 6


@pytest.fixture(scope="module")
def stage():
    rng = np.random.default_rng(7)
    flags = (rng.random((N_ITEMS, N_GENRES)) < 0.35).astype(float)
    flags[3] = 0.0  # an item without genres
    history = sp.csr_matrix((rng.random((N_USERS, N_ITEMS)) < 0.3).astype(float))
    reference = Reference(
        history,
        np.arange(N_USERS),
        ItemSimilarity.cosine(flags),
        sp.csr_matrix(flags),
    )
    items = np.array([rng.permutation(N_ITEMS)[:POOL] for _ in range(N_USERS)])
    scores = -np.sort(-rng.random((N_USERS, POOL)), axis=1)
    return reference, items, scores


def _relevance(scores):
    lo, hi = scores.min(), scores.max()
    return (scores - lo) / (hi - lo if hi > lo else 1.0)


def _greedy(items, scores, gain, k):
    """Per-user greedy: pick the best ``rel + gain(item, picked)``, ties to the better rank."""
    out = []
    for u in range(len(items)):
        rel = _relevance(scores[u])
        picked = []
        for _ in range(k):
            best, best_v = None, -np.inf
            for j in range(len(items[u])):
                if j in picked:
                    continue
                v = rel[j] + gain(u, items[u, j], [items[u, p] for p in picked])
                if v > best_v + 1e-12:
                    best, best_v = j, v
            picked.append(best)
        out.append([items[u, p] for p in picked])
    return np.array(out)


def _ours(stage, **weights):
    reference, items, scores = stage
    pool = CandidatePool.build(items, scores, reference)
    return rerank(pool, RerankSettings.of(POOL, **weights), K).items


def _weights(flags):
    total = flags.sum(axis=1, keepdims=True)
    return np.divide(flags, total, out=np.zeros_like(flags), where=total > 0)


def test_calibration_is_stecks_greedy(stage):
    reference, items, scores = stage
    w = _weights(reference.item_features.toarray())
    p = np.nan_to_num(reference.user_genres())
    lam = 0.8

    def kl(u, chosen):
        lists = np.array([chosen + [-1] * (K - len(chosen))])
        return miscalibration(lists, w, p[u : u + 1], K)[0]

    expected = _greedy(items, scores, lambda u, i, s: lam * (kl(u, s) - kl(u, [*s, i])), K)
    assert np.array_equal(_ours(stage, calibration=lam), expected)


def test_intent_is_xquad_over_genres(stage):
    reference, items, scores = stage
    w = _weights(reference.item_features.toarray())
    p = np.nan_to_num(reference.user_genres())

    def gain(u, i, s):
        left = np.prod([1.0 - w[j] for j in s], axis=0) if s else np.ones(N_GENRES)
        return 0.9 * float((p[u] * w[i] * left).sum())

    assert np.array_equal(_ours(stage, intent=0.9), _greedy(items, scores, gain, K))


def test_longtail_is_smooth_xquad_over_head_and_tail(stage):
    reference, items, scores = stage
    tail = long_tail_mask(reference.item_counts, 0.8)
    hist = reference.X.toarray().astype(bool)

    def gain(u, i, s):
        share_tail = tail[hist[u]].mean()
        interest = share_tail if tail[i] else 1.0 - share_tail
        same = sum(tail[j] == tail[i] for j in s)
        return 1.5 * interest * (1.0 - same / len(s) if s else 1.0)

    assert np.array_equal(_ours(stage, longtail=1.5), _greedy(items, scores, gain, K))


def test_coverage_discounts_what_the_batch_already_shows(stage):
    _, items, scores = stage
    lam = 2.0
    # the batch definition: position by position, every user picks with the exposure of the
    # previous positions
    shown = np.zeros(N_ITEMS)
    picked = [[] for _ in range(N_USERS)]
    for _ in range(K):
        step = []
        for u in range(N_USERS):
            rel = _relevance(scores[u])
            cands = [
                (rel[j] - lam * shown[items[u, j]] / N_USERS, -j)
                for j in range(POOL)
                if items[u, j] not in picked[u]
            ]
            step.append(items[u, -max(cands)[1]])
        for u, item in enumerate(step):
            picked[u].append(item)
            shown[item] += 1
    assert np.array_equal(_ours(stage, coverage=lam), np.array(picked))


@pytest.mark.parametrize("term", ["calibration", "intent", "longtail", "coverage"])
def test_weight_zero_is_the_identity(stage, term):
    assert np.array_equal(_ours(stage, **{term: 0.0}), _ours(stage))


def test_alpha_ndcg_by_hand():
    flags = np.array([[1, 0], [1, 0], [0, 1], [1, 1]], float)
    truth = sp.csr_matrix(np.array([[1, 1, 1, 0]], float))  # held out: items 0, 1, 2
    lists = np.array([[0, 1, 3, 2]])
    hit = np.array([[True, True, False, True]])
    # gains: item0 g0 -> 1; item1 g0 again -> 0.5; item3 not held out -> 0; item2 g1 -> 1
    dcg = 1 / math.log2(2) + 0.5 / math.log2(3) + 1 / math.log2(5)
    # ideal: item0 (1), item2 (1), item1 (0.5)
    ideal = 1 / math.log2(2) + 1 / math.log2(3) + 0.5 / math.log2(4)
    got = intent_metrics.alpha_ndcg(lists, hit, truth, flags, 4)
    assert got[0] == pytest.approx(dcg / ideal)


def test_subtopic_recall_by_hand():
    flags = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], float)
    profile = np.array([[0.5, 0.5, 0.0], [np.nan] * 3])
    lists = np.array([[0, 2], [0, 1]])
    got = intent_metrics.subtopic_recall(lists, flags, profile, 2)
    assert got[0] == 0.5 and np.isnan(got[1])


@pytest.mark.slow
@pytest.mark.parametrize(
    "term,metric,sign",
    [
        ("calibration", "miscalibration@10", -1),
        ("longtail", "aplt@10", 1),
        ("intent", "srecall@10", 1),
        ("coverage", "coverage@10", 1),
    ],
)
def test_each_term_moves_its_metric_monotonically_on_ml100k(
    ml100k, ml100k_split, term, metric, sign
):
    from paretorec.metrics import parse_metric
    from paretorec.study import Candidate, Pipeline

    pipe = Pipeline(ml100k, ml100k_split, 10, 50)
    ref = [parse_metric(metric)]
    values = [
        pipe.evaluate(
            "validation",
            Candidate.from_values({"model": "itemknn", "rerank.pool": 50, f"rerank.{term}": w}),
            ref,
        )[metric]
        for w in (0.0, 0.3, 1.0, 3.0)
    ]
    assert all(sign * (b - a) > 0 for a, b in itertools.pairwise(values)), values


def test_diversity_can_use_tags_and_ild_keeps_its_own_similarity(data_dir):
    from paretorec.data import holdout_split, load_dataset
    from paretorec.metrics import parse_metric
    from paretorec.study import Candidate, Pipeline

    ds = load_dataset("ml-latest-small", data_dir)
    pipe = Pipeline(ds, holdout_split(ds.interactions, 0.2, 0.2, 42), 10, 30)
    base = {"model": "popularity", "rerank.pool": 30, "rerank.diversity": 1.0}
    by_genres = pipe.recommend("validation", Candidate.from_values(base))
    by_tags = pipe.recommend(
        "validation", Candidate.from_values({**base, "rerank.diversity.similarity": "tags"})
    )
    assert not np.array_equal(by_genres.items, by_tags.items)
    tags = pipe.similarity_named("tags")
    assert tags.table.shape[0] > 100 and pipe.similarity_source == "genres"
    ild = [parse_metric("ild@10")]  # ILD stays genre-based: genre diversity scores higher
    g = pipe.evaluate("validation", Candidate.from_values(base), ild)["ild@10"]
    t = pipe.evaluate(
        "validation",
        Candidate.from_values({**base, "rerank.diversity.similarity": "tags"}),
        ild,
    )["ild@10"]
    assert g > t


def test_terms_refuse_data_they_cannot_read(tmp_path, data_dir, capsys):
    from tests.test_cli import run_cli

    csv = tmp_path / "logs.csv"
    csv.write_text(
        "user,item,rating\n"
        + "".join(f"{u},{i},4\n" for u in range(1, 20) for i in range(1, 30, 2))
    )
    for space, needle in [
        ('"rerank.calibration" = { low = 0.0, high = 1.0 }', "`calibration` needs item genres"),
        ('"rerank.diversity" = 0.5\n"rerank.diversity.similarity" = "tags"', "by tags"),
    ]:
        config = tmp_path / "c.toml"
        config.write_text(
            f'[data]\ndataset = "file"\npath = "{csv}"\n[search]\nalgorithm = "random"\n'
            f'population = 2\ngenerations = 1\n[space]\nmodel = "popularity"\n{space}\n'
        )
        code, _, err = run_cli(["tune", config, "--out", tmp_path / "r", "--quiet"], capsys)
        assert code == 2 and needle in err and len(err.strip().splitlines()) == 1, err


def test_a_negative_weight_range_is_refused_at_config_load():
    from paretorec.config import ExperimentConfig
    from paretorec.errors import ConfigError
    from paretorec.study import plan

    with pytest.raises(ConfigError, match=r"rerank\.longtail >= 0"):
        plan(ExperimentConfig(space={"model": "ease", "rerank.longtail": {"low": -1.0, "high": 1}}))


def test_one_users_list_under_coverage_is_their_row_of_the_batch(ml100k, data_dir):
    from paretorec.config import DataConfig, SplitConfig
    from paretorec.export.point import OperatingPoint
    from paretorec.export.recommender import recommender
    from paretorec.study import Candidate

    cand = Candidate.from_values({"model": "popularity", "rerank.pool": 30, "rerank.coverage": 2.0})
    point = OperatingPoint(cand, 10, DataConfig(), ml100k.checksum, SplitConfig(), 0)
    rec = recommender(point, data_dir=data_dir)
    everyone = rec.recommend()
    user = everyone["user"].iloc[0]
    alone = rec.recommend(users=[user])
    assert alone.equals(everyone[everyone["user"] == user].reset_index(drop=True))
    # and the batch matters: without the other users, popularity would give the plain top
    assert everyone.groupby("user")["item"].apply(tuple).nunique() > 1


def test_an_objective_nothing_moves_is_named_in_a_warning():
    from paretorec.config import ExperimentConfig
    from paretorec.errors import ConfigWarning
    from paretorec.study import plan

    objectives = [{"metric": "ndcg@10"}, {"metric": "miscalibration@10"}]
    with pytest.warns(ConfigWarning, match="miscalibration@10"):
        plan(ExperimentConfig(space={"model": "popularity"}, objectives=objectives))
    with pytest.warns(ConfigWarning, match=r"rerank\.calibration is off"):
        plan(
            ExperimentConfig(
                space={"model": "popularity", "rerank.novelty": 0.5}, objectives=objectives
            )
        )
