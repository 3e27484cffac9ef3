"""What a replay writes: ``replay.json`` (everything), ``replay.csv`` (one row per boundary,
policy and objective), ``summary.md`` and ``replay.png`` / ``replay.svg`` (objectives over time
with their 95 % intervals, and what each policy spent)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from paretorec.dynamic.replay import ReplayResult
from paretorec.optimize.rundir import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = {"frozen": "#7f7f7f", "retune": "#1f77b4", "adaptive": "#d62728"}


def table(result: ReplayResult) -> pd.DataFrame:
    """One row per boundary, policy and objective: the deployed point's mean on the next
    window with its 95 % interval, the decision, and the update / refit timings."""
    rows = []
    for row in result.rows:
        agreement = row.get("agreement", {})
        refit = row.get("refit_objectives", {})
        for metric, value in row["objectives"].items():
            rows.append(
                {
                    "boundary": row["boundary"],
                    "scored_window": row["scored_window"],
                    "policy": row["policy"],
                    "objective": metric,
                    "mean": value["mean"],
                    "low": value["low"],
                    "high": value["high"],
                    "users": value["users"],
                    "refit_mean": refit.get(metric, {}).get("mean", np.nan),
                    "retuned": row["retuned"],
                    "reason": row["reason"],
                    "model": row["model"],
                    "update_kind": row["update_kind"],
                    "deploy": row["deploy"],
                    "fit_seconds": row.get("fit_seconds", np.nan),
                    "update_seconds": row.get("update_seconds", np.nan),
                    "refit_seconds": row.get("refit_seconds", np.nan),
                    "max_abs_score_diff": agreement.get("max_abs_score_diff", np.nan),
                    "topk_overlap": agreement.get("topk_overlap", np.nan),
                }
            )
    return pd.DataFrame(rows)


def figure(result: ReplayResult) -> Figure:
    """Each objective over the scored windows, one line per policy with its 95 % interval as
    a band (re-tunes marked), then the cumulative seconds and evaluations each policy spent."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no backend switch

    frame = table(result)
    objectives = result.objectives
    panels = len(objectives) + 2
    cols = min(4, panels)
    rows = math.ceil(panels / cols)
    fig = Figure(figsize=(4.2 * cols, 3.4 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    policies = list(result.settings.policies)
    offsets = {p: (i - (len(policies) - 1) / 2) * 0.06 for i, p in enumerate(policies)}
    for ax, (metric, direction) in zip(axes, objectives, strict=False):
        for policy in policies:
            part = frame[(frame.policy == policy) & (frame.objective == metric)]
            x = part.scored_window.to_numpy(dtype=float) + offsets[policy]
            colour = COLOURS.get(policy)
            ax.plot(x, part["mean"], marker="o", ms=4, color=colour, label=policy)
            ax.fill_between(x, part["low"], part["high"], color=colour, alpha=0.15, lw=0)
            tuned = part.retuned.to_numpy(dtype=bool)
            ax.scatter(x[tuned], part["mean"].to_numpy()[tuned], marker="*", s=90, color=colour)
        ax.set_title(f"{metric} ({'higher' if direction == 'max' else 'lower'} is better)")
        ax.set_xlabel("scored window")
        ax.set_xticks(sorted(frame.scored_window.unique()))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, title="policy (* re-tuned)", title_fontsize=8)
    spent = axes[len(objectives)]
    names = list(result.policies)
    seconds = [result.policies[p]["seconds"] for p in names]
    evaluations = [result.policies[p]["evaluations"] for p in names]
    bars = spent.bar(names, seconds, color=[COLOURS.get(p) for p in names])
    for bar, n in zip(bars, evaluations, strict=True):
        spent.annotate(
            f"{n} evals", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
            va="bottom", fontsize=8,
        )  # fmt: skip
    spent.set_title("what each policy spent (incl. the initial tune)")
    spent.set_ylabel("seconds")
    timing = axes[len(objectives) + 1]
    updated = frame.drop_duplicates(["boundary", "policy"])
    updated = updated[updated.deploy == "update"]
    if len(updated):
        labels = [f"w{r.scored_window} {r.policy}\n{r.model}" for r in updated.itertuples()]
        x = np.arange(len(updated))
        timing.bar(x - 0.2, updated.update_seconds, 0.4, label="incremental update")
        timing.bar(x + 0.2, updated.refit_seconds, 0.4, label="full refit")
        timing.set_xticks(x, labels, fontsize=7)
        timing.legend(fontsize=8)
    timing.set_title("taking in a window: update vs refit")
    timing.set_ylabel("seconds")
    for ax in axes[panels:]:
        ax.set_visible(False)
    fig.suptitle(
        f"{result.dataset['name']}: replay in {result.settings.windows} windows "
        f"(re-tune budget {result.settings.budget}, adaptive threshold "
        f"{result.settings.threshold:g})"
    )
    return fig


def summary(result: ReplayResult) -> str:
    """The replay in markdown: windows, policies' spend, objectives per window, updates."""
    s = result.settings
    frame = table(result)
    lines = [
        f"# Replay of {result.dataset['name']} in {s.windows} time windows",
        "",
        f"Config `{result.config.name}`; initial tune on window 1: "
        f"{result.initial['evaluations']} evaluations in {result.initial['seconds']:.0f} s, "
        f"selector `{s.selector}` chose trial {result.initial['trial']} "
        f"({_point(result.initial['point'])}). Re-tunes: {s.budget} evaluations, warm-started "
        f"from the last front; adaptive threshold {s.threshold:g} (normalised objective "
        "space). Scored: users with events before the boundary and in the next window; "
        "intervals are 95 % bootstrap intervals over those users.",
        "",
        "| window | events | users | from | to |",
        "|---:|---:|---:|---|---|",
    ]
    for w in result.windows:
        lines.append(
            f"| {w['window']} | {w['events']:,} | {w['users']:,} | {_date(w['from'])} | "
            f"{_date(w['to'])} |"
        )
    lines += [
        "",
        "## What each policy spent",
        "",
        "| policy | evaluations | seconds | re-tunes |",
        "|---|---:|---:|---:|",
    ]
    for name, p in result.policies.items():
        lines.append(f"| {name} | {p['evaluations']} | {p['seconds']:.1f} | {p['retunes']} |")
    lines += ["", "## Objectives on each next window (mean [95 % interval])", ""]
    metrics = [m for m, _ in result.objectives]
    lines.append("| window | policy | users | decision | " + " | ".join(metrics) + " |")
    lines.append("|---:|---|---:|---|" + "---:|" * len(metrics))
    for row in result.rows:
        cells = [_cell(row["objectives"][m]) for m in metrics]
        lines.append(
            f"| {row['scored_window']} | {row['policy']} | {row['users']} | "
            f"{row['reason']}; {row['deploy']} {row['model']} | " + " | ".join(cells) + " |"
        )
    updates = frame.drop_duplicates(["boundary", "policy"])
    updates = updates[updates.deploy == "update"]
    lines += ["", "## Incremental update against a full refit", ""]
    if len(updates):
        lines += [
            "| window | policy | model | kind | update s | refit s | max score diff | "
            "top-10 overlap |",
            "|---:|---|---|---|---:|---:|---:|---:|",
        ]
        for r in updates.itertuples():
            lines.append(
                f"| {r.scored_window} | {r.policy} | {r.model} | {r.update_kind} | "
                f"{r.update_seconds:.3f} | {r.refit_seconds:.3f} | {r.max_abs_score_diff:.3g} | "
                f"{r.topk_overlap:.3f} |"
            )
        approx = [row for row in result.rows if "refit_objectives" in row]
        for row in approx:
            got, refit = row["objectives"], row["refit_objectives"]
            diffs = ", ".join(
                f"{m} {got[m]['mean']:.4g} vs {refit[m]['mean']:.4g}" for m in metrics
            )
            lines.append(
                f"\nWindow {row['scored_window']} ({row['policy']}, {row['model']}, "
                f"approximate): updated vs refit: {diffs}."
            )
    else:
        lines.append("No boundary updated a deployed model (every one was a fresh fit).")
    return "\n".join(lines) + "\n"


def write(result: ReplayResult, out: str | Path) -> list[Path]:
    """``replay.json``, ``replay.csv``, ``summary.md``, ``replay.png`` and ``replay.svg`` in
    ``out`` (created)."""
    from paretorec.report.plots import save

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "replay.json", folder / "replay.csv", folder / "summary.md"]
    atomic_write(paths[0], json.dumps(_plain(result.to_dict()), indent=2) + "\n")
    atomic_write(paths[1], table(result).to_csv(index=False))
    atomic_write(paths[2], summary(result))
    fig = figure(result)
    return paths + save({"replay": fig}, folder)


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars as Python numbers, NaN as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _cell(value: dict[str, Any]) -> str:
    mean, low, high = value["mean"], value["low"], value["high"]
    if not np.isfinite(low):
        return f"{mean:.4g}"
    return f"{mean:.4g} [{low:.4g}, {high:.4g}]"


def _point(values: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items()
    )


def _date(ts: int) -> str:
    return pd.Timestamp(ts, unit="s").strftime("%Y-%m-%d")
