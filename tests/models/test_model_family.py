"""The models of issue 12 against independent implementations and hand computations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from paretorec.config import ExperimentConfig
from paretorec.errors import ConfigError, ConfigWarning
from paretorec.metrics import parse_metric
from paretorec.models import ALS, BPR, Content, FitData, Hybrid, SideInfo, UserKNN, build_model
from paretorec.models.base import generate_candidates
from paretorec.models.hybrid import minmax_rows
from paretorec.study import Candidate, Pipeline, plan

FRONT_V0 = Path(__file__).parent / "data" / "ml100k_front_v0.csv"


@pytest.fixture(scope="module")
def ml_fit(ml100k, ml100k_split):
    return FitData.of(ml100k_split.train, SideInfo.of(ml100k))


@pytest.mark.slow
def test_sparse_neighbour_lists_reproduce_the_dense_itemknn_front(ml100k, ml100k_split):
    """The ItemKNN and EASE points of the main experiment's front before neighbour lists
    became sparse (results/ml100k at 896ef1c): today's test numbers are the same floats."""
    pipe = Pipeline(ml100k, ml100k_split, 10, 100)
    refs = [parse_metric(m) for m in ("ndcg@10", "satisfaction@10", "cost", "recall@10")]
    front = pd.read_csv(FRONT_V0)
    assert (front.model == "itemknn").sum() >= 10
    for _, row in front.iterrows():
        values = {
            "model": row.model,
            "rerank.pool": int(row["rerank.pool"]),
            "rerank.diversity": row["rerank.diversity"],
            "rerank.novelty": row["rerank.novelty"],
        }
        if row.model == "itemknn":
            values["itemknn.k"] = int(row["itemknn.k"])
            values["itemknn.shrinkage"] = float(row["itemknn.shrinkage"])
        else:
            values["ease.l2"] = float(row["ease.l2"])
        got = pipe.evaluate("test", Candidate.from_values(values), refs)
        for ref in refs:
            assert got[ref.name] == row[f"test_{ref.name}"], (values, ref.name)


def test_neighbour_lists_never_hold_a_dense_gram(ml_fit):
    ml_fit.neighbours(10.0, 50)
    assert "gram" not in vars(ml_fit)  # EASE's dense gram is computed only when EASE asks


def _implicit_top(model, fit, users, n):
    """implicit's own recommend on the same fitted factors (it filters seen items)."""
    ids, _ = model.recommend(users, fit.X[users].astype(np.float32), N=n)
    return ids


@pytest.mark.parametrize(
    "ours,make",
    [
        (ALS(factors=16, iterations=5), "als"),
        (BPR(factors=16, iterations=20), "bpr"),
    ],
)
def test_factor_models_rank_exactly_as_implicit_recommends(ml_fit, ours, make):
    import implicit.cpu.als
    import implicit.cpu.bpr
    from implicit.cpu.matrix_factorization_base import MatrixFactorizationBase

    scorer = ours.fit(ml_fit)
    cls = implicit.cpu.als.AlternatingLeastSquares
    if make == "bpr":
        cls = implicit.cpu.bpr.BayesianPersonalizedRanking
    twin: MatrixFactorizationBase = cls(factors=ours.factors)
    twin.user_factors, twin.item_factors = scorer.user_factors, scorer.item_factors
    users = np.arange(ml_fit.n_users)
    ours_top = generate_candidates(scorer, ml_fit.X, users, 50)
    theirs = _implicit_top(twin, ml_fit, users, 50)
    same = (ours_top.items == theirs).all(axis=1)
    # a row may differ only where two items tie to float32 rounding (implicit sums the dot
    # products in its own order and breaks ties by its heap; we break them by item index)
    for u in np.flatnonzero(~same):
        s = scorer.score(np.array([u]))[0]
        diff = np.flatnonzero(ours_top.items[u] != theirs[u])
        np.testing.assert_allclose(
            s[ours_top.items[u, diff]], s[theirs[u, diff]], rtol=4 * np.finfo(np.float32).eps
        )
    assert same.mean() > 0.99


def test_factor_fits_are_deterministic_under_their_seed(ml_fit):
    a = ALS(factors=8, iterations=3, seed=3).fit(ml_fit)
    b = ALS(factors=8, iterations=3, seed=3).fit(ml_fit)
    c = ALS(factors=8, iterations=3, seed=4).fit(ml_fit)
    assert np.array_equal(a.item_factors, b.item_factors)
    assert not np.array_equal(a.item_factors, c.item_factors)


def _numpy_userknn(X: np.ndarray, k: int, shrinkage: float) -> np.ndarray:
    """Dense, loop-per-user user-based kNN written from the definition."""
    counts = X @ X.T
    norms = np.sqrt(np.diag(counts))
    sims = counts / (np.outer(norms, norms) + shrinkage + 1e-12)
    np.fill_diagonal(sims, -np.inf)
    scores = np.zeros(X.shape, dtype=np.float64)
    for u in range(X.shape[0]):
        order = np.lexsort((np.arange(X.shape[0]), -sims[u]))[:k]
        keep = order[sims[u, order] > 0]
        scores[u] = sims[u, keep] @ X[keep]
    return scores


