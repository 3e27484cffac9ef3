"""``paretorec explain RUN``: the knob ranking as terminal lines, a CSV, a Markdown note and
the partial-dependence figure."""

from __future__ import annotations

import io
import os
from pathlib import Path

import matplotlib

from paretorec.explain.knobs import KnobAnalysis, analyse_knobs, partial_dependence_figure
from paretorec.optimize.rundir import atomic_write, atomic_write_bytes

TOP = 5  # knobs printed per objective
TRUST = 0.5  # below this held-out R^2 the ranking is flagged as untrustworthy


def _g(value: float) -> str:
    return f"{value:.4g}"


def importance_lines(analysis: KnobAnalysis, top: int = TOP) -> list[str]:
    """Per objective: the surrogate's held-out R^2, then its ``top`` knobs, 4 significant
    digits."""
    lines: list[str] = []
    for s in analysis.surrogates:
        log = ", modelled as log10" if s.log else ""
        warn = " -- a poor fit: do not trust this ranking" if not s.r2 >= TRUST else ""
        lines.append(
            f"{s.objective}: surrogate R^2 {_g(s.r2)} on {s.n_test} held-out trials{log}{warn}"
        )
        rows = analysis.importances[analysis.importances["objective"] == s.objective]
        for _, r in rows.head(top).iterrows():
            lines.append(f"  {r['parameter']:<22} {_g(r['importance']):>8} +- {_g(r['std'])}")
    return lines


def markdown(analysis: KnobAnalysis, run: str, top: int = TOP) -> str:
    """A short note: what was measured, the top knobs per objective, how far to trust them."""
    out = [
        f"# Which knob moves which objective ({run})",
        "",
        "A random forest per objective learns the objective from the trial's parameters; a "
        "knob's importance is how much the forest's R^2 on held-out trials (25 %, seeded) "
        "drops when that knob's values are shuffled (mean +- std of 10 shuffles). R^2 near 1: "
        "the parameters explain the objective and the ranking can be trusted; below "
        f"{TRUST}: it cannot. Above 1: without that knob the forest predicts worse than the "
        "mean. The ranking describes the trials the search made: a model's own knob counts "
        "only on the trials of that model, so a model the search sampled often weighs more. "
        f"Made by `paretorec explain {run}`.",
        "",
        "| objective | held-out R^2 | top knobs (importance) |",
        "|---|---|---|",
    ]
    for s in analysis.surrogates:
        rows = analysis.importances[analysis.importances["objective"] == s.objective].head(top)
        knobs = ", ".join(f"`{r.parameter}` {_g(r.importance)}" for r in rows.itertuples())
        fit = _g(s.r2) + (" (poor fit)" if not s.r2 >= TRUST else "")
        out.append(f"| {s.objective}{' (log10)' if s.log else ''} | {fit} | {knobs} |")
    out += [
        "",
        "Conditional parameters (a model's own) are blank when their model is not chosen; "
        "they enter the forest as a sentinel below their range, and `model` as one ordinal "
        "column, so shuffling `model` moves the whole model choice.",
        "",
        "![partial dependence](partial_dependence.png)",
        "",
    ]
    return "\n".join(out)


def write_explanation(
    run: str | os.PathLike[str], out: str | os.PathLike[str], seed: int = 0
) -> tuple[KnobAnalysis, list[Path]]:
    """Analyse ``run`` and write ``importances.csv``, ``explain.md`` and
    ``partial_dependence.png`` / ``.svg`` into ``out`` (created)."""
    import matplotlib.pyplot as plt

    analysis = analyse_knobs(run, seed=seed)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "importances.csv", folder / "explain.md"]
    atomic_write(written[0], analysis.importances.to_csv(index=False, float_format="%.6g"))
    atomic_write(written[1], markdown(analysis, Path(run).as_posix()))
    fig = partial_dependence_figure(analysis)
    try:
        for ext in ("png", "svg"):
            path = folder / f"partial_dependence.{ext}"
            buffer = io.BytesIO()
            # tight box: no label clipped; SVG text stays text; no date, so a re-run is
            # byte-identical
            with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "paretorec"}):
                fig.savefig(
                    buffer,
                    format=ext,
                    dpi=110,
                    bbox_inches="tight",
                    metadata={"Date": None} if ext == "svg" else {"Software": None},
                )
            atomic_write_bytes(path, buffer.getvalue())
            written.append(path)
    finally:
        plt.close(fig)
    return analysis, written
