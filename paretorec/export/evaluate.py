"""``paretorec evaluate``: an exported point's metrics with 95% intervals, by user segment,
and a paired comparison with another point, on the point's own split."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from paretorec.errors import ConfigError
from paretorec.export.point import OperatingPoint, load_point
from paretorec.export.recommender import point_pipeline
from paretorec.metrics import METRICS, ListContext, MetricRef, parse_metric
from paretorec.metrics.segments import segment_metrics
from paretorec.metrics.stats import Comparison, bootstrap, compare


def default_metrics(k: int) -> list[MetricRef]:
    """Every deterministic registered metric, at ``k`` where it takes a cut-off."""
    refs = []
    for name in METRICS:
        metric = METRICS.get(name)
        if metric.deterministic:
            refs.append(parse_metric(f"{name}@{k}" if metric.at_k else name))
    return refs


def _contexts(
    points: list[OperatingPoint], stage: str, data_dir: str | os.PathLike[str] | None
) -> list[ListContext]:
    """Each point's lists for ``stage`` of their (shared) split: the same users for all."""
    pipeline = point_pipeline(points, data_dir, split=True)
    return [pipeline.context(stage, pipeline.recommend(stage, p.candidate)) for p in points]


def _winner(c: Comparison, direction: str) -> str:
    """Which point is better on a metric, in words: ``this is better`` (lower cost, higher
    NDCG), ``other is better``, or neither when the interval of the difference holds 0."""
    if not c.significant or c.diff == 0:
        return "neither is clearly better"
    other_higher = c.diff > 0  # difference = other - this
    return "other is better" if other_higher == (direction == "max") else "this is better"


def evaluate_point(
    path: str | Path,
    stage: str = "test",
    metrics: list[str] | None = None,
    segments: bool = False,
    resamples: int = 1000,
    seed: int = 0,
    other: str | Path | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The lines ``paretorec evaluate`` prints."""
    if stage not in ("validation", "test"):
        raise ConfigError(f"--stage must be validation or test, got {stage!r}")
    points = [load_point(path)] + ([load_point(other)] if other is not None else [])
    k = points[0].k
    refs = [parse_metric(m) for m in metrics] if metrics else default_metrics(k)
    longer = [ref.name for ref in refs if ref.k is not None and ref.k > k]
    if longer:
        raise ConfigError(f"metric `{longer[0]}`: `k <= {k}` must hold (the lists have {k} items)")
    contexts = _contexts(points, stage, data_dir)
    ctx = contexts[0]
    lines = [
        f"{path}: {points[0].candidate.model.name} on {points[0].data.dataset}, {stage} stage "
        f"(fit on {'train' if stage == 'validation' else 'train + validation'}), "
        f"{ctx.truth.n_users} users, {resamples} bootstrap resamples (seed {seed})",
        f"  {'metric':<20} {'mean':>10}   95% interval           users",
    ]
    for name, iv in bootstrap(ctx, refs, n_resamples=resamples, seed=seed).items():
        interval = "" if np.isnan(iv.low) else f"[{iv.low:.4g}, {iv.high:.4g}]"
        lines.append(f"  {name:<20} {iv.mean:>10.4g}   {interval:<22} {iv.n_users:>5}")
    if segments:
        report = segment_metrics(ctx, refs)
        low, high = report.boundaries
        sizes = report.sizes()
        lines.append(
            f"by training activity: cold <= {low} < medium <= {high} < heavy "
            f"({sizes['cold']} / {sizes['medium']} / {sizes['heavy']} users)"
        )
        lines.append(f"  {'metric':<20} {'cold':>10} {'medium':>10} {'heavy':>10}")
        for ref in refs:
            row = [report.values[s][ref.name][0] for s in ("cold", "medium", "heavy")]
            lines.append(f"  {ref.name:<20} " + " ".join(f"{v:>10.4g}" for v in row))
    if other is not None:
        lines.append(f"paired comparison with {other} (same users; difference = other - this):")
        lines.append(f"  {'metric':<20} {'difference':>11}   95% interval           p      ")
        result = compare(contexts[0], contexts[1], refs, n_resamples=resamples, seed=seed)
        direction = {ref.name: ref.metric.direction for ref in refs}
        for name, c in result.items():
            if np.isnan(c.low):
                continue
            verdict = "significant" if c.significant else "not significant"
            lines.append(
                f"  {name:<20} {c.diff:>+11.4g}   [{c.low:+.4g}, {c.high:+.4g}]   "
                f"p={c.p_value:.4g} ({c.test}) {verdict}: {_winner(c, direction[name])}"
            )
    return lines
