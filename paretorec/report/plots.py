"""Stakeholder plots of a run: every evaluated point, the front, the chosen point.

Plots read a RunView (precomputed values); matplotlib is imported only here.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np

from paretorec.report.runview import PLOTS, RunView


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _spans_decades(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool(finite.size and finite.min() > 0 and finite.max() / finite.min() > 30)


def plot_front(view: RunView, out_dir: str | Path | None = None) -> list[Path]:
    """Draw ``pareto.png`` (pairwise objective scatter) and ``hypervolume.png``.

    Args:
        view: The run.
        out_dir: Where to write; defaults to ``<run>/plots``.

    Returns:
        The written files.
    """
    plt = _pyplot()
    out = Path(out_dir) if out_dir is not None else view.run_dir / PLOTS
    out.mkdir(parents=True, exist_ok=True)
    trials = view.trials
    natural = view.natural(trials)
    on_front = trials["trial"].isin(view.front["trial"]).to_numpy()  # feasible front, as front.csv
    chosen = view.chosen_trial()
    pairs = list(combinations(range(len(view.objectives)), 2))
    cols = min(3, len(pairs))
    rows = int(np.ceil(len(pairs) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.6 * rows), squeeze=False)
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
        if chosen is not None and chosen in set(trials["trial"]):
            row = int(np.flatnonzero(trials["trial"].to_numpy() == chosen)[0])
            ax.scatter(
                natural[row, i],
                natural[row, j],
                s=220,
                marker="*",
                c="#d62728",
                edgecolors="black",
                lw=0.6,
                label="chosen",
                zorder=5,
            )
        ax.set_xlabel(view.objectives[i].label())
        ax.set_ylabel(view.objectives[j].label())
        for axis, col in (("x", natural[:, i]), ("y", natural[:, j])):
            if _spans_decades(col):  # costs spread over orders of magnitude
                (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(pairs) :]:
        ax.axis("off")
    axes.ravel()[0].legend(loc="best", fontsize=8)
    meta = view.meta
    fig.suptitle(
        f"{view.config.name}: {meta['dataset']['name']}, {len(trials)} evaluations, "
        f"validation values (seed {meta['seed']})",
        fontsize=11,
    )
    fig.tight_layout()
    pareto = out / "pareto.png"
    fig.savefig(pareto, dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(view.history["evaluations"], view.history["hypervolume"], marker="o", ms=3)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume (objectives scaled 0-1, ref = worst)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    hv = out / "hypervolume.png"
    fig.savefig(hv, dpi=120)
    plt.close(fig)
    return [pareto, hv]
