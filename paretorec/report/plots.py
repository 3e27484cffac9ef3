"""Stakeholder plots of a run: every evaluated point, the front, the chosen point.

Each function reads a ``Result`` and returns a matplotlib ``Figure``; nothing here touches
pyplot's global state or the backend, so a notebook shows the figure as it is and the CLI
saves it (``save``). matplotlib is imported only in this module.
"""

from __future__ import annotations

import io
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np

from paretorec.objectives import column
from paretorec.optimize.rundir import atomic_write_bytes
from paretorec.report.compare import UNITS
from paretorec.result import Result

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure  # no pyplot: no global figure, no backend switch

    return Figure(figsize=(width, height), layout="constrained")


def _spans_decades(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(finite.size and finite.min() > 0 and finite.max() / finite.min() > 30)


def pareto_figure(result: Result, chosen: int | None = None) -> Figure:
    """Every pair of objectives: all evaluated points, the feasible front, the chosen trial.

    Args:
        result: The run.
        chosen: The chosen trial to mark (default: the run directory's ``chosen.json``).
    """
    if chosen is None:
        selection = result.chosen()
        chosen = None if selection is None else selection.trial
    trials = result.trials
    natural = result.natural(trials)
    on_front = trials["trial"].isin([r.trial for r in result.front_records]).to_numpy()
    models = trials["model"].astype(str).to_numpy()
    colours = {
        m: MODEL_COLOURS[n % len(MODEL_COLOURS)] for n, m in enumerate(dict.fromkeys(models))
    }
    pairs = list(combinations(range(len(result.objectives)), 2))
    cols = min(3, len(pairs))
    rows = int(np.ceil(len(pairs) / cols))
    fig = _figure(5.2 * cols, 4.6 * rows)
    axes = fig.subplots(rows, cols, squeeze=False)
    chosen_row = None
    if chosen is not None and chosen in set(trials["trial"]):
        chosen_row = int(np.flatnonzero(trials["trial"].to_numpy() == chosen)[0])
    for ax, (i, j) in zip(axes.ravel(), pairs, strict=False):
        ax.scatter(natural[:, i], natural[:, j], s=12, c="#b8b8b8", label="evaluated", lw=0)
        for model, colour in colours.items():  # the front, coloured by model
            mine = on_front & (models == model)
            ax.scatter(natural[mine, i], natural[mine, j], s=26, c=colour, label=model, lw=0)
        if chosen_row is not None:
            ax.scatter(
                natural[chosen_row, i],
                natural[chosen_row, j],
                s=220,
                marker="*",
                c="#ffd700",  # gold: no model's colour
                edgecolors="black",
                lw=0.6,
                label="chosen",
                zorder=5,
            )
        ax.set_xlabel(axis_label(result.objectives[i]))
        ax.set_ylabel(axis_label(result.objectives[j]))
        for axis, col in (("x", natural[:, i]), ("y", natural[:, j])):
            if _spans_decades(col):  # costs spread over orders of magnitude
                (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(pairs) :]:
        ax.axis("off")
    axes.ravel()[0].legend(loc="best", fontsize=8, title="front, by model", title_fontsize=8)
    dataset = result.meta.get("dataset", {}).get("name", "")
    fig.suptitle(
        f"{plain(result.config.name)}: {plain(dataset)}, {len(trials)} evaluations, "
        f"validation values (seed {result.config.search.seed})",
        fontsize=11,
    )
    return fig


def hypervolume_figure(result: Result) -> Figure:
    """The hypervolume of the feasible points found so far, by evaluations."""
    fig = _figure(6.0, 4.0)
    ax = fig.subplots()
    history = result.history
    ax.plot(history["evaluations"], history["hypervolume"], marker="o", ms=3)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume\n(share of the scaled objective box)")
    ax.set_title(
        "Hypervolume of the front found so far\n(each objective scaled 0 = best, 1 = worst)",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    return fig


def save(
    figures: dict[str, Figure], out_dir: str | Path, dpi: int = 120, formats: tuple = ("png", "svg")
) -> list[Path]:
    """Write each figure as ``<name>.png`` and ``<name>.svg`` in ``out_dir`` (created), with
    a tight bounding box so no label is clipped."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            buffer = io.BytesIO()
            # SVG keeps its text as text (searchable, editable), not glyph outlines
            with matplotlib.rc_context({"svg.fonttype": "none"}):
                fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight")
            atomic_write_bytes(path, buffer.getvalue())  # never through a planted link
            paths.append(path)
    return paths


MODEL_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
)  # fmt: skip


def axis_label(objective: Any) -> str:
    """``cost, operations per request (lower is better)``: name, unit, direction."""
    base = objective.name.split("@")[0]
    unit = UNITS.get(base)
    arrow = "higher is better" if objective.direction == "max" else "lower is better"
    return f"{objective.name}, {unit} ({arrow})" if unit else f"{objective.name} ({arrow})"


def _groups(result: Result) -> tuple[np.ndarray, np.ndarray, np.ndarray, int | None, dict]:
    """Objective values of every trial, front and feasibility masks, the chosen row, and each
    model's colour."""
    trials = result.trials
    natural = result.natural(trials)
    on_front = trials["trial"].isin([r.trial for r in result.front_records]).to_numpy()
    feasible = np.ones(len(trials), dtype=bool)
    for c in result.constraints:
        feasible &= c.violation(trials[column("validation", c.ref.name)].to_numpy()) <= 0
    selection = result.chosen()
    chosen_row = None
    if selection is not None and selection.trial in set(trials["trial"]):
        chosen_row = int(np.flatnonzero(trials["trial"].to_numpy() == selection.trial)[0])
    models = list(dict.fromkeys(trials["model"].astype(str)))
    colours = {m: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, m in enumerate(models)}
    return natural, on_front, feasible, chosen_row, colours


def _baselines(result: Result) -> dict[str, np.ndarray]:
    """Each baseline's objective values (validation), from ``run.json``."""
    out = {}
    for name, values in result.meta.get("baselines", {}).items():
        row = [values.get(o.name) for o in result.objectives]
        if all(v is not None for v in row):
            out[name] = np.array(row, dtype=np.float64)
    return out


def scatter_matrix_figure(result: Result) -> Figure:
    """Every pair of objectives (lower triangle), points coloured by model: front points solid,
    other evaluations faint, constraint violators as crosses, baselines as black diamonds,
    the chosen point as a gold star; histograms of the front on the diagonal."""
    natural, on_front, feasible, chosen_row, colours = _groups(result)
    models = result.trials["model"].astype(str).to_numpy()
    m = len(result.objectives)
    fig = _figure(2.9 * m + 1.6, 2.7 * m + 0.8)
    axes = fig.subplots(m, m, squeeze=False)
    baselines = _baselines(result)
    for i in range(m):
        for j in range(m):
            ax = axes[i, j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                ax.hist(natural[on_front, i], bins=15, color="#1f5fa8", alpha=0.7)
            else:
                x, y = natural[:, j], natural[:, i]
                for model, colour in colours.items():
                    mine = models == model
                    ax.scatter(
                        x[mine & feasible & ~on_front],
                        y[mine & feasible & ~on_front],
                        s=8,
                        c=colour,
                        alpha=0.25,
                        lw=0,
                    )
                    ax.scatter(
                        x[mine & on_front],
                        y[mine & on_front],
                        s=22,
                        c=colour,
                        lw=0,
                        label=model if (i, j) == (1, 0) else None,
                    )
                ax.scatter(
                    x[~feasible],
                    y[~feasible],
                    s=14,
                    marker="x",
                    c="#555555",
                    lw=0.8,
                    label="violates a constraint"
                    if (i, j) == (1, 0) and (~feasible).any()
                    else None,
                )
                for name, values in baselines.items():
                    ax.scatter(
                        values[j],
                        values[i],
                        s=40,
                        marker="D",
                        c="black",
                        zorder=4,
                        label="baselines"
                        if (i, j) == (1, 0) and name == next(iter(baselines))
                        else None,
                    )
                if chosen_row is not None:
                    ax.scatter(
                        x[chosen_row],
                        y[chosen_row],
                        s=220,
                        marker="*",
                        c="#ffd700",
                        edgecolors="black",
                        lw=0.6,
                        zorder=5,
                        label="chosen" if (i, j) == (1, 0) else None,
                    )
                if _spans_decades(x):
                    ax.set_xscale("log")
                if _spans_decades(y):
                    ax.set_yscale("log")
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
            if i == m - 1:
                ax.set_xlabel(_wrap(axis_label(result.objectives[j])), fontsize=8)
            if j == 0:
                ax.set_ylabel(_wrap(axis_label(result.objectives[i])), fontsize=8)
    if m > 1:
        fig.legend(
            *axes[1, 0].get_legend_handles_labels(),
            loc="upper right",
            fontsize=8,
            title="model (front solid)",
            title_fontsize=8,
        )
    fig.suptitle(_title(result), fontsize=10)
    return fig


def parallel_figure(result: Result) -> Figure:
    """The front in parallel coordinates: one axis per objective, each scaled so its best
    value is at the top (log scale where values span decades; the labels give the real values
    and units), one line per front point coloured by model; the chosen point bold black, the
    baselines dashed grey."""
    natural, on_front, _, chosen_row, colours = _groups(result)
    models = result.trials["model"].astype(str).to_numpy()
    objectives = result.objectives
    m = len(objectives)
    baselines = _baselines(result)
    shown = np.vstack([natural[on_front], *baselines.values()])
    # an axis whose values span decades (cost) is drawn on a log scale
    logged = np.array([_spans_decades(col) and np.nanmin(col) > 0 for col in shown.T])

    def transform(values: np.ndarray) -> np.ndarray:
        return np.where(logged, np.log10(np.where(logged, np.maximum(values, 1e-300), 1.0)), values)

    lo = np.nanmin(transform(shown), axis=0)
    hi = np.nanmax(transform(shown), axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)

    def scaled(values: np.ndarray) -> np.ndarray:
        out = (transform(values) - lo) / span
        return np.where([o.direction == "max" for o in objectives], out, 1.0 - out)

    fig = _figure(max(6.5, 2.3 * m), 4.8)
    ax = fig.subplots()
    xs = np.arange(m)
    for model, colour in colours.items():
        rows = np.flatnonzero(on_front & (models == model))
        for n, row in enumerate(rows):
            ax.plot(
                xs,
                scaled(natural[row]),
                c=colour,
                alpha=0.55,
                lw=1.0,
                label=model if n == 0 else None,
            )
    for n, values in enumerate(baselines.values()):
        ax.plot(
            xs,
            scaled(values),
            c="#666666",
            ls="--",
            lw=0.9,
            alpha=0.7,
            label="baselines (models at defaults)" if n == 0 else None,
        )
    if chosen_row is not None:
        ax.plot(xs, scaled(natural[chosen_row]), c="black", lw=3.2, label="chosen", zorder=5)
    ax.set_xticks(xs)
    ax.set_xticklabels([_wrap(axis_label(o), 18) for o in objectives], fontsize=8)
    ax.set_yticks([0.0, 1.0])
    ax.set_yticklabels(["worst shown", "best shown"], fontsize=8)
    for x, o, a, b, log in zip(xs, objectives, lo, hi, logged, strict=True):
        if log:
            a, b = 10.0**a, 10.0**b
        best, worst = (b, a) if o.direction == "max" else (a, b)
        ax.annotate(f"{best:.4g}", (x, 1.0), xytext=(3, 4), textcoords="offset points", fontsize=7)
        ax.annotate(
            f"{worst:.4g}", (x, 0.0), xytext=(3, -10), textcoords="offset points", fontsize=7
        )
        ax.axvline(x, c="#999999", lw=0.6)
        if log:
            ax.annotate(
                "log scale",
                (x, 0.5),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize=6,
                color="#777777",
                rotation=90,
            )
    ax.set_ylim(-0.08, 1.1)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    ax.set_title(_title(result), fontsize=10)
    return fig


def _wrap(text: str, width: int = 26) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def plain(text: object) -> str:
    """A user's string as matplotlib text: ``$`` would start mathtext (and a bad formula fails
    the whole figure), control characters would break the layout."""
    clean = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return clean.replace("$", r"\$")[:120]


def _title(result: Result) -> str:
    dataset = result.meta.get("dataset", {}).get("name", "")
    return (
        f"{plain(result.config.name)}: {plain(dataset)}, {len(result.trials)} evaluations, "
        f"{len(result.front_records)} on the front, validation values"
    )


def figures(result: Result) -> dict[str, Figure]:
    """The run's standard figures by file name (the scatter matrix and parallel coordinates
    for three or more objectives)."""
    out = {"pareto": pareto_figure(result), "hypervolume": hypervolume_figure(result)}
    if len(result.objectives) >= 3:
        out["scatter_matrix"] = scatter_matrix_figure(result)
        out["parallel"] = parallel_figure(result)
    return out
