"""Every ranking metric agrees with ranx per user (1e-9) on real ML-100k and ml-latest-small."""

import numpy as np
import pytest
from ranx import Qrels, Run, evaluate

from paretorec.metrics import parse_metric

pytestmark = pytest.mark.filterwarnings("ignore::numba.NumbaTypeSafetyWarning")

# ours -> ranx; hit is ranx's hit_rate
RANKING = {
    "precision": "precision",
    "recall": "recall",
    "f1": "f1",
    "ndcg": "ndcg",
    "map": "map",
    "mrr": "mrr",
    "hit": "hit_rate",
}


def _ranx_per_user(ctx, cutoffs):
    """ranx's per-user scores of every ranking metric at every cut-off, in ``ctx``'s row order."""
    truth = ctx.truth
    qrels, run = {}, {}
    width = ctx.lists.shape[1]
    for row, user in enumerate(truth.users):
        lo, hi = truth.matrix.indptr[row], truth.matrix.indptr[row + 1]
        qrels[f"u{user:06d}"] = {f"i{i}": 1 for i in truth.matrix.indices[lo:hi]}
        # distinct descending scores give ranx our order; -1 pads are simply not retrieved
        items = ctx.lists[row]
        run[f"u{user:06d}"] = {f"i{i}": float(width - r) for r, i in enumerate(items) if i >= 0}
    names = [f"{theirs}@{k}" for theirs in RANKING.values() for k in cutoffs]
    ranx_run = Run(run)
    evaluate(Qrels(qrels), ranx_run, names)
    return {
        name: np.array([ranx_run.scores[name][f"u{u:06d}"] for u in truth.users]) for name in names
    }


def _check(ctx, cutoffs):
    expected = _ranx_per_user(ctx, cutoffs)
    for ours, theirs in RANKING.items():
        for k in cutoffs:
            ref = parse_metric(f"{ours}@{k}")
            want = expected[f"{theirs}@{k}"]
            got = ref.metric.fn(ctx, k)
            assert got.shape == want.shape
            assert np.allclose(got, want, rtol=0, atol=1e-9), (ref.name, np.abs(got - want).max())
            value, n = ref.compute(ctx)
            assert n == ctx.truth.n_users and abs(value - want.mean()) < 1e-9, ref.name


def test_ranking_metrics_agree_with_ranx_on_ml100k(ml100k_ctx):
    # k = 15 is beyond the lists' 10 slots: ranx still divides precision by 15
    _check(ml100k_ctx, (1, 3, 5, 10, 15))


def test_ranking_metrics_agree_with_ranx_on_ml_latest_small(mlsmall_ctx):
    # a fifth of these lists end after 15 items (-1 pads), so k = 20 reads short lists
    assert (mlsmall_ctx.lists < 0).any()
    _check(mlsmall_ctx, (1, 5, 10, 20))


def test_the_oracle_is_not_trivial(ml100k_ctx, mlsmall_ctx):
    """Hits at several ranks and users without hits: a wrong convention would show."""
    for ctx in (ml100k_ctx, mlsmall_ctx):
        hit = ctx.judged.hit
        assert 0 < hit.any(axis=1).mean() < 1
        assert (hit.sum(axis=1) >= 2).any() and hit[:, 0].any() and hit[:, 5:].any()
        assert (ctx.truth.n_relevant > 10).any()  # MAP's R vs min(k, R) matters
