"""The pipeline's per-model cache: what a weight setting reuses, and how much is kept."""

from __future__ import annotations

from paretorec.metrics import parse_metric
from paretorec.study import Candidate, Pipeline

POINT = {"model": "itemknn", "itemknn.k": 20, "rerank.pool": 30, "rerank.diversity": 0.4}


def test_weight_changes_reuse_the_fit_and_agree_with_a_fresh_pipeline(ml100k, ml100k_split):
    warm = Pipeline(ml100k, ml100k_split, 10, 40)
    refs = [parse_metric(name) for name in ("ndcg@10", "satisfaction@10", "cost")]
    for novelty in (0.0, 0.5, 1.0):
        warm.evaluate(
            "validation", Candidate.from_values({**POINT, "rerank.novelty": novelty}), refs
        )
    assert warm.fits == 1
    point = Candidate.from_values({**POINT, "rerank.novelty": 1.0})
    cold = Pipeline(ml100k, ml100k_split, 10, 40)
    assert warm.evaluate("validation", point, refs) == cold.evaluate("validation", point, refs)


def _model(k: int):
    return Candidate.from_values({**POINT, "itemknn.k": k}).model


def test_the_cache_is_bounded_by_memory_and_evicts_the_least_recently_used(ml100k, ml100k_split):
    pipe = Pipeline(ml100k, ml100k_split, 10, 40)
    one = pipe.candidates("validation", _model(10)).nbytes
    pipe.cache_limit = int(2.5 * one)
    pipe.candidates("validation", _model(30))
    pipe.candidates("validation", _model(10))  # a hit makes it the recent one
    pipe.candidates("validation", _model(50))
    assert set(pipe._candidates) == {("validation", _model(10)), ("validation", _model(50))}
    assert pipe.cache_bytes <= 2.5 * one and pipe.fits == 3
    pipe.candidates("validation", _model(30))
    assert pipe.fits == 4  # the evicted one refits


def test_memos_are_shed_before_any_fit_is_evicted(ml100k, ml100k_split):
    pipe = Pipeline(ml100k, ml100k_split, 10, 40)
    for pool in range(10, 41):
        pipe.recommend("validation", Candidate.from_values({**POINT, "rerank.pool": pool}))
    grown = pipe.cache_bytes
    bare = pipe._candidates[("validation", _model(20))].pool.items.nbytes
    pipe.cache_limit = grown + bare  # room for a second bare set, not for the memos as well
    other = Candidate.from_values({**POINT, "itemknn.k": 30})
    pipe.recommend("validation", other)
    assert pipe.fits == 2 and len(pipe._candidates) == 2
    assert pipe.cache_bytes <= pipe.cache_limit
    again = pipe.evaluate("validation", Candidate.from_values(POINT), [parse_metric("ndcg@10")])
    fresh = Pipeline(ml100k, ml100k_split, 10, 40)
    assert again == fresh.evaluate(
        "validation", Candidate.from_values(POINT), [parse_metric("ndcg@10")]
    )
    assert pipe.fits == 2  # memos were rebuilt, the fit was not


def test_memos_grown_after_the_fit_count_towards_the_cache(ml100k, ml100k_split):
    pipe = Pipeline(ml100k, ml100k_split, 10, 40)
    candidate = Candidate.from_values(POINT)
    pipe.recommend("validation", candidate)
    before = pipe.cache_bytes
    for pool in range(10, 41):
        values = {**POINT, "rerank.pool": pool}
        pipe.recommend("validation", Candidate.from_values(values))
    assert pipe.cache_bytes > before > 0
