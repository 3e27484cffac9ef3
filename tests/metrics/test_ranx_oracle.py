"""precision, recall, NDCG and hit rate agree with ranx on real ML-100k lists."""

import numpy as np
import pytest
from ranx import Qrels, Run, evaluate

from paretorec.metrics import parse_metric
from paretorec.pipeline import Candidate, Pipeline

pytestmark = pytest.mark.filterwarnings("ignore::numba.NumbaTypeSafetyWarning")


@pytest.fixture(scope="module")
def lists_and_context(ml100k, ml100k_split):
    pipeline = Pipeline(ml100k, ml100k_split, 10, 50)
    cand = Candidate.from_values(
        {"model": "itemknn", "itemknn.k": 40, "rerank.pool": 30, "rerank.diversity": 0.3}
    )
    lists = pipeline.recommend("validation", cand)
    return lists, pipeline.context("validation", lists)


def test_ranking_metrics_agree_with_ranx(lists_and_context):
    lists, ctx = lists_and_context
    truth = ctx.truth
    qrels, run = {}, {}
    for row, user in enumerate(truth.users):
        lo, hi = truth.matrix.indptr[row], truth.matrix.indptr[row + 1]
        qrels[f"u{user:06d}"] = {f"i{i}": 1 for i in truth.matrix.indices[lo:hi]}
        run[f"u{user:06d}"] = {f"i{i}": float(10 - r) for r, i in enumerate(lists.items[row])}
    for ours, theirs in [
        ("precision@10", "precision@10"),
        ("recall@10", "recall@10"),
        ("ndcg@10", "ndcg@10"),
        ("hit@10", "hit_rate@10"),
        ("ndcg@5", "ndcg@5"),
        ("recall@3", "recall@3"),
    ]:
        ranx_run = Run(run)
        evaluate(Qrels(qrels), ranx_run, theirs)
        expected = np.array([ranx_run.scores[theirs][f"u{u:06d}"] for u in truth.users])
        got = parse_metric(ours).metric.fn(ctx, parse_metric(ours).k)
        assert np.allclose(got, expected, rtol=0, atol=1e-9), ours
        value, n = parse_metric(ours).compute(ctx)
        assert n == truth.n_users and abs(value - np.mean(expected)) < 1e-9