@pytest.mark.slow
def test_userknn_matches_a_dense_numpy_implementation_on_ml100k(ml100k, ml100k_split, ml_fit):
    model = UserKNN(k=30, shrinkage=10.0)
    dense = ml_fit.X.toarray()
    expected = _numpy_userknn(dense, 30, 10.0)
    users = np.arange(ml_fit.n_users)
    ours = model.fit(ml_fit).score(users)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    # and the accuracy a search sees is that implementation's
    pipe = Pipeline(ml100k, ml100k_split, 10, 50)
    ndcg = parse_metric("ndcg@10")
    got = pipe.evaluate(
        "validation",
        Candidate.from_values({"model": "userknn", "userknn.k": 30, "userknn.shrinkage": 10.0}),
        [ndcg],
    )["ndcg@10"]
    assert 0.2 < got < 0.5


def _side(genres: np.ndarray, titles: list[str]) -> SideInfo:
    names = tuple(f"g{j}" for j in range(genres.shape[1]))
    return SideInfo(
        dataset_name="toy",
        titles=np.array(titles, dtype=object),
        genres=(sp.csr_matrix(genres), names),
    )


def test_content_scores_cold_items_and_single_rating_users():
    genres = np.array([[1, 0], [1, 0], [0, 1], [1, 0]])  # item 3 is never interacted with
    side = _side(genres, ["a", "b", "c", "d"])
    X = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 0, 1, 0], [1, 1, 1, 0]], dtype=float))
    R = sp.csr_matrix(np.array([[5, 0, 0, 0], [0, 0, 4, 0], [5, 1, 1, 0]], dtype=float))
    data = FitData(X, R, side)
    scorer = Content(genres=1.0, tags=0.0, title=0.0).fit(data)
    scores = scorer.score(np.arange(3))
    # user 0 rated one comedy-like item: every item of the same genre scores 1, the other 0
    np.testing.assert_allclose(scores[0], [1, 1, 0, 1], atol=1e-12)
    cands = generate_candidates(scorer, X, np.array([0]), 3)
    assert list(cands.items[0]) == [1, 3, 2]  # the cold item 3 is served by its text
    # user 2's profile leans to genre 0 by their ratings (5 + 1 against 1)
    assert scores[2, 3] > scores[2, 2] > 0


def test_content_profiles_are_rating_weighted_means():
    rng = np.random.default_rng(0)
    genres = (rng.random((30, 5)) < 0.4).astype(float)
    genres[genres.sum(axis=1) == 0, 0] = 1
    side = _side(genres, [f"t{i}" for i in range(30)])
    X = sp.csr_matrix((rng.random((8, 30)) < 0.2).astype(float))
    R = X.multiply(rng.integers(1, 6, X.shape)).tocsr()
    model = Content(genres=1.0, tags=0.0, title=0.0)
    scorer = model.fit(FitData(X, R, side))
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.preprocessing import normalize

    V = normalize(TfidfTransformer(sublinear_tf=True).fit_transform(genres).toarray())
    for u in range(8):
        w = R[u].toarray().ravel()
        if w.sum() == 0:
            continue
        profile = w @ V / w.sum()
        expected = V @ profile / np.linalg.norm(profile)
        np.testing.assert_allclose(scorer.score(np.array([u]))[0], expected, atol=1e-12)


def test_content_uses_ml_latest_small_tags(data_dir):
    from paretorec.data import load_dataset
    from paretorec.models.content import field_matrices

    side = SideInfo.of(load_dataset("ml-latest-small", data_dir))
    fields = field_matrices(side)
    assert set(fields) == {"genres", "tags", "title"}
    assert fields["tags"].shape[0] == side.titles.shape[0] and fields["tags"].nnz > 3000


def test_content_refuses_a_dataset_without_text():
    with pytest.raises(ConfigError, match="has no item text"):
        Content.check_data(SideInfo(dataset_name="logs"))


def test_hybrid_top_c_equals_a_hand_computation():
    X = sp.csr_matrix(np.array([[1, 0, 0, 0, 0], [1, 1, 1, 0, 0], [0, 1, 1, 1, 0]], dtype=float))
    genres = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 0]])
    data = FitData(X, None, _side(genres, list("abcde")))
    hybrid = Hybrid.from_values(
        {
            "model": "hybrid",
            "hybrid.first": "itemknn",
            "hybrid.second": "popularity",
            "hybrid.weight": 0.25,
            "hybrid.switch": 2,
            "itemknn.k": 4,
            "itemknn.shrinkage": 0.0,
        }
    )
    # by hand: itemknn scores are sums of cosines to the user's items; popularity = counts
    counts = X.toarray().sum(axis=0)
    Xd = X.toarray()
    norm = np.sqrt(np.outer(counts, counts))
    cos = np.divide(Xd.T @ Xd, norm, out=np.zeros_like(norm), where=norm > 0)
    np.fill_diagonal(cos, 0.0)
    knn = Xd @ cos
    blend = 0.25 * minmax_rows(knn) + 0.75 * minmax_rows(np.tile(counts, (3, 1)))
    blend[0] = minmax_rows(np.tile(counts, (3, 1)))[0]  # user 0 has 1 < 2 events: switched
    got = hybrid.fit(data).score(np.arange(3))
    np.testing.assert_allclose(got, blend, atol=1e-12)
    cands = generate_candidates(hybrid.fit(data), X, np.arange(3), 3)
    for u in range(3):
        free = np.flatnonzero(Xd[u] == 0)
        expected = free[np.lexsort((free, -blend[u, free]))][:3]
        assert list(cands.items[u][: len(expected)]) == list(expected)


