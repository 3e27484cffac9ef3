"""Stakeholder plots of a run: every evaluated point, the front, the chosen point.

Each function reads a ``Result`` and returns a matplotlib ``Figure``; nothing here touches
pyplot's global state or the backend, so a notebook shows the figure as it is and the CLI
saves it (``save``). matplotlib is imported only in this module.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

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
        order = np.argsort(natural[on_front, i])
        ax.scatter(
            natural[on_front, i][order],
            natural[on_front, j][order],
            s=26,
            c="#1f5fa8",
            label="Pareto front (all objectives)",
            lw=0,
        )
        if chosen_row is not None:
            ax.scatter(
                natural[chosen_row, i],
                natural[chosen_row, j],
                s=220,
                marker="*",
                c="#d62728",
                edgecolors="black",
                lw=0.6,
                label="chosen",
                zorder=5,
            )
        ax.set_xlabel(result.objectives[i].label())
        ax.set_ylabel(result.objectives[j].label())
        for axis, col in (("x", natural[:, i]), ("y", natural[:, j])):
            if _spans_decades(col):  # costs spread over orders of magnitude
                (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(pairs) :]:
        ax.axis("off")
    axes.ravel()[0].legend(loc="best", fontsize=8)
    dataset = result.meta.get("dataset", {}).get("name", "")
    fig.suptitle(
        f"{result.config.name}: {dataset}, {len(trials)} evaluations, "
        f"validation values (seed {result.config.search.seed})",
        fontsize=11,
    )
    return fig


def hypervolume_figure(result: Result) -> Figure:
    """The hypervolume of the feasible points found so far, by evaluations."""
    fig = _figure(5.5, 3.6)
    ax = fig.subplots()
    history = result.history
    ax.plot(history["evaluations"], history["hypervolume"], marker="o", ms=3)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume (objectives scaled 0-1, ref = worst)")
    ax.grid(alpha=0.3)
    return fig


def save(figures: dict[str, Figure], out_dir: str | Path, dpi: int = 120) -> list[Path]:
    """Write each figure as ``<name>.png`` in ``out_dir`` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fig in figures.items():
        path = out / f"{name}.png"
        fig.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


def figures(result: Result) -> dict[str, Figure]:
    """The run's standard figures by file name."""
    return {"pareto": pareto_figure(result), "hypervolume": hypervolume_figure(result)}
