"""``report.html``: the stakeholder report as one self-contained page that works offline.

The page states exactly the facts of results.md (``paretorec.report.compare`` computes them
once) and adds interactive plotly figures: the front (hover: model, parameters, every
objective), a scatter matrix and parallel coordinates for three or more objectives, and the
hypervolume curve. plotly.js is inlined once in the page's head; no CDN, no network.

Every string that comes from a user or a run file (the config's name, model and parameter
values, a selection's reason, paths) goes through ``html.escape`` before it reaches the page;
inside the figures' JSON plotly escapes ``<``, ``>`` and ``/`` itself, and hover texts are
escaped too, because plotly renders a subset of HTML in them.
"""

from __future__ import annotations

import html
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paretorec.objectives import Objective, column
from paretorec.optimize.rundir import atomic_write
from paretorec.report.compare import (
    COST_NAMES,
    IMPORTANCE_WORDS,
    SETTLED,
    Facts,
    interval_table,
    number,
    unit,
)
from paretorec.report.plots import MODEL_COLOURS
from paretorec.result import Result, Selection

CHOSEN_COLOUR = "#ffd700"
# Figure ids are fixed, so the same run gives the same page (plotly's default is random).
_CONFIG = {"displaylogo": False, "responsive": True}
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; line-height: 1.45; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2em 1.5em 3em; background: #fff; }
h1 { font-size: 1.55em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.lead { font-size: 1.08em; }
.muted { color: #666; font-size: 0.92em; }
.box { background: #f3f6fa; border-left: 4px solid #1f5fa8; padding: 0.6em 1em; margin: 1em 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
td.better { color: #11772e; } td.worse { color: #b3261e; }
pre { background: #f4f4f4; padding: 0.8em; overflow-x: auto; font-size: 0.88em; }
.figure { width: 100%; }
details summary { cursor: pointer; color: #1f5fa8; }
"""


def esc(value: object) -> str:
    """``value`` as HTML text: escaped, control characters dropped."""
    text = "".join(ch if ch.isprintable() or ch == "\n" else " " for ch in str(value))
    return html.escape(text, quote=True)


def _cell(value: object) -> str:
    if isinstance(value, float | np.floating | int | np.integer) and not isinstance(value, bool):
        return number(value)
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def table(frame: pd.DataFrame, classes: dict[str, str] | None = None) -> str:
    """A DataFrame as an escaped HTML table (numbers to 4 significant digits). ``classes``
    maps a cell's text ending to a CSS class (``(better)`` -> ``better``)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text = _cell(value)
            css = next((c for end, c in (classes or {}).items() if text.endswith(end)), "")
            attr = f' class="{css}"' if css else ""
            cells.append(f"<td{attr}>{esc(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def axis_title(objective: Objective) -> str:
    """``cost (operations per request, lower is better)``."""
    arrow = "higher is better" if objective.direction == "max" else "lower is better"
    u = unit(objective.name)
    return f"{objective.name} ({u}, {arrow})" if u else f"{objective.name} ({arrow})"


def _spans_decades(values: np.ndarray, objective: Objective) -> bool:
    """A log axis for a cost whose values span decades (never for a share: a log scale of
    NDCG would stretch its worst points)."""
    finite = values[np.isfinite(values)]
    return bool(
        objective.name in COST_NAMES
        and finite.size
        and finite.min() > 0
        and finite.max() / finite.min() > 30
    )


class _Points:
    """Every trial's objective values with what the figures mark: model, front membership,
    feasibility, the chosen row, and a hover text per trial."""

    def __init__(self, view: Result, selection: Selection | None) -> None:
        trials = view.trials
        self.view = view
        self.objectives = view.objectives
        self.values = view.natural(trials)
        self.models = trials["model"].astype(str).to_numpy()
        self.trial = trials["trial"].to_numpy()
        self.front = np.isin(self.trial, [r.trial for r in view.front_records])
        self.feasible = np.ones(len(trials), dtype=bool)
        for c in view.constraints:
            self.feasible &= c.violation(trials[column("validation", c.ref.name)].to_numpy()) <= 0
        self.chosen = None
        if selection is not None and selection.trial in set(self.trial):
            self.chosen = int(np.flatnonzero(self.trial == selection.trial)[0])
        names = list(dict.fromkeys(self.models))
        self.colours = {m: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, m in enumerate(names)}
        self.hover = [self._hover(trials.iloc[i], i) for i in range(len(trials))]
        self.baselines = {
            name: np.array([values.get(o.name, np.nan) for o in self.objectives], dtype=float)
            for name, values in view.meta.get("baselines", {}).items()
            if isinstance(values, dict)
        }

    def _hover(self, row: pd.Series, i: int) -> str:
        state = (
            "front"
            if self.front[i]
            else ("violates a constraint" if not self.feasible[i] else "dominated")
        )
        lines = [f"<b>{esc(row['model'])}</b>, trial {int(row['trial'])} ({state})"]
        for name in self.view.parameters:
            if name == "model" or pd.isna(row[name]):
                continue
            lines.append(f"{esc(name)} = {esc(_cell(row[name]))}")
        for j, o in enumerate(self.objectives):
            lines.append(f"<b>{esc(o.name)}</b> = {esc(number(self.values[i, j]))}")
        return "<br>".join(lines)


def _figure_html(fig: Any, div_id: str, height: int) -> str:
    import plotly.io as pio

    fig.update_layout(height=height, template="plotly_white", margin=dict(l=80, r=20, t=50, b=60))
    fig.update_xaxes(automargin=True)  # long tick labels and titles push the margin, never clip
    fig.update_yaxes(automargin=True)
    return pio.to_html(
        fig,
        include_plotlyjs=False,  # inlined once in the page's head
        full_html=False,
        div_id=div_id,
        config=_CONFIG,
        default_width="100%",
        default_height=f"{height}px",
    )


def _pair(objectives: tuple[Objective, ...]) -> tuple[int, int]:
    """The front figure's axes: a cost objective across (if any), the first objective up."""
    names = [o.name for o in objectives]
    cost = next((names.index(n) for n in COST_NAMES if n in names), None)
    if cost is not None and cost != 0:
        return cost, 0
    return (1, 0) if len(objectives) > 1 else (0, 0)


def front_figure(points: _Points) -> Any:
    """The front in the two objectives people trade first (accuracy against cost), every
    evaluated point, coloured by model; baselines, constraint violators and the chosen point
    marked."""
    import plotly.graph_objects as go

    xi, yi = _pair(points.objectives)
    x, y = points.values[:, xi], points.values[:, yi]
    fig = go.Figure()
    for model, colour in points.colours.items():
        mine = points.models == model
        for mask, name, size, opacity in (
            (mine & points.front, f"{model} (front)", 9, 0.95),
            (mine & ~points.front & points.feasible, f"{model} (dominated)", 6, 0.3),
        ):
            rows = np.flatnonzero(mask)
            if not rows.size:
                continue
            fig.add_trace(
                go.Scatter(
                    x=x[rows],
                    y=y[rows],
                    mode="markers",
                    name=esc(name),
                    legendgroup=esc(model),
                    marker=dict(color=colour, size=size, opacity=opacity),
                    hovertext=[points.hover[i] for i in rows],
                    hoverinfo="text",
                )
            )
    bad = np.flatnonzero(~points.feasible)
    if bad.size:
        fig.add_trace(
            go.Scatter(
                x=x[bad],
                y=y[bad],
                mode="markers",
                name="violates a constraint",
                marker=dict(symbol="x", color="#555555", size=7),
                hovertext=[points.hover[i] for i in bad],
                hoverinfo="text",
            )
        )
    if points.baselines:
        names = list(points.baselines)
        fig.add_trace(
            go.Scatter(
                x=[points.baselines[n][xi] for n in names],
                y=[points.baselines[n][yi] for n in names],
                mode="markers+text",
                name="baselines (defaults, no re-ranking)",
                text=[esc(n) for n in names],
                textposition="bottom center",
                textfont=dict(size=10, color="#444"),
                marker=dict(symbol="diamond", color="black", size=9),
                hovertext=[
                    f"<b>baseline {esc(n)}</b> (defaults, no re-ranking)<br>"
                    + "<br>".join(
                        f"{esc(o.name)} = {esc(number(v))}"
                        for o, v in zip(points.objectives, points.baselines[n], strict=True)
                    )
                    for n in names
                ],
                hoverinfo="text",
            )
        )
    if points.chosen is not None:
        c = points.chosen
        fig.add_trace(
            go.Scatter(
                x=[x[c]],
                y=[y[c]],
                mode="markers",
                name="chosen",
                marker=dict(
                    symbol="star", color=CHOSEN_COLOUR, size=22, line=dict(color="black", width=1.2)
                ),
                hovertext=["<b>chosen</b><br>" + points.hover[c]],
                hoverinfo="text",
            )
        )
    fig.update_xaxes(title_text=esc(axis_title(points.objectives[xi])))
    fig.update_yaxes(title_text=esc(axis_title(points.objectives[yi])))
    shown = np.concatenate([x, [v[xi] for v in points.baselines.values()]])
    if _spans_decades(shown, points.objectives[xi]):
        fig.update_xaxes(type="log")
    fig.update_layout(
        title=dict(text="Every evaluated point (validation values); hover for details", x=0),
        legend=dict(title=dict(text="model"), itemsizing="constant"),
    )
    return fig


def matrix_figure(points: _Points) -> Any:
    """Every pair of objectives for the front's points, coloured by model, chosen starred."""
    import plotly.graph_objects as go

    objectives = points.objectives
    labels = [esc(o.name + (" ↑" if o.direction == "max" else " ↓")) for o in objectives]
    fig = go.Figure()

    def dims(rows: np.ndarray, values: np.ndarray | None = None) -> list[dict]:
        data = points.values[rows] if values is None else values
        return [dict(label=labels[j], values=data[:, j]) for j in range(len(objectives))]

    for model, colour in points.colours.items():
        rows = np.flatnonzero(points.front & (points.models == model))
        if rows.size:
            fig.add_trace(
                go.Splom(
                    dimensions=dims(rows),
                    name=esc(model),
                    showupperhalf=False,
                    diagonal_visible=False,
                    marker=dict(color=colour, size=6),
                    hovertext=[points.hover[i] for i in rows],
                    hoverinfo="text",
                )
            )
    if points.chosen is not None:
        c = points.chosen
        fig.add_trace(
            go.Splom(
                dimensions=dims(np.array([c])),
                name="chosen",
                showupperhalf=False,
                diagonal_visible=False,
                marker=dict(
                    symbol="star", color=CHOSEN_COLOUR, size=16, line=dict(color="black", width=1)
                ),
                hovertext=["<b>chosen</b><br>" + points.hover[c]],
                hoverinfo="text",
            )
        )
    for j in range(len(objectives)):
        if _spans_decades(points.values[points.front, j], objectives[j]):
            suffix = "" if j == 0 else str(j + 1)
            fig.update_layout(
                {f"xaxis{suffix}": dict(type="log"), f"yaxis{suffix}": dict(type="log")}
            )
    fig.update_layout(
        title=dict(text="The front, every pair of objectives (↑ higher / ↓ lower is better)", x=0),
        dragmode="select",
        hovermode="closest",
        font=dict(size=11),
    )
    return fig


def parallel_figure(points: _Points) -> Any:
    """The front in parallel coordinates, each axis with its best end at the top; lines
    coloured by model, the chosen point black. Drag along an axis to filter."""
    import plotly.graph_objects as go

    rows = np.flatnonzero(points.front)
    models = list(points.colours)
    codes = np.array([models.index(m) for m in points.models[rows]], dtype=float)
    if points.chosen is not None and points.front[points.chosen]:
        codes[np.flatnonzero(rows == points.chosen)] = len(models)
    n = len(models) + 1
    scale = []
    for i, colour in enumerate([*points.colours.values(), "#000000"]):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    dimensions = []
    for j, o in enumerate(points.objectives):
        values = points.values[rows, j]
        arrow = "↑" if o.direction == "max" else "↓"
        dim: dict[str, Any] = dict(label=esc(f"{o.name} {arrow}"), tickformat=".3~g")
        if _spans_decades(values, o):  # costs spread over decades: a log axis, real values shown
            logged = np.log10(values)
            ticks = np.arange(np.floor(logged.min()), np.ceil(logged.max()) + 1)
            labels = [f"{10.0**t:,.0f}" if t >= 0 else number(10.0**t) for t in ticks]
            dim.update(values=logged, tickvals=ticks, ticktext=labels)
            low, high = float(ticks.min()), float(ticks.max())
        else:
            dim["values"] = values
            low, high = float(np.nanmin(values)), float(np.nanmax(values))
        dim["range"] = [low, high] if o.direction == "max" else [high, low]
        dimensions.append(dim)
    fig = go.Figure(
        go.Parcoords(
            line=dict(color=codes, colorscale=scale, cmin=0, cmax=n),
            dimensions=dimensions,
            labelangle=0,
            labelfont=dict(size=11),
        )
    )
    legend = ", ".join(
        f'<span style="color:{c}">■</span> {esc(m)}' for m, c in points.colours.items()
    )
    fig.update_layout(margin=dict(l=80, r=90, t=60, b=40))
    return fig, f"{legend}, <b>■ chosen</b>"


def hypervolume_figure(view: Result) -> Any:
    import plotly.graph_objects as go

    history = view.history
    fig = go.Figure(
        go.Scatter(
            x=history["evaluations"],
            y=history["hypervolume"],
            mode="lines+markers",
            marker=dict(size=4),
            name="hypervolume",
            hovertemplate="%{x} evaluations: %{y:.4g}<extra></extra>",
        )
    )
    hv = history["hypervolume"].to_numpy(dtype=float)
    if len(hv) and hv[-1] > 0:
        settled = int(
            history["evaluations"].iloc[int(np.flatnonzero(hv >= (1 - SETTLED) * hv[-1])[0])]
        )
        fig.add_vline(
            x=settled,
            line=dict(dash="dash", color="#888"),
            annotation_text=f"within {SETTLED:.0%} of the final value",
            annotation_position="top left",
        )
    fig.update_xaxes(title_text="evaluations")
    fig.update_yaxes(title_text="hypervolume", tickformat=".3~g")
    fig.update_layout(title=dict(text="Hypervolume of the front found so far", x=0))
    return fig


def importance_figure(frame: pd.DataFrame) -> Any:
    import plotly.graph_objects as go

    numeric = frame.select_dtypes("number")
    fig = go.Figure(
        go.Heatmap(
            z=numeric.to_numpy(dtype=float),
            x=[esc(c) for c in numeric.columns],
            y=[esc(i) for i in numeric.index],
            colorscale="Blues",
            zmin=0,
            hovertemplate="%{y} on %{x}: %{z:.4g}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")  # the most important knob on top, as in the table
    fig.update_layout(title=dict(text="Importance of each knob, per objective", x=0))
    return fig


def _commands(found: Facts, run_dir: Path) -> str:
    run = shlex.quote(str(run_dir))  # as the report command was given it
    selection = found.selection
    method = selection.method if selection is not None else "knee"
    select = (
        f"paretorec select {run} --min ... --max ... --then ...   # the bounds used before"
        if method == "constraint"
        else f"paretorec select {run} --method {shlex.quote(method)}"
    )
    lines = [
        f"paretorec tune config.json --out {run}          # config.json: this report's copy "
        "of the run's config",
        select,
        f"paretorec report {run} --out REPORT_DIR",
        f"paretorec evaluate {run}/chosen.json --stage validation   # the intervals above",
        f"paretorec evaluate {run}/chosen.json --stage test",
        f"paretorec recommend {run}/chosen.json --fit-on run --out recs.csv   # reproduces the "
        "test numbers",
        f"paretorec explain {run}   # the knob importances, with partial dependence plots",
    ]
    return "<pre>" + esc("\n".join(lines)) + "</pre>"


def _stages_html(found: Facts) -> str:
    gap = found.stages
    parts = [f"<p>{esc(line)}</p>" for line in gap.lines]
    if gap.intervals.empty:
        parts.append(f'<p class="muted">95 % intervals: {esc(gap.note)}.</p>')
        return "".join(parts)
    frame = interval_table(gap)
    parts.append(
        "<p>The chosen point refit on its own split, with 95 % bootstrap intervals over users "
        "(as <code>paretorec evaluate</code> prints them):</p>" + table(frame)
    )
    return "".join(parts)


def _summary_html(view: Result, selection: Selection | None) -> str:
    meta = view.meta
    data, split, search = meta["dataset"], meta["split"], view.config.search
    sizes = split["sizes"]
    items = [
        f"data: {esc(data['name'])} ({data['users']:,} users, {data['items']:,} items, "
        f"{data['interactions']:,} interactions)",
        f"split: {esc(split['method'])}, {sizes['train']:,} train / {sizes['validation']:,} "
        f"validation / {sizes['test']:,} test interactions, seed {split['seed']}",
        f"search: {esc(search.algorithm)}, {len(view.records):,} evaluations, "
        f"{len(view.front_records):,} points on the front, seed {meta['seed']}",
        f"paretorec {esc(meta['paretorec_version'])}, numpy {esc(meta['numpy'])}, "
        f"pymoo {esc(meta['pymoo'])}",
    ]
    return "<ul class='muted'>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _chosen_html(found: Facts) -> str:
    selection = found.selection
    if selection is None:
        return (
            "<div class='box'>No point has been chosen yet: run <code>paretorec select "
            "RUN</code> and report again.</div>"
        )
    candidate = selection.point.candidate
    params = ", ".join(
        f"{esc(k)} = {esc(_cell(v))}" for k, v in candidate.values().items() if k != "model"
    )
    compared = found.comparison
    sentences = "".join(f"<li>{esc(s)}</li>" for s in (compared.sentences if compared else []))
    return (
        f"<div class='box'><p class='lead'>The chosen operating point is <b>"
        f"{esc(candidate.model.name)}</b> (trial {selection.trial}, picked by "
        f"{esc(selection.method)}).</p><ul>{sentences}</ul>"
        f"<p class='muted'>Why this point: {esc(selection.reason)}</p>"
        f"<details><summary>its settings</summary><p class='muted'>{params}</p></details></div>"
    )


def page(found: Facts, run_dir: Path) -> str:
    """The whole report page as one HTML string."""
    from plotly.offline import get_plotlyjs

    view, selection = found.view, found.selection
    points = _Points(view, selection)
    names = " / ".join(o.name for o in view.objectives)
    title = f"{view.config.name}: the {names} trade-off on {view.meta['dataset']['name']}"
    body = [
        f"<h1>{esc(title)}</h1>",
        _summary_html(view, selection),
        _chosen_html(found),
    ]
    if found.comparison is not None:
        body += [
            "<h2>The chosen point against the baseline and the most accurate point</h2>",
            "<p>Validation values (the stage the choice was made on). The popularity baseline "
            "recommends the most rated items with no re-ranking; the most accurate point is "
            f"the front's best {esc(view.objectives[0].name)}.</p>",
            table(found.comparison.table(), {"(better)": "better", "(worse)": "worse"}),
        ]
    body += [
        "<h2>The trade-off</h2>",
        "<p>Each dot is one evaluated configuration; the coloured, solid dots are the front "
        "(no other point is at least as good on every objective and better on one). Click a "
        "legend entry to hide a model, drag to zoom, double-click to reset.</p>",
        _figure_html(front_figure(points), "front", 560),
    ]
    if len(view.objectives) >= 3:
        parallel, legend = parallel_figure(points)
        body += [
            "<h2>All objectives at once</h2>",
            "<p>Every pair of objectives for the front's points (drag to select points; they "
            "light up in every panel):</p>",
            _figure_html(matrix_figure(points), "matrix", 300 + 190 * len(view.objectives)),
            f"<p>The same front in parallel coordinates, one line per point ({legend}); drag "
            "along an axis to keep only the lines through that range:</p>",
            _figure_html(parallel, "parallel", 480),
        ]
    body += [
        "<h2>What the hypervolume says</h2>",
        *[f"<p>{esc(line)}</p>" for line in found.hypervolume],
        _figure_html(hypervolume_figure(view), "hypervolume", 380),
        "<h2>Validation and test</h2>",
        _stages_html(found),
        "<h2>Which knob moves which objective</h2>",
    ]
    if found.importance is not None:
        frame = found.importance
        body += [
            f"<p>{esc(IMPORTANCE_WORDS)}</p><p class='muted'>{esc(found.importance_trust)}</p>",
            _figure_html(importance_figure(frame), "importance", 200 + 24 * len(frame)),
            table(frame.reset_index()),
        ]
    else:
        body.append(f"<p class='muted'>Not shown: {esc(found.importance_note)}.</p>")
    body += ["<h2>Reproduce</h2>", _commands(found, run_dir)]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def write_html(found: Facts, path: Path, run_dir: Path) -> Path:
    """Write the report page to ``path`` (atomically, never through a planted link)."""
    atomic_write(path, page(found, run_dir))
    return path