def test_hybrid_members_take_their_hyperparameters_from_the_point():
    values = {
        "model": "hybrid",
        "hybrid.first": "ease",
        "hybrid.second": "content",
        "ease.l2": 77.0,
        "itemknn.k": 9,
    }
    cand = Candidate.from_values(values)
    assert cand.model.members[0].l2 == 77.0
    assert Candidate.from_values(cand.values()) == cand  # the export round trip
    assert "itemknn.k" not in cand.values()


@pytest.mark.parametrize(
    "space,match",
    [
        ({"model": ["hybrid", "ease"], "hybrid.first": ["ease", "als"]}, "member `als`"),
        ({"model": ["hybrid", "ease"]}, "member `content`"),  # the default second member
        ({"model": "als", "als.factors": {"low": 0, "high": 8}}, "als.factors > 0"),
        ({"model": "bpr", "bpr.momentum": 0.5}, "has no parameter `momentum`"),
        ({"model": "svd"}, "unknown model `svd`"),
    ],
)
def test_bad_model_spaces_fail_in_one_line_before_data(space, match):
    with pytest.raises(ConfigError, match=match) as err:
        plan(ExperimentConfig(space=space))
    assert "\n" not in str(err.value)


def test_ease_max_items_keeps_the_most_popular_and_ranks_the_rest_below(ml_fit):
    from paretorec.models import EASE

    n = 300
    scorer = EASE(l2=100.0, max_items=n).fit(ml_fit)
    users = np.arange(50)
    scores = scorer.score(users)
    kept = np.argsort(-ml_fit.item_counts, kind="stable")[:n]
    rest = np.setdiff1d(np.arange(ml_fit.n_items), kept)
    assert scores[:, kept].min(axis=1).min() > scores[:, rest].max(axis=1).max() - 1
    assert (scores[:, kept].min(axis=1) > scores[:, rest].max(axis=1)).all()
    # the kept block is EASE fitted on those columns alone
    sub = ml_fit.X[:, np.sort(kept)]
    alone = EASE(l2=100.0).fit(FitData(sp.csr_matrix(sub))).score(users)
    np.testing.assert_allclose(scores[:, np.sort(kept)], alone, atol=1e-10)


def test_ease_refuses_a_fit_that_cannot_fit_in_memory(monkeypatch):
    import paretorec.models.ease as ease

    monkeypatch.setattr(ease, "available_memory", lambda: 2**30)
    side = SideInfo(dataset_name="big", n_items=20_000)
    with pytest.raises(ConfigError, match=r"needs about 11\.9 GiB.*`ease.max_items` to at most"):
        ease.EASE.check_data(side, {"max_items": (0,)})
    ease.EASE.check_data(side, {"max_items": (4000,)})  # restricted: fits


def test_an_exported_hybrid_reloads_with_its_members_hyperparameters(tmp_path):
    from paretorec.config import DataConfig, SplitConfig
    from paretorec.export.point import OperatingPoint, load_point, save_point
    from paretorec.rerank import RerankSettings

    model = Candidate.from_values(
        {
            "model": "hybrid",
            "hybrid.first": "als",
            "hybrid.second": "content",
            "als.factors": 12,
            "content.title": 0.0,
        }
    ).model
    point = OperatingPoint(
        Candidate(model, RerankSettings.of(20, diversity=0.3)),
        10,
        DataConfig(),
        "sha256:x",
        SplitConfig(),
        0,
        similarity="genres",
    )
    again = load_point(save_point(point, tmp_path / "p.json"))
    assert again.candidate == point.candidate
    assert again.candidate.model.members[0].factors == 12


def test_a_diverged_factorisation_warns_and_scores_its_bad_factors_zero(ml_fit):
    # BPR at the top of its learning-rate range with 256 factors diverges on ML-100k; a search
    # that reaches that point must go on (it crashed a 1,000-evaluation Optuna run before)
    model = build_model(
        "bpr",
        {"factors": 256, "learning_rate": 0.2, "regularization": 0.0005623, "iterations": 160},
    )
    with pytest.warns(ConfigWarning, match="model `bpr` diverged"):
        scorer = model.fit(ml_fit)
    assert np.isfinite(scorer.user_factors).all() and np.isfinite(scorer.item_factors).all()
    cands = generate_candidates(scorer, ml_fit.X, np.arange(20), 10)
    assert np.isfinite(cands.scores).all()
