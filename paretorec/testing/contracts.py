"""Contract checks every plug-in must pass, one function per kind of plug-in.

The test suite calls them for everything registered (``tests/contracts``), so a plug-in that
joins a registry is tested without editing a test; a plug-in written outside paretorec can
call them from its own tests::

    from paretorec.testing import check_model
    check_model("mymodel")

Each check raises ``AssertionError`` with what broke. They run on a small synthetic dataset
(``fixture_dataset``) or a known test problem (ZDT1), in seconds.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
import warnings
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from pymoo.indicators.igd import IGD

from paretorec import names
from paretorec.config import DataConfig, SearchConfig, SplitConfig
from paretorec.data import Dataset, Split, holdout_split
from paretorec.data.synthetic import generate
from paretorec.errors import DataWarning
from paretorec.export.point import OperatingPoint
from paretorec.metrics import METRICS, ListContext, Truth, parse_metric
from paretorec.models import MODELS, FitData, SideInfo
from paretorec.models.base import generate_candidates
from paretorec.objectives import column, front_mask, make_objective
from paretorec.optimize import ALGORITHMS, engine
from paretorec.optimize.rundir import RunDir
from paretorec.optimize.testproblems import TestProblem
from paretorec.registry import declared_params
from paretorec.rerank import TERMS, RerankSettings
from paretorec.select import SELECTORS, FrontView, build_selector
from paretorec.space import parse_space
from paretorec.study import Candidate, Pipeline

K = 10  # list length of the fixture's lists
POOL = 50  # candidates per user the term checks re-rank


@cache
def fixture_dataset() -> tuple[Dataset, Split]:
    """A small synthetic dataset with ratings, genres and timestamps, and its split."""
    dataset = generate(n_users=150, n_items=220, n_interactions=6000, n_genres=8, seed=5)
    return dataset, holdout_split(dataset.interactions, 0.2, 0.2, 3)


def _defaults(model: str) -> dict[str, Any]:
    return {p.name: p.default for p in declared_params(MODELS.get(model))}


def _check_declarations(cls: type, label: str) -> None:
    for p in declared_params(cls):
        p.check(p.default, f"{label}.{p.name}")  # the default satisfies its own invariant
        assert p.help, f"{label}.{p.name}: a parameter needs a line of help"
        if isinstance(p.search, Mapping):  # the default search range holds valid values
            space = parse_space({names.MODEL: "x", "p": p.search})
            for bound in (space.lower("p"), space.upper("p")):
                p.check(bound, f"{label}.{p.name}")


def check_model(name: str, params: Mapping[str, Any] | None = None) -> None:
    """A registered model fits, ranks exactly by its own scores (ties to the lower item index,
    training items excluded), fits deterministically, has a cost model, and round-trips
    through an exported operating point.

    Args:
        name: The registered name.
        params: Hyperparameters to check with (default: its declared defaults).
    """
    cls = MODELS.get(name)
    assert cls.name == name, f"model `{name}` is registered under another name ({cls.name})"
    _check_declarations(cls, name)
    entry = MODELS.entry(name)
    assert entry.description, f"model `{name}` needs a docstring (its description)"
    model = MODELS.get(name).create(dict(params or _defaults(name)))
    dataset, split = fixture_dataset()
    side = SideInfo.of(dataset)
    cls.check_data(side)
    data = FitData.of(split.train, side)
    users = np.arange(dataset.n_users, dtype=np.int32)
    scorer = model.fit(data)
    scores = np.array(scorer.score(users), dtype=np.float64)
    assert scores.shape == (dataset.n_users, dataset.n_items), f"{name}: score shape {scores.shape}"
    assert not np.isnan(scores).any(), f"{name}: NaN scores"
    got = generate_candidates(scorer, data.X, users, 30)
    seen = data.X.toarray() > 0
    expected_items = np.full((len(users), 30), -1)
    for u in users:  # the definition, user by user: best score first, then the lower item
        free = np.flatnonzero(~seen[u] & np.isfinite(scores[u]))
        order = free[np.lexsort((free, -scores[u, free]))][:30]
        expected_items[u, : len(order)] = order
    assert np.array_equal(got.items, expected_items), f"{name}: top-C differs from its scores"
    again = generate_candidates(model.fit(FitData.of(split.train, side)), data.X, users, 30)
    assert np.array_equal(again.items, got.items), f"{name}: two fits rank differently"
    assert np.array_equal(again.scores, got.scores), f"{name}: two fits score differently"
    history = data.history_length[users]
    for pool in (10, 30):
        ops = np.asarray(model.scoring_ops(history, dataset.n_items, pool), dtype=np.float64)
        assert ops.shape == (len(users),), f"{name}: scoring_ops must give one count per user"
        assert np.isfinite(ops).all() and (ops >= 0).all(), f"{name}: bad operation counts"
    more = model.scoring_ops(history, dataset.n_items, 30)
    assert (more >= model.scoring_ops(history, dataset.n_items, 10)).all(), (
        f"{name}: a larger pool cannot cost less"
    )
    candidate = Candidate(model, RerankSettings.of(20, diversity=0.1, novelty=0.2))
    point = OperatingPoint(candidate, K, DataConfig(), "sha256:x", SplitConfig(), 0)
    assert OperatingPoint.from_dict(point.to_dict()).candidate == candidate, (
        f"{name}: the exported point does not reload into the same candidate"
    )
    assert Candidate.from_values(candidate.values()) == candidate


def check_term(name: str, params: Mapping[str, Any] | None = None, large: float = 5.0) -> None:
    """A registered re-rank term leaves every list as it is at weight 0, and at a large weight
    moves its own metric (``Term.metric``) its own way on the fixture, for popularity or
    ItemKNN candidates (a term can only reorder a pool: popularity's top 50 may hold nothing
    it favours, as for a long-tail bonus).

    Args:
        name: The registered name.
        params: Its parameters other than the weight (default: declared defaults).
        large: The weight that must move the metric.
    """
    cls = TERMS.get(name)
    assert cls.name == name, f"term `{name}` is registered under another name ({cls.name})"
    _check_declarations(cls, names.term_param(name))
    weight = next((p for p in declared_params(cls) if p.name == "weight"), None)
    assert weight is not None and weight.default == 0.0, f"term `{name}`: weight default 0 = off"
    metric = METRICS.get(cls.metric)  # its own metric is registered
    ref = parse_metric(f"{metric.name}@{K}" if metric.at_k else metric.name)
    dataset, split = fixture_dataset()
    pipeline = Pipeline(dataset, split, K, POOL)
    extra = dict(params or {})
    moves = []
    for model in ("popularity", "itemknn"):
        base = {names.MODEL: model, names.POOL_NAME: POOL}
        plain = pipeline.recommend("validation", Candidate.from_values(base))
        off = Candidate.from_values({**base, **_term_values(name, 0.0, extra)})
        lists = pipeline.recommend("validation", off)
        assert np.array_equal(lists.items, plain.items), f"{name}: weight 0 changed the lists"
        on = Candidate.from_values({**base, **_term_values(name, large, extra)})
        moved = pipeline.recommend("validation", on)
        before = ref.compute(pipeline.context("validation", plain))[0]
        after = ref.compute(pipeline.context("validation", moved))[0]
        better = after > before if metric.direction == "max" else after < before
        moves.append((better, f"{model}: {before:.4g} -> {after:.4g}"))
    assert any(better for better, _ in moves), (
        f"{name}: weight {large} did not improve {ref.name} ({'; '.join(m for _, m in moves)})"
    )


def _term_values(term: str, weight: float, extra: Mapping[str, Any]) -> dict[str, Any]:
    out = {names.term_param(term): weight}
    out.update({names.term_param(term, k): v for k, v in extra.items()})
    return out


def check_metric(name: str) -> None:
    """A registered metric: values within its declared bounds, NaN (not a number pretending
    to be a score) for users it cannot score, one value per user or one for the set, the
    same value when users are permuted, and a consistent anchor declaration."""
    metric = METRICS.get(name)
    assert metric.name == name and metric.direction in ("max", "min"), name
    assert metric.description, f"metric `{name}` needs a description"
    ref = parse_metric(f"{name}@{K}" if metric.at_k else name)
    dataset, split = fixture_dataset()
    pipeline = Pipeline(dataset, split, K, POOL)
    for values in (
        {names.MODEL: "popularity", names.POOL_NAME: K},
        {names.MODEL: "itemknn", names.POOL_NAME: 30, names.term_param("diversity"): 0.3},
    ):
        ctx = pipeline.context("validation", pipeline.recommend("validation", _cand(values)))
        raw = metric.fn(ctx, ref.k or 0)
        per_user = np.ndim(raw) > 0
        if per_user:
            raw = np.asarray(raw, dtype=np.float64)
            assert raw.shape == (ctx.truth.n_users,), f"{name}: one value per user"
            present = raw[~np.isnan(raw)]
        else:
            present = np.array([float(raw)])
        lo, hi = metric.value_range
        assert np.isfinite(present).all(), f"{name}: infinite values"
        if lo is not None:
            assert (present >= lo - 1e-12).all(), f"{name}: values below {lo}"
        if hi is not None:
            assert (present <= hi + 1e-12).all(), f"{name}: values above {hi}"
        if per_user:  # NaN policy: a user without held-out items is NaN, never a 0 score
            empty = _without_truth(ctx, row=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                value = np.asarray(metric.fn(empty, ref.k or 0), dtype=np.float64)[0]
            assert np.isnan(value) or value == raw[0] or (np.isnan(raw[0]) and np.isnan(value)), (
                f"{name}: a user without held-out items got {value}, not NaN"
            )
        if metric.deterministic:
            mean, count = ref.compute(ctx)
            rows = np.random.default_rng(0).permutation(ctx.truth.n_users)
            shuffled, count2 = ref.compute(ctx.take(rows))
            assert count == count2 and (
                math.isclose(mean, shuffled, rel_tol=1e-12, abs_tol=1e-12)
                or (math.isnan(mean) and math.isnan(shuffled))
            ), f"{name}: the value depends on the order of users"
    if metric.anchor == "natural":
        assert metric.worst is not None, f"{name}: a natural anchor needs `worst`"


def _without_truth(ctx: ListContext, row: int) -> ListContext:
    """The same lists with one user's held-out items removed."""
    matrix = ctx.truth.matrix.tolil(copy=True)
    matrix.rows[row], matrix.data[row] = [], []
    truth = Truth(ctx.truth.users, matrix.tocsr(), ctx.truth.rating_scale)
    return ListContext(ctx.lists, truth, ctx.reference, ctx.ops, ctx.ms_per_user)


