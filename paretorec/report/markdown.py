"""``paretorec report``: a run summarised for stakeholders as Markdown, with its artefacts.

Every string that comes from a user (the config's name, a selection's reason, parameter
values) is escaped: a name is a heading's text, never Markdown or HTML of its own.
"""

from __future__ import annotations

import json
import os
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
from paretorec.report.compare import (
    IMPORTANCE_WORDS,
    Facts,
    Importance,
    facts,
    interval_table,
    number,
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
HTML = "report.html"
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#!|~&$])")


def md(value: object) -> str:
    """``value`` as literal Markdown text: special characters escaped, one line, control
    characters dropped."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return _MARKDOWN.sub(r"\\\1", text)


def _fmt(value: object) -> str:
    if isinstance(value, float | np.floating | int | np.integer) and not isinstance(value, bool):
        return number(value)  # 4 significant digits, as report.html prints them
    if value is None or value is pd.NA:
        return ""
    return md(value)


def _table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(md(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def write_report(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    resamples: int = 1000,
    seed: int = 0,
    importance: Importance | None = None,
) -> Path:
    """Copy front.csv, history.csv, chosen.json and plots to ``out_dir`` and write results.md
    and report.html (the same facts, interactive).

    Args:
        run_dir: The run.
        out_dir: Where the report goes (created).
        data_dir: Where the run's dataset is: the chosen point is refit for its 95 %
            intervals on validation and test.
        resamples: Bootstrap resamples of those intervals; 0 leaves them out (no data read).
        seed: Bootstrap seed.
        importance: The knob-importance hook (``compare.Importance``); None leaves that
            section out.

    Raises:
        ParetoRecError: the run does not load (a damaged file is named) or ``out_dir`` cannot
            be written; both are checked before anything is drawn or written.
    """
    from paretorec.report.html import write_html

    view = Result.load(run_dir)
    for dotted, kind in REPORT_FIELDS.items():
        meta_field(view.meta, dotted, kind, Path(run_dir) / META)
    selection = view.chosen()  # a damaged chosen.json stops here, named
    out = writable_dir(out_dir, "--out")
    found = facts(view, selection, data_dir, resamples, seed, importance)
    _copy_artefacts(view, Path(run_dir), out, selection is not None)
    plots = save(figures(view), out / PLOTS)
    lines = [
        *_summary(view),
        *_chosen_lines(view, selection),
        *_comparison_lines(found),
        *_hypervolume_lines(found),
        *_stage_lines(found),
        *_importance_lines(found),
        *_front_lines(view, plots),
    ]
    path = out / "results.md"
    atomic_write(path, "\n".join(lines))
    write_html(found, out / HTML, Path(run_dir))
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
        f"{md(meta['hypervolume']['reference_point'])}. Final: {number(final)} (what it "
        "means: below).",
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


def _comparison_lines(found: Facts) -> list[str]:
    compared = found.comparison
    if compared is None:
        return []
    return [
        "## The chosen point against the baseline and the most accurate point",
        "",
        *_paragraphs(compared.sentences),
        "Validation values (the stage the choice was made on); the popularity baseline "
        "recommends the most rated items, with no re-ranking.",
        "",
        _table(compared.table()),
        "",
    ]


def _hypervolume_lines(found: Facts) -> list[str]:
    return ["## What the hypervolume says", "", *_paragraphs(found.hypervolume)]


def _paragraphs(lines: list[str]) -> list[str]:
    """Each line its own Markdown paragraph (consecutive lines would merge into one)."""
    return [part for line in lines for part in (md(line), "")]


def _stage_lines(found: Facts) -> list[str]:
    gap = found.stages
    lines = ["## Validation and test", "", *_paragraphs(gap.lines)]
    if gap.intervals.empty:
        return [*lines, f"95 % intervals: {md(gap.note)}.", ""]
    frame = interval_table(gap)
    return [
        *lines,
        "The chosen point refit on its own split, with 95 % bootstrap intervals over users "
        "(as `paretorec evaluate` prints them):",
        "",
        _table(frame),
        "",
    ]


def _importance_lines(found: Facts) -> list[str]:
    head = ["## Which knob moves which objective", ""]
    if found.importance is None:
        return [*head, f"Not shown: {md(found.importance_note)}.", ""]
    return [
        *head,
        f"{IMPORTANCE_WORDS} {md(found.importance_trust)}",
        "",
        _table(found.importance.reset_index()),
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
