"""``paretorec evaluate CHOSEN`` on a per-segment export: per-segment selection against the
single chosen point, on test, paired over the same users.

Both are fitted on train + validation and scored on the test users. Serving by segment gives
each user its segment's point; the single point serves everyone. The difference
(per-segment - single) of every metric comes with a paired bootstrap 95% interval and a paired
t-test p-value (``paretorec.metrics.stats.compare``), within each segment and over all users.
Where a segment's point is the single point, its difference is exactly 0.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from paretorec.errors import ConfigError
from paretorec.export.point import OperatingPoint
from paretorec.export.recommender import point_pipeline
from paretorec.export.segments import segment_lists
from paretorec.metrics import MetricRef, parse_metric
from paretorec.metrics.stats import compare


@dataclass(frozen=True)
class SegmentEvaluation:
    """Per-segment selection against the single point.

    Attributes:
        rows: One dict per (group, metric): group (a segment, ``unassigned`` or ``all``),
            users, the point serving it, single and per-segment means, the difference with its
            interval, p-value and whether the interval excludes 0, and which is better.
        meta: The export, the segmentation, resamples and seed.
    """

    rows: list[dict[str, Any]]
    meta: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"meta": self.meta, "rows": _finite(self.rows)}, indent=2) + "\n"

    def markdown(self) -> str:
        m = self.meta
        out = [
            f"# Per-segment operating points against the single chosen point ({m['stage']})",
            "",
            f"Export `{m['chosen']}`; segments by {m['by']}: {m['definition']}. Scored on the "
            f"{m['users']} {m['stage']} users ({_fitted(m['stage'])}); "
            f"difference = per-segment - single, paired 95% bootstrap interval over users "
            f"({m['resamples']} resamples, seed {m['seed']}) and paired t-test p-value.",
            "",
            "| segment | users | served by | metric | single | per-segment | difference | "
            "95% interval | p | verdict |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            interval = (
                "" if _nan(r["low"]) else f"[{_fmt(r['low'], True)}, {_fmt(r['high'], True)}]"
            )
            p = "" if _nan(r["p_value"]) else f"{r['p_value']:.3g}"
            out.append(
                f"| {r['group']} | {r['users']} | {r['served_by']} | {r['metric']} | "
                f"{_fmt(r['single'])} | {_fmt(r['per_segment'])} | {_fmt(r['difference'], True)} "
                f"| {interval} | {p} | {r['verdict']} |"
            )
        return "\n".join(out) + "\n"

    def lines(self) -> list[str]:
        m = self.meta
        out = [
            f"{m['chosen']}: per-segment points (by {m['by']}) against the single chosen point, "
            f"{m['stage']} stage ({_fitted(m['stage'])}), {m['users']} users, {m['resamples']} "
            f"bootstrap resamples (seed {m['seed']}); difference = per-segment - single",
            f"  {'segment':<14} {'users':>5} {'metric':<20} {'single':>9} {'per-seg':>9} "
            f"{'diff':>10}   95% interval             verdict",
        ]
        for r in self.rows:
            interval = (
                "" if _nan(r["low"]) else f"[{_fmt(r['low'], True)}, {_fmt(r['high'], True)}]"
            )
            out.append(
                f"  {r['group'][:14]:<14} {r['users']:>5} {r['metric']:<20} "
                f"{_fmt(r['single']):>9} {_fmt(r['per_segment']):>9} "
                f"{_fmt(r['difference'], True):>10}   {interval:<24} {r['verdict']}"
            )
        return out


def _fitted(stage: str) -> str:
    if stage == "test":
        return "fit on train + validation"
    return "fit on train; the data the segments were chosen on, so optimistic"


def _nan(value: float) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fmt(value: float, signed: bool = False) -> str:
    if _nan(value):
        return "n/a"
    if value == 0:
        return "0"
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def evaluate_segments(
    point: OperatingPoint,
    chosen: str,
    metrics: list[MetricRef] | None = None,
    resamples: int = 1000,
    seed: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
    stage: str = "test",
) -> SegmentEvaluation:
    """Compare serving by segment with serving the single point, on test.

    Args:
        point: A per-segment export.
        chosen: Its file name, for the table.
        metrics: Metrics to compare (default: the objectives the segments were chosen on).
        resamples: Bootstrap resamples.
        seed: Bootstrap seed (the same resamples for every group).
        data_dir: Where the dataset is.
        stage: ``test`` (fit on train + validation) or ``validation`` (fit on train: the
            data the segments were chosen on, so its differences are optimistic).
    """
    if stage not in ("validation", "test"):
        raise ConfigError(f"--stage must be validation or test, got {stage!r}")
    plan = point.segments
    if plan is None:
        raise ConfigError(f"{chosen}: not a per-segment export (made by select --per-segment)")
    refs = metrics or [parse_metric(name) for name in plan.objectives]
    if not refs:
        raise ConfigError(f"{chosen}: field `segments.objectives` is empty; pass --metrics")
    longer = [ref.name for ref in refs if ref.k is not None and ref.k > point.k]
    if longer:
        raise ConfigError(
            f"metric `{longer[0]}`: `k <= {point.k}` must hold (the lists have {point.k} items)"
        )
    directions = {ref.name: plan.objectives.get(ref.name, ref.metric.direction) for ref in refs}
    pipeline = point_pipeline([point], data_dir, split=True)
    single = pipeline.context(stage, pipeline.recommend(stage, point.candidate))
    lists, codes = segment_lists(pipeline, stage, point.candidate, plan)
    segmented = pipeline.context(stage, lists)
    groups: list[tuple[str, np.ndarray, str]] = []
    for code, (name, p) in enumerate(plan.points.items()):
        served = f"trial {p.trial} ({p.candidate.model.name})"
        if p.candidate == point.candidate:
            served += ", the single point"
        groups.append((name, np.flatnonzero(codes == code), served))
    if (codes < 0).any():
        groups.append(("unassigned", np.flatnonzero(codes < 0), "the single point"))
    groups.append(("all", np.arange(len(codes)), "each user's segment point"))
    rows: list[dict[str, Any]] = []
    for name, members, served in groups:
        if not len(members):
            continue
        a, b = single.take(members), segmented.take(members)
        result = compare(a, b, refs, n_resamples=resamples, seed=seed)
        for ref in refs:
            c = result[ref.name]
            rows.append(
                {
                    "group": name,
                    "users": len(members),
                    "served_by": served,
                    "metric": ref.name,
                    "direction": directions[ref.name],
                    "single": c.mean_a,
                    "per_segment": c.mean_b,
                    "difference": c.diff,
                    "low": c.low,
                    "high": c.high,
                    "p_value": c.p_value,
                    "significant": c.significant,
                    "verdict": _verdict(c.diff, c.significant, directions[ref.name]),
                }
            )
    seg = plan.segmentation
    meta = {
        "chosen": chosen,
        "by": seg.by,
        "definition": seg.describe(),
        "stage": stage,
        "users": len(codes),
        "resamples": resamples,
        "seed": seed,
        "single": {"trial": point.run.get("trial"), "model": point.candidate.model.name},
        "segments": {
            name: {
                "trial": p.trial,
                "model": p.candidate.model.name,
                "test_users": int((codes == i).sum()),
            }
            for i, (name, p) in enumerate(plan.points.items())
        },
    }
    return SegmentEvaluation(rows, meta)


def _verdict(diff: float, significant: bool, direction: str) -> str:
    """Which side is better, in words: only when the interval excludes 0."""
    if _nan(diff):
        return "n/a"
    if diff == 0:
        return "same"
    if not significant:
        return "no clear difference"
    better = (diff > 0) == (direction == "max")
    return "per-segment better" if better else "single better"
