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


def _costs(pipe: Pipeline, seconds: dict[int, float]) -> None:
    """Pretend fits took these seconds (measured ones would make the eviction order a race)."""
    for k, s in seconds.items():
        entry = pipe._candidates[("validation", _model(k))]
        entry.fit_seconds = s
        pipe._touch(entry)


def test_the_cache_is_bounded_by_memory_and_keeps_what_is_dear_to_refit(ml100k, ml100k_split):
    pipe = Pipeline(ml100k, ml100k_split, 10, 40)
    one = pipe.candidates("validation", _model(10)).nbytes
    pipe.cache_limit = int(2.5 * one)
    pipe.candidates("validation", _model(30))
    _costs(pipe, {10: 100.0, 30: 1.0})  # the older set is the dearer one
    pipe.candidates("validation", _model(50))
    assert len(pipe._candidates) == 2 and pipe.cache_bytes <= 2.5 * one
    assert ("validation", _model(10)) in pipe._candidates  # LRU would have dropped it
    pipe.candidates("validation", _model(10))
    pipe.candidates("validation", _model(50))
    assert pipe.fits == 3  # both kept sets served without a refit
    pipe.candidates("validation", _model(30))
    assert pipe.fits == 4  # the cheap one was evicted and refits


def test_equal_costs_evict_the_least_recently_used(ml100k, ml100k_split):
    pipe = Pipeline(ml100k, ml100k_split, 10, 40)
    one = pipe.candidates("validation", _model(10)).nbytes
    pipe.cache_limit = int(2.5 * one)
    pipe.candidates("validation", _model(30))
    _costs(pipe, {10: 1.0, 30: 1.0})
    pipe.candidates("validation", _model(10))  # a hit makes it the recent one
    pipe.candidates("validation", _model(50))
    assert set(pipe._candidates) == {("validation", _model(10)), ("validation", _model(50))}


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
