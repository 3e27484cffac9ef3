"""Why these items: each model's reasons on a hand-made dataset where they are known, the
contract every registered model meets, the re-rank terms' contributions (they add up to the
value each item was picked with), and ``recommend --explain`` end to end."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import paretorec
from paretorec.cli import main
from paretorec.explain.items import reason_text, rerank_text, term_contributions
from paretorec.models import MODELS, FitData, SideInfo, build_model
from paretorec.models.base import generate_candidates
from paretorec.models.factorization import FactorScorer
from paretorec.models.reasons import REASON_KINDS, Reason
from paretorec.registry import declared_params
from paretorec.rerank import RerankSettings
from paretorec.rerank.reranker import rerank
from paretorec.study import Pipeline
from paretorec.testing.contracts import fixture_dataset
from tests.optimize.test_run import _config

HEAT, CASINO, RONIN, TOY, BABE, FARGO = range(6)
TITLES = np.array(["Heat", "Casino", "Ronin", "Toy Story", "Babe", "Fargo"], dtype=object)
GENRES = ("Action", "Crime", "Animation", "Family", "Drama")
# user 0 rated exactly Heat and Toy Story. Ronin co-occurs (users 1, 2) with Heat and never
# with Toy Story; Babe (users 3, 4) with Toy Story and never with Heat.
HISTORIES = [
    [HEAT, TOY],
    [HEAT, RONIN],
    [HEAT, RONIN, FARGO],
    [TOY, BABE],
    [TOY, BABE, CASINO],
    [FARGO, CASINO],
]
ITEM_GENRES = {
    HEAT: ["Action", "Crime"],
    CASINO: ["Crime", "Drama"],
    RONIN: ["Action"],
    TOY: ["Animation", "Family"],
    BABE: ["Animation", "Family"],
    FARGO: ["Crime", "Drama"],
}
ASKED = np.array([RONIN, BABE])


@pytest.fixture(scope="module")
def hand():
    rows = [u for u, h in enumerate(HISTORIES) for _ in h]
    cols = [i for h in HISTORIES for i in h]
    X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(6, 6))
    G = np.zeros((6, len(GENRES)))
    for item, names in ITEM_GENRES.items():
        G[item, [GENRES.index(g) for g in names]] = 1
    side = SideInfo("hand", "", 6, TITLES, (sp.csr_matrix(G), GENRES))
    return FitData(X, None, side)


def _explain(name, params, data, items=ASKED):
    model = build_model(name, params)
    return model.explain(model.fit(data), data, 0, items)


def test_item_neighbours_name_the_co_rated_item(hand):
    ronin, babe = _explain("itemknn", {"k": 50, "shrinkage": 0.0}, hand)
    assert ronin[0].kind == "rated" and ronin[0].refs == (HEAT,)
    # sim(Heat, Ronin) = 2 / (sqrt(3) sqrt(2)): the whole score
    assert ronin[0].weights == pytest.approx((2 / np.sqrt(6),))
    assert babe[0].refs == (TOY,)
    names, ids = TITLES, np.arange(6).astype(str)
    assert reason_text(ronin[0], names, ids) == "because you rated Heat"


def test_ease_names_the_largest_contributor(hand):
    ronin, babe = _explain("ease", {"l2": 1.0}, hand)
    assert ronin[0].refs[0] == HEAT and babe[0].refs[0] == TOY


def test_user_neighbours_name_who_rated_it(hand):
    (ronin,), (babe,) = _explain("userknn", {"k": 50, "shrinkage": 0.0}, hand)
    # user 0 shares Heat with users 1 (cosine 1/2) and 2 (1/sqrt(6)), who rated Ronin
    assert ronin.kind == "users" and ronin.refs == (1, 2)
    assert ronin.weights == pytest.approx((0.5, 1 / np.sqrt(6)))
    assert babe.refs == (3, 4)
    ids = np.array(["u0", "u1", "u2", "u3", "u4", "u5"])
    assert (
        reason_text(ronin, TITLES, ids) == "liked by users with tastes like yours: user u1, user u2"
    )
    assert (
        reason_text(ronin, TITLES, ids, show_users=False)
        == "liked by 2 users with tastes like yours"
    )


def test_content_names_the_matching_genres(hand):
    (ronin,), (babe,) = _explain("content", {"genres": 1.0, "tags": 1.0, "title": 0.5}, hand)
    assert ronin.kind == "terms" and ronin.refs == ("Action",)  # not Crime: Ronin lacks it
    assert set(babe.refs) == {"Animation", "Family"}
    assert reason_text(ronin, TITLES, None) == "matches what you like: Action"


def test_popularity_counts_users(hand):
    (ronin,), (fargo,) = _explain("popularity", {}, hand, np.array([RONIN, FARGO]))
    assert (ronin.kind, ronin.count, fargo.count) == ("popular", 2.0, 2.0)
    assert reason_text(ronin, TITLES, None) == "popular with 2 users"


@pytest.mark.parametrize("name", ["als", "bpr"])
def test_factor_models_name_the_nearest_rated_item(name, hand):
    V = np.array([[1, 0], [0.5, 0.5], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.7, 0.7]], np.float32)
    if name == "bpr":  # implicit's BPR keeps the item bias as the last column
        V = np.column_stack([V, np.full(6, 5.0, np.float32)])
    scorer = FactorScorer(np.ones((6, V.shape[1]), np.float32), V)
    ronin, babe = MODELS.get(name)().explain(scorer, hand, 0, ASKED)
    assert ronin[0].kind == "similar" and ronin[0].refs == (HEAT, TOY)
    assert babe[0].refs == (TOY, HEAT)
    assert reason_text(ronin[0], TITLES, None) == (
        "close in factor space to Heat, Toy Story, which you rated"
    )


def test_hybrid_gives_each_members_reason(hand):
    values = {
        "hybrid.first": "itemknn",
        "hybrid.second": "popularity",
        "hybrid.weight": 0.7,
        "itemknn.k": 50,
        "itemknn.shrinkage": 0.0,
    }
    model = MODELS.get("hybrid").from_values({**values, "hybrid.switch": 0})
    (a, b), _ = model.explain(model.fit(hand), hand, 0, ASKED)
    assert (a.kind, a.refs, a.via) == ("rated", (HEAT,), "itemknn (weight 0.7)")
    assert (b.kind, b.via) == ("popular", "popularity (weight 0.3)")
    assert reason_text(a, TITLES, None) == "itemknn (weight 0.7): because you rated Heat"
    short = MODELS.get("hybrid").from_values({**values, "hybrid.switch": 3})  # 2 < 3 events
    (only,), _ = short.explain(short.fit(hand), hand, 0, ASKED)
    assert only.kind == "popular" and only.via == "popularity (serves short histories)"


@pytest.mark.parametrize("name", MODELS.available())
def test_every_registered_model_explains(name):
    """The contract: one list of valid reasons per item, evidence from the user's own history
    (rated, similar) or other users (users), largest first."""
    dataset, split = fixture_dataset()
    data = FitData.of(split.train, SideInfo.of(dataset))
    model = MODELS.get(name).create({p.name: p.default for p in declared_params(MODELS.get(name))})
    scorer = model.fit(data)
    for user in (0, 7, 42):
        items = generate_candidates(scorer, data.X, np.array([user], np.int32), 5).items[0]
        found = model.explain(scorer, data, user, items, 3)
        assert len(found) == len(items), f"{name}: one list of reasons per item"
        history = set(data.X[user].indices.tolist())
        for item_reasons in found:
            assert item_reasons and all(isinstance(r, Reason) for r in item_reasons), name
            for r in item_reasons:
                assert r.kind in REASON_KINDS and len(r.refs) <= 3, (name, r)
                assert list(r.weights) == sorted(r.weights, reverse=True), (name, r)
                assert all(np.isfinite(w) and w > 0 for w in r.weights), (name, r)
                if r.kind in ("rated", "similar"):
                    assert set(r.refs) <= history, (name, r)
                if r.kind == "users":
                    assert user not in r.refs and all(0 <= v < data.n_users for v in r.refs)
                if r.kind == "popular":
                    assert r.count >= 0


@pytest.fixture(scope="module")
def pipeline():
    dataset, split = fixture_dataset()
    return Pipeline(dataset, split, 10, 40)


@pytest.mark.parametrize(
    "weights",
    [
        {"novelty": 0.4},  # bonus only: the sorted path
        {"diversity": 0.5, "novelty": 0.2},  # MMR alone: its fused float32 kernel
        {"diversity": 0.3, "calibration": 0.4, "longtail": 0.2, "coverage": 0.1},  # generic
    ],
)
def test_term_contributions_add_up_to_the_picked_value(pipeline, weights):
    settings = RerankSettings.of(30, **weights)
    fitted = pipeline.candidates("validation", build_model("itemknn", {}))
    picks = rerank(fitted.pool, settings, 10)
    parts = term_contributions(fitted.pool, settings, 10, picks.slots)
    assert set(parts) == {"relevance", *weights}
    total = sum(parts.values())
    filled = np.isfinite(picks.values)
    tol = 1e-5 if set(weights) == {"diversity", "novelty"} else 1e-12  # float32 MMR kernel
    assert np.allclose(total[filled], picks.values[filled], atol=tol, rtol=0)
    if set(weights) == {"novelty"}:  # a bonus term adds weight x bonus(item), whatever else
        bonus = settings.terms[0].bonus(fitted.pool.reference)
        assert np.allclose(parts["novelty"][filled], 0.4 * bonus[picks.items[filled]])
    assert rerank_text({"relevance": 0.5, "novelty": 0.125, "diversity": -0.0}) == (
        "relevance 0.5; novelty +0.125; diversity +0"
    )


def test_recommend_explain_end_to_end(tmp_path, capsys):
    result = paretorec.tune(_config(generations=1))
    selection = result.select("knee")
    chosen = selection.export(tmp_path / "chosen.json")
    served = result.recommender(selection)
    user_id = served.dataset.user_ids[5]
    user = str(user_id)
    out = tmp_path / "explained.csv"
    main(["recommend", str(chosen), "--out", str(out), "--explain", "--user", user])
    assert "for 1 users" in capsys.readouterr().out
    frame = pd.read_csv(out, dtype={"user": str})
    plain = served.recommend([user_id])
    assert frame["item"].tolist() == plain["item"].tolist()  # the served list, explained
    assert (
        frame["reason"].str.len().gt(0).all() and frame["rerank"].str.startswith("relevance").all()
    )
    parts = [
        c
        for c in frame.columns
        if c not in ("user", "item", "title", "rank", "score", "reason", "rerank")
    ]
    assert np.allclose(frame[parts].sum(axis=1), frame["score"], atol=1e-5)
    only = tmp_path / "only.csv"
    main(["recommend", str(chosen), "--out", str(only), "--user", user])
    assert pd.read_csv(only)["item"].tolist() == plain["item"].tolist()


def test_explain_refusals(monkeypatch):
    from types import SimpleNamespace

    from paretorec.errors import ConfigError
    from paretorec.explain.items import explain_recommendations
    from paretorec.models.base import Model

    per_segment = SimpleNamespace(point=SimpleNamespace(segments=object()))
    with pytest.raises(ConfigError, match="a per-segment export serves several"):
        explain_recommendations(per_segment)
    result = paretorec.tune(_config(generations=1))
    served = result.recommender(result.select("knee"))
    model = type(served.point.candidate.model)
    monkeypatch.setattr(model, "explain", Model.explain)  # a plug-in without reasons
    with pytest.raises(ConfigError, match=rf"--explain: model `{model.name}` cannot explain"):
        explain_recommendations(served)