def _cand(values: dict[str, Any]) -> Candidate:
    return Candidate.from_values(values)


def check_selector(name: str, params: Mapping[str, Any] | None = None) -> None:
    """A registered selector picks a row of the front, deterministically, with a reason, on
    random two- and three-objective fronts; a single-point front gives that point."""
    cls = SELECTORS.get(name)
    _check_declarations(cls, name)
    rng = np.random.default_rng(1)
    for m in (2, 3):
        objectives = tuple(
            make_objective(n) for n in ("ndcg@10", "satisfaction@10", "coverage@10")[:m]
        )
        for size in (1, 2, 7, 25):
            natural = rng.random((size * 3, m))
            F = -natural  # all maximised
            keep = front_mask(F)
            view = FrontView(F[keep], natural[keep], objectives)
            selector = build_selector(name, **dict(params or cls.example_params(objectives)))
            pick = selector.pick(view)
            assert 0 <= pick.index < len(view.F), f"{name}: index {pick.index} off the front"
            assert isinstance(pick.reason, str) and pick.reason, f"{name}: no reason given"
            assert selector.pick(view) == pick, f"{name}: not deterministic"


def check_algorithm(name: str) -> None:
    """A registered algorithm, through the engine on ZDT1 (five variables): seeded (two runs
    identical), its final front no worse in IGD than its first generation's, and a run
    resumed after losing its last generation identical to an uninterrupted one."""
    ALGORITHMS.require(name)
    problem = TestProblem("zdt1", n_var=5)
    search = SearchConfig(algorithm=name, population=12, generations=6, seed=2)
    first = engine.run(problem, search)
    again = engine.run(problem, search)
    F1, F2 = (_objectives(problem, r.records) for r in (first, again))
    assert len(F1) == 72, f"{name}: {len(F1)} evaluations instead of 72"
    assert np.array_equal(F1, F2), f"{name}: the same seed gave different runs"
    igd = IGD(problem.problem.pareto_front())
    start = igd(F1[:12][front_mask(F1[:12])])
    final = igd(F1[front_mask(F1)])
    assert np.isfinite(final) and final <= start, f"{name}: IGD went from {start} to {final}"
    with tempfile.TemporaryDirectory() as tmp:
        rd = RunDir(Path(tmp) / "run")
        config = {"algorithm": name}
        with rd.locked():
            rd.run(problem, search, config, rd.check_start(config, False))
        with sqlite3.connect(rd.file("trials.sqlite")) as db:  # as if killed in generation 6
            db.execute("DELETE FROM trials WHERE generation = 6")
            db.execute("DELETE FROM history WHERE generation = 6")
        with rd.locked():
            resumed = rd.run(problem, search, config, rd.check_start(config, True))
        assert resumed.stats["evaluated_in_this_session"] == 12, f"{name}: resume repeated work"
        assert np.array_equal(_objectives(problem, resumed.records), F1), (
            f"{name}: the resumed run differs from an uninterrupted one"
        )


def _objectives(problem: TestProblem, records: list) -> np.ndarray:
    cols = [column("validation", o.name) for o in problem.objectives]
    return np.array([[r.results[c] for c in cols] for r in records])
