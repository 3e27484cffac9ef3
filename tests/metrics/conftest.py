"""Real lists to score: ML-100k from the pipeline, ml-latest-small from a small user-kNN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paretorec.data import holdout_split, load_dataset
from paretorec.metrics import ListContext
from paretorec.study import Candidate, Pipeline


@pytest.fixture(scope="session")
def ml100k_pipeline(ml100k, ml100k_split) -> Pipeline:
    return Pipeline(ml100k, ml100k_split, 10, 50)


def _context(pipeline: Pipeline, values: dict) -> ListContext:
    return pipeline.context(
        "validation", pipeline.recommend("validation", Candidate.from_values(values))
    )


@pytest.fixture(scope="session")
def ml100k_ctx(ml100k_pipeline) -> ListContext:
    """Item k-NN with MMR re-ranking: personalised, diversified lists for 943 users."""
    return _context(
        ml100k_pipeline,
        {"model": "itemknn", "itemknn.k": 40, "rerank.pool": 30, "rerank.diversity": 0.3},
    )


@pytest.fixture(scope="session")
def ml100k_popular_ctx(ml100k_pipeline) -> ListContext:
    """Most-popular unseen items: the same users, clearly worse lists."""
    return _context(ml100k_pipeline, {"model": "popularity", "rerank.pool": 10})


@pytest.fixture(scope="session")
def mlsmall_ctx(data_dir: Path) -> ListContext:
    """ml-latest-small validation users with user-kNN top-20 lists, some cut short by -1 pads.

    The lists are computed here (user-user co-occurrence, then items of similar users) rather
    than by a package model: the item-item models need a dense 9,724^2 gram, too slow for tests.
    """
    if not (data_dir / "ml-latest-small" / "ratings.csv").is_file():
        pytest.skip(f"ml-latest-small not under {data_dir}")
    dataset = load_dataset("ml-latest-small", data_dir)
    pipeline = Pipeline(dataset, holdout_split(dataset.interactions, 0.2, 0.2, 7), 20, 20)
    stage = pipeline.stage("validation")
    X = stage.fit.X
    sim = (X[stage.users] @ X.T).toarray()
    sim[np.arange(len(stage.users)), stage.users] = 0.0  # not one's own neighbour
    scores = np.asarray((X.T @ sim.T).T)
    seen = X[stage.users].toarray() > 0
    scores[seen] = -np.inf
    lists = np.argsort(-scores, axis=1, kind="stable")[:, :20].astype(np.int32)
    rng = np.random.default_rng(0)
    short = rng.random(len(lists)) < 0.2
    lists[short, 15:] = -1  # a fifth of the users get only 15 items
    return ListContext(
        lists=lists,
        truth=stage.truth,
        reference=stage.reference,
        ops=np.zeros(len(lists)),
        ms_per_user=0.0,
    )
