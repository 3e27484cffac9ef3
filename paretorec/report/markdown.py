"""``paretorec report``: a run summarised for stakeholders as Markdown, with its artefacts.

Every string that comes from a user (the config's name, a selection's reason, parameter
values) is escaped: a name is a heading's text, never Markdown or HTML of its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paretorec.objectives import column
from paretorec.optimize.rundir import (
    CHOSEN,
    CONFIG,
    FRONT,
    HISTORY,
    META,
    PLOTS,
    atomic_copy,
    atomic_write,
    writable_dir,
)
from paretorec.report.plots import figures, save
from paretorec.result import Result, Selection, meta_field
from paretorec.study.study import portable

# What the report reads from run.json beyond what ``Result.load`` checks, with JSON types.
REPORT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "dataset.users": int,
    "dataset.items": int,
    "dataset.interactions": int,
    "split.method": str,
    "split.test": (int, float),
    "split.validation": (int, float),
    "split.seed": int,
    "split.sizes.train": int,
    "split.sizes.validation": int,
    "split.sizes.test": int,
    "seed": int,
    "paretorec_version": str,
    "numpy": str,
    "pymoo": str,
    "hypervolume.space": str,
    "hypervolume.reference_point": list,
}
SPLIT_WORDS = {
    "holdout": "per-user random holdout",
    "temporal": "one global time cutoff",
    "leave_last": "each user's last events",
}
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#!|~&$])")


def md(value: object) -> str:
    """``value`` as literal Markdown text: special characters escaped, one line, control
    characters dropped."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return _MARKDOWN.sub(r"\\\1", text)


def _fmt(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        return f"{value:.4g}"
    return md(value)


def _table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(md(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def write_report(run_dir: str | Path, out_dir: str | Path) -> Path:
    """Copy front.csv, history.csv, chosen.json and plots to ``out_dir`` and write results.md.

    Raises:
        ParetoRecError: the run does not load (a damaged file is named) or ``out_dir`` cannot
            be written; both are checked before anything is drawn or written.
    """
    view = Result.load(run_dir)
    for dotted, kind in REPORT_FIELDS.items():
        meta_field(view.meta, dotted, kind, Path(run_dir) / META)
    selection = view.chosen()  # a damaged chosen.json stops here, named
    out = writable_dir(out_dir, "--out")
    _copy_artefacts(view, Path(run_dir), out, selection is not None)
    plots = save(figures(view), out / PLOTS)
    lines = [*_summary(view), *_chosen_lines(view, selection), *_front_lines(view, plots)]
    path = out / "results.md"
    atomic_write(path, "\n".join(lines))
    return path


def _copy_artefacts(view: Result, run: Path, out: Path, chosen: bool) -> None:
    """The run's tables and files, written afresh (never through a link planted in
    ``out``); run.json without machine paths."""
    for name in (FRONT, HISTORY):
        if (run / name).is_file():
            atomic_copy(run / name, out / name)
    frame = view.history
    if not (run / HISTORY).is_file():
        atomic_write(out / HISTORY, frame.to_csv(index=False))
    if not (run / FRONT).is_file():
        atomic_write(out / FRONT, view.front.to_csv(index=False))
    atomic_write(out / META, json.dumps(_portable_meta(view.meta), indent=2, default=str) + "\n")
    atomic_copy(run / CONFIG, out / CONFIG)
    if chosen:
        atomic_copy(run / CHOSEN, out / CHOSEN)


def _portable_meta(meta: dict[str, Any]) -> dict[str, Any]:
    dataset = dict(meta["dataset"])
    if isinstance(dataset.get("cleaning"), list):
        dataset["cleaning"] = [portable(str(line)) for line in dataset["cleaning"]]
    return {**meta, "dataset": dataset}


def _summary(view: Result) -> list[str]:
    meta = view.meta
    data, split, search = meta["dataset"], meta["split"], view.config.search
    sizes = split["sizes"]
    names = " / ".join(o.name for o in view.objectives)
    how = SPLIT_WORDS.get(split["method"], md(split["method"]))
    final = view.history["hypervolume"].iloc[-1] if len(view.history) else float("nan")
    return [
        f"# {md(view.config.name)}: the {md(names)} front on {md(data['name'])}",
        "",
        f"- data: {md(data['name'])} ({data['users']} users, {data['items']} items, "
        f"{data['interactions']:,} interactions, {md(data['checksum'][:23])}...)",
        f"- split: {how}, test {split['test']}, validation {split['validation']} of "
        f"the rest, seed {split['seed']} ({sizes['train']:,} train / {sizes['validation']:,} "
        f"validation / {sizes['test']:,} test)",
        f"- search: {md(search.algorithm)}, population {search.population} x "
        f"{search.generations} generations, seed {meta['seed']}: "
        f"{_fmt(meta.get('evaluations', len(view.trials)))} evaluations, "
        f"{_fmt(meta.get('fits', '?'))} model fits (+{_fmt(meta.get('setup_fits', 0))} for the "
        "baselines)",
        f"- paretorec {md(meta['paretorec_version'])}, numpy {md(meta['numpy'])}, "
        f"pymoo {md(meta['pymoo'])}",
        "",
        "## Objectives",
        "",
        "Selection uses validation values only; test values (fit on train + validation, scored on "
        "the held-out test interactions) are reported beside them.",
        "",
        _table(pd.DataFrame([vars(o) for o in view.objectives])),
        "",
        f"Hypervolume: {md(meta['hypervolume']['space'])}; reference point "
        f"{md(meta['hypervolume']['reference_point'])}. Final: {final:.5f}.",
        "",
    ]


def _chosen_lines(view: Result, selection: Selection | None) -> list[str]:
    if selection is None:
        return []
    point = selection.point
    values = point.candidate.values()
    test = point.values.get("test", {})
    return [
        "## Chosen operating point",
        "",
        f"Trial {selection.trial}, by {md(selection.method)}: {md(selection.reason)}.",
        "",
        _table(pd.DataFrame([values])),
        "",
        _table(
            pd.DataFrame(
                [
                    {"metric": name, "validation": value, "test": test.get(name, np.nan)}
                    for name, value in point.values.get("validation", {}).items()
                ],
                columns=["metric", "validation", "test"],
            )
        ),
        "",
    ]


def _front_lines(view: Result, plots: list[Path]) -> list[str]:
    front = view.front.copy()
    objective_cols = [column(s, o.name) for o in view.objectives for s in ("validation", "test")]
    show = ["trial", *[p for p in view.parameters if front[p].notna().any()], *objective_cols]
    first = column("validation", view.objectives[0].name)
    front = front.sort_values(first, ascending=view.objectives[0].direction == "min")
    return [
        f"## The front ({len(front)} points, non-dominated on validation objectives)",
        "",
        _table(front[show]),
        "",
        "## Plots",
        "",
        *[f"![{p.stem}](plots/{p.name})" for p in plots],
        "",
    ]
