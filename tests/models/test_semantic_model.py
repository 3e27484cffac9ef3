"""The semantic model and the semantic item similarity, end to end on ML-100k."""

from __future__ import annotations

import numpy as np
import pytest

from paretorec.config import ExperimentConfig
from paretorec.errors import ConfigError
from paretorec.models import MODELS, FitData, Semantic, SideInfo
from paretorec.models.base import generate_candidates
from paretorec.study import plan

pytest.importorskip("sentence_transformers", reason="the semantic extra is not installed")


@pytest.fixture(scope="module")
def side(ml100k):
    return SideInfo.of(ml100k)


def test_semantic_model_serves_cold_items_from_their_embedding(ml100k, ml100k_split, side):
    Semantic.check_data(side)
    data = FitData.of(ml100k_split.train, side)
    scorer = Semantic().fit(data)
    users = np.arange(20)
    scores = scorer.score(users)
    assert scores.shape == (20, ml100k.n_items) and np.isfinite(scores).all()
    assert np.all(scores <= 1 + 1e-9) and np.all(scores >= -1 - 1e-9)
    cold = np.flatnonzero(data.item_counts == 0)
    assert len(cold) > 0 and np.ptp(scores[:, cold]) > 0  # cold items have real scores
    cands = generate_candidates(scorer, data.X, users, 50)
    assert (cands.items >= 0).all()


def test_semantic_is_in_the_default_space_with_its_extra():
    from paretorec.study import default_space

    assert "semantic" in default_space()["model"]


def test_without_the_extra_asking_for_semantic_is_one_line(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "sentence_transformers" else real(name, *a),
    )
    with pytest.raises(ConfigError, match=r"pip install 'paretorec\[semantic\]'") as err:
        plan(ExperimentConfig(space={"model": ["semantic", "ease"]}))
    assert "\n" not in str(err.value)
    assert MODELS.entry("semantic").requires == (("sentence_transformers", "semantic"),)


def test_semantic_similarity_drives_diversity_and_ild(ml100k, ml100k_split):
    from paretorec.metrics import parse_metric
    from paretorec.study import Candidate, Pipeline

    point = Candidate.from_values({"model": "itemknn", "rerank.pool": 50, "rerank.diversity": 0.8})
    ild = [parse_metric("ild@10")]
    genres = Pipeline(ml100k, ml100k_split, 10, 50)
    semantic = Pipeline(ml100k, ml100k_split, 10, 50, similarity="semantic")
    a = genres.recommend("validation", point)
    b = semantic.recommend("validation", point)
    assert not np.array_equal(a.items, b.items)  # diversity reads the other similarity
    plain = Candidate.from_values({"model": "itemknn", "rerank.pool": 50})
    before = semantic.evaluate("validation", plain, ild)["ild@10"]
    after = semantic.evaluate("validation", point, ild)["ild@10"]
    assert after > before  # and raises the semantic ILD it is measured by
