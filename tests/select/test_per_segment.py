"""Per-segment operating points: segment definitions, the choice within each segment, the
export's round trip and validation, serving by segment, and the test comparison.

Oracles: hand-made fronts whose per-segment answer is known; ``segment_metrics`` (the
``evaluate --segments`` breakdown) for the per-segment scores; each segment's own point
served alone for the lists served by segment; hand-computed differences for the comparison.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from paretorec.cli import main
from paretorec.config import DataConfig, SplitConfig
from paretorec.errors import ConfigError
from paretorec.export import OperatingPoint, load_point, recommender, save_point
from paretorec.export.segment_evaluate import evaluate_segments
from paretorec.export.segment_select import FrontPoint, PerUserCache, _score
from paretorec.export.segments import SegmentPlan, SegmentPoint, segment_lists
from paretorec.metrics import parse_metric
from paretorec.metrics.segments import segment_metrics
from paretorec.models import build_model
from paretorec.objectives import make_objective
from paretorec.rerank import RerankSettings
from paretorec.select import build_selector
from paretorec.select.segments import Segmentation, define, pick_per_segment, terciles
from paretorec.study import Candidate, Pipeline
from tests.conftest import REPO
from tests.test_cli import run_cli

NDCG = make_objective("ndcg@10", "max")
APLT = make_objective("aplt@10", "max")
COST = make_objective("cost", "min", worst=1e6)


# --- segment definitions -------------------------------------------------------------------


def test_bands_put_a_value_at_a_cut_in_the_lower_band():
    seg = Segmentation("activity", cuts=(20.0, 100.0))
    assert seg.names == ("cold", "medium", "heavy")
    codes = seg.assign(np.array([0, 19, 20, 21, 100, 101, 5000]))
    assert codes.tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert Segmentation("activity", cuts=(5.0,)).names == ("cold", "heavy")
    age = Segmentation("age", cuts=(24.0, 34.5))
    assert age.names == ("age<=24", "24<age<=34.5", "age>34.5")
    assert age.assign(np.array([24, 25, np.nan], dtype=float)).tolist() == [0, 1, -1]


def test_default_cuts_are_terciles_with_ties_merged():
    x = np.arange(1, 10)  # 1..9: a third at or below 3, two thirds at or below 6
    assert terciles(x) == (3.0, 6.0)
    assert terciles(np.array([1, 1, 1, 1, 1, 2])) == (1.0,)  # a last band would be empty
    with pytest.raises(ConfigError, match="same value"):
        terciles(np.array([4, 4, 4]))


def test_labels_are_segments_and_unknown_or_missing_labels_have_none():
    seg = define("occupation", np.array(["b", "a", "b", None, "c", "a", "b"], dtype=object))
    assert seg.labels == ("b", "a", "c")  # most users first
    codes = seg.assign(np.array(["a", "c", "zzz", None], dtype=object))
    assert codes.tolist() == [1, 2, -1, -1]
    with pytest.raises(ConfigError, match="--cuts applies to numbers"):
        define("occupation", np.array(["a", "b"], dtype=object), [1.0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cuts": (5.0, 5.0)}, "must increase"),
        ({"cuts": (float("inf"),)}, "finite cut points"),
        ({"cuts": (1.0,), "labels": ("a",)}, "either cut points or labels"),
        ({"labels": ("a", "a")}, "listed twice"),
        ({"labels": ("a\nb",)}, "printable"),
    ],
)
def test_bad_definitions_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Segmentation("x", **kwargs)


# --- the choice within each segment: hand-made fronts --------------------------------------

# Three front points, two objectives (NDCG up, APLT up). On cold users A dominates B and C;
# on heavy users B dominates A and C; over everyone none dominates another.
FRONT = {
    "cold": np.array([[0.30, 0.50], [0.20, 0.40], [0.10, 0.45]]),  # A, B, C
    "heavy": np.array([[0.40, 0.10], [0.60, 0.20], [0.50, 0.15]]),
}


@pytest.mark.parametrize("method", ["knee", "utopia", "weights"])
def test_the_dominant_point_of_each_segment_is_chosen_whatever_the_selector(method):
    picks = pick_per_segment(
        FRONT, {"cold": 100, "heavy": 100}, (NDCG, APLT), build_selector(method), overall=2
    )
    assert picks["cold"].index == 0 and picks["heavy"].index == 1
    assert "1 of 3 front points are non-dominated" in picks["cold"].reason
    assert picks["heavy"].natural.tolist() == [0.60, 0.20]


def test_the_knee_of_a_segment_is_its_own():
    # cold: a convex front whose knee is the middle point; heavy: the same points mirrored
    natural = {
        "cold": np.array([[1.0, 0.0], [0.9, 0.9], [0.0, 1.0]]),
        "heavy": np.array([[0.5, 0.5], [0.0, 0.0], [0.4, 0.6]]),
    }
    picks = pick_per_segment(
        natural, {"cold": 60, "heavy": 60}, (NDCG, APLT), build_selector("knee"), overall=0
    )
    assert picks["cold"].index == 1
    assert picks["heavy"].index in (0, 2)  # point 1 is dominated on heavy users: never it


def test_a_small_segment_gets_the_overall_point():
    picks = pick_per_segment(
        FRONT, {"cold": 49, "heavy": 50}, (NDCG, APLT), build_selector("knee"), 2, min_users=50
    )
    assert picks["cold"].index is None and picks["cold"].method == "overall"
    assert "49 users" in picks["cold"].reason
    assert picks["cold"].natural.tolist() == FRONT["cold"][2].tolist()
    assert picks["heavy"].index == 1


def test_constraints_apply_within_the_segment_and_name_it_when_unmet():
    selector = build_selector("constraint", minimums=("ndcg@10=0.55",), then="max aplt@10")
    with pytest.raises(ConfigError, match="segment `cold` \\(100 users\\): no front point"):
        pick_per_segment(FRONT, {"cold": 100, "heavy": 100}, (NDCG, APLT), selector, 0)


# --- scoring the front on segments, exporting, serving -------------------------------------


def _candidate(model: str, params: dict, pool: int, **weights: float) -> Candidate:
    return Candidate(build_model(model, params), RerankSettings.of(pool=pool, **weights))


CANDIDATES = [
    _candidate("popularity", {}, 10),
    _candidate("itemknn", {"k": 20}, 20),
    _candidate("itemknn", {"k": 20}, 20, novelty=0.5),
]


@pytest.fixture(scope="module")
def pipeline(ml100k, ml100k_split) -> Pipeline:
    return Pipeline(ml100k, ml100k_split, 10, 20)


def test_segment_scores_equal_the_evaluate_breakdown(pipeline, tmp_path):
    objectives = (NDCG, make_objective("coverage@10", "max"), COST)  # coverage is set-level
    refs = [parse_metric(o.name) for o in objectives]
    data = pipeline.stage("validation")
    activity = data.fit.history_length[data.users]
    seg = define("activity", activity)
    codes = seg.assign(activity)
    rows = {n: np.flatnonzero(codes == i) for i, n in enumerate(seg.names)}
    front = [FrontPoint(i, c, {}) for i, c in enumerate(CANDIDATES)]
    cache = PerUserCache(tmp_path / "c.npz", "scope", data.users)
    natural, overall = _score(pipeline, front, objectives, rows, cache, None)
    cache.save()
    for i, candidate in enumerate(CANDIDATES):
        ctx = pipeline.context("validation", pipeline.recommend("validation", candidate))
        report = segment_metrics(ctx, refs, boundaries=(int(seg.cuts[0]), int(seg.cuts[1])))
        for name in seg.names:
            for j, ref in enumerate(refs):
                assert natural[name][i, j] == pytest.approx(report.values[name][ref.name][0])
        assert overall[i, 0] == ref_mean(refs[0], ctx)
    # a second scoring reads the per-user values from the cache: no re-rank, same numbers
    again = PerUserCache(tmp_path / "c.npz", "scope", data.users)
    assert again.get(CANDIDATES[1], "ndcg@10") is not None
    assert again.get(CANDIDATES[1], "coverage@10") is None  # set-level values are not kept
    other = PerUserCache(tmp_path / "c.npz", "other scope", data.users)
    assert other.get(CANDIDATES[1], "ndcg@10") is None


def ref_mean(ref, ctx) -> float:
    return ref.compute(ctx)[0]


def _plan() -> SegmentPlan:
    seg = Segmentation("activity", cuts=(25.0, 70.0))
    points = {
        name: SegmentPoint(c, trial, {"method": "knee", "reason": "r"}, 10, {"ndcg@10": 0.1})
        for name, c, trial in zip(seg.names, CANDIDATES, (4, 5, 6), strict=True)
    }
    return SegmentPlan(seg, points, {"ndcg@10": "max", "cost": "min"}, 50, "given")


def _point(checksum: str, plan: SegmentPlan | None) -> OperatingPoint:
    split = SplitConfig(method="holdout", test=0.2, validation=0.2, seed=42)
    return OperatingPoint(
        CANDIDATES[1], 10, DataConfig(), checksum, split, 0, run={"trial": 5}, segments=plan
    )


def test_serving_by_segment_equals_serving_each_segments_point(pipeline, ml100k):
    plan = _plan()
    lists, codes = segment_lists(pipeline, "test", CANDIDATES[1], plan)
    data = pipeline.stage("test")
    activity = data.fit.history_length[data.users]
    assert codes.tolist() == np.searchsorted([25, 70], activity, side="left").tolist()
    for code, candidate in enumerate(CANDIDATES):
        alone = pipeline.recommend("test", candidate)
        rows = codes == code
        assert rows.any()
        np.testing.assert_array_equal(lists.items[rows], alone.items[rows])
        np.testing.assert_array_equal(lists.ops[rows], alone.ops[rows])
        np.testing.assert_array_equal(lists.judged.hit[rows], alone.judged.hit[rows])
    # the exported point served through the Recommender gives the same lists
    served = recommender(_point(ml100k.checksum, plan), "run")
    np.testing.assert_array_equal(served.lists().items, lists.items)
    with pytest.raises(ConfigError, match="evaluate"):
        served.reproduce()


def test_a_user_unseen_in_training_is_cold():
    plan = _plan()
    assert plan.segmentation.assign(np.array([0]))[0] == 0
    assert plan.segmentation.names[0] == "cold"


def test_the_export_round_trips_and_old_files_still_load(tmp_path):
    point = _point("sha256:abc", _plan())
    again = load_point(save_point(point, tmp_path / "p.json"))
    assert again.segments == point.segments
    assert again.candidate == point.candidate
    raw = json.loads((tmp_path / "p.json").read_text())
    assert raw["schema_version"] == 1 and raw["segments"]["cuts"] == [25, 70]
    assert raw["segments"]["definition"].startswith("cold: activity <= 25;")
    old = load_point(REPO / "results" / "ml100k" / "chosen.json")  # made before segments
    assert old.segments is None
    assert "segments" not in _point("sha256:abc", None).to_dict()


def _damaged(tmp_path: Path, change) -> Path:
    raw = _point("sha256:abc", _plan()).to_dict()
    change(raw["segments"])
    path = tmp_path / "p.json"
    path.write_text(json.dumps(raw))
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.update(cuts=[70, 25]), "field `segments`: .*must increase"),
        (lambda s: s.update(cuts=["a"]), "field `segments.cuts\\[0\\]` must be a finite number"),
        (lambda s: s.update(cuts=None), "either cut points or labels"),
        (lambda s: s["points"].pop("heavy"), "field `segments.points.heavy` is missing"),
        (lambda s: s["points"].update(extra={}), "segments.points.extra`: not a segment"),
        (lambda s: s.update(points=[]), "field `segments.points` must be a table"),
        (lambda s: s["points"]["cold"]["model"].update(name="nosuch"), "segments.points.cold"),
        (lambda s: s["points"]["cold"].update(pool=3), "unknown field `segments.points.cold"),
        (lambda s: s["points"]["medium"]["run"].update(trial="5"), "run.trial` must be an int"),
        (lambda s: s["objectives"].update(cost="down"), "must be `max` or `min`"),
        (lambda s: s.update(min_users=0), "field `segments.min_users`"),
        (lambda s: s.update(by=7), "field `segments.by` must be a string"),
        (lambda s: s.update(colour="red"), "unknown field `segments.colour`"),
        (lambda s: s["points"]["heavy"]["values"].update(test={}), "segments.points.heavy.values"),
    ],
)
def test_a_damaged_segments_table_is_refused_naming_the_field(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_point(_damaged(tmp_path, change))
    assert str(info.value).startswith(str(tmp_path / "p.json"))
    assert "\n" not in str(info.value)


def test_the_comparison_is_zero_where_a_segment_keeps_the_single_point(ml100k):
    point = _point(ml100k.checksum, _plan())  # medium keeps the single point (CANDIDATES[1])
    result = evaluate_segments(point, "p.json", resamples=50, seed=0)
    rows = {(r["group"], r["metric"]): r for r in result.rows}
    medium = rows[("medium", "ndcg@10")]
    assert medium["difference"] == 0 and medium["verdict"] == "same"
    # overall: the users-weighted mean of the segments' differences (per-user metric)
    users = {g: rows[(g, "ndcg@10")]["users"] for g in ("cold", "medium", "heavy")}
    weighted = sum(rows[(g, "ndcg@10")]["difference"] * n for g, n in users.items())
    assert rows[("all", "ndcg@10")]["difference"] == pytest.approx(weighted / sum(users.values()))
    assert rows[("all", "ndcg@10")]["users"] == sum(users.values())
    assert "| medium |" in result.markdown() and json.loads(result.to_json())["rows"]


# --- the command line ----------------------------------------------------------------------

TINY = """
name = "segments"
[data]
dataset = "ml-100k"
[evaluation]
k = 10
[search]
population = 4
generations = 2
seed = 5
[space]
model = ["popularity", "itemknn"]
"itemknn.k" = { low = 10, high = 50, levels = 2 }
"rerank.pool" = { low = 10, high = 20 }
"rerank.diversity" = { low = 0.0, high = 1.0 }
"""


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, data_dir) -> Path:
    root = tmp_path_factory.mktemp("segments")
    (root / "tiny.toml").write_text(TINY)
    main(["tune", str(root / "tiny.toml"), "--out", str(root / "run"), "--quiet"])
    return root / "run"


def test_select_recommend_and_evaluate_per_segment(tiny_run, tmp_path, capsys, data_dir):
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    code, out, err = run_cli(
        [
            "select",
            run,
            "--per-segment",
            "activity",
            "--cuts",
            "30,80",
            "--scores",
            tmp_path / "s.csv",
        ],
        capsys,
    )
    assert code == 0, err
    assert "cold: activity <= 30; medium: 30 < activity <= 80; heavy: activity > 80" in out
    chosen = run / "chosen_per_segment.json"
    point = load_point(chosen)
    assert point.segments is not None and point.segments.segmentation.cuts == (30.0, 80.0)
    assert list(point.segments.points) == ["cold", "medium", "heavy"]
    code, out, err = run_cli(
        ["recommend", chosen, "--out", tmp_path / "r.csv", "--fit-on", "run"], capsys
    )
    assert code == 0, err
    assert "served by segment (activity): cold " in out
    code, out, err = run_cli(
        ["evaluate", chosen, "--bootstrap", "20", "--out", tmp_path / "ev"], capsys
    )
    assert code == 0, err
    table = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    assert {r["group"] for r in table["rows"]} == {"cold", "medium", "heavy", "all"}


def test_demographic_segments_need_the_flag(tiny_run, tmp_path, capsys):
    code, _, err = run_cli(["select", tiny_run, "--per-segment", "age"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--allow-demographic" in err
    assert not (tiny_run / "chosen_per_segment.json").exists()
    out = tmp_path / "occ.json"
    code, _, err = run_cli(
        [
            "select",
            tiny_run,
            "--per-segment",
            "occupation",
            "--allow-demographic",
            "--min-users",
            "60",
            "--out",
            out,
        ],
        capsys,
    )
    assert code == 0, err
    plan = load_point(out).segments
    assert plan.segmentation.labels[0] == "student"  # the largest group of ML-100k users
    small = [p for p in plan.points.values() if p.selection["method"] == "overall"]
    assert small and all(p.users < 60 for p in small)


def test_the_comparison_on_validation_and_its_bad_metrics(ml100k):
    point = _point(ml100k.checksum, _plan())
    result = evaluate_segments(
        point, "p.json", [parse_metric("recall@10")], resamples=20, stage="validation"
    )
    assert result.meta["stage"] == "validation" and "(validation)" in result.markdown()
    assert {r["metric"] for r in result.rows} == {"recall@10"}
    with pytest.raises(ConfigError, match="k <= 10"):
        evaluate_segments(point, "p.json", [parse_metric("ndcg@20")])
    with pytest.raises(ConfigError, match="not a per-segment export"):
        evaluate_segments(_point(ml100k.checksum, None), "p.json")
