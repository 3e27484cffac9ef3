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


def test_the_cache_is_bounded_by_memory(ml100k, ml100k_split):
    pipe = Pipeline(ml100k, ml100k_split, 10, 40)
    one = pipe.candidates("validation", Candidate.from_values(POINT).model).nbytes
    pipe.cache_limit = int(2.5 * one)
    for k in (10, 30, 50, 60):
        model = Candidate.from_values({**POINT, "itemknn.k": k}).model
        pipe.candidates("validation", model)
    assert len(pipe._candidates) == 2 and pipe.cache_bytes <= 2.5 * one
    pipe.candidates("validation", Candidate.from_values({**POINT, "itemknn.k": 60}).model)
    assert pipe.fits == 5  # the newest one is still cached
    pipe.candidates("validation", Candidate.from_values(POINT).model)
    assert pipe.fits == 6  # the oldest was evicted and refits


def test_memos_grown_after_the_fit_count_towards_the_cache(ml100k, ml100k_split):
    pipe = Pipeline(ml100k, ml100k_split, 10, 40)
    candidate = Candidate.from_values(POINT)
    pipe.recommend("validation", candidate)
    before = pipe.cache_bytes
    for pool in range(10, 41):
        values = {**POINT, "rerank.pool": pool}
        pipe.recommend("validation", Candidate.from_values(values))
    assert pipe.cache_bytes > before > 0
