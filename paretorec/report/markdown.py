"""``paretorec report``: a run summarised for stakeholders as Markdown, with its artefacts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from paretorec.objectives import column
from paretorec.optimize.rundir import CHOSEN, CONFIG, FRONT, HISTORY, META, PLOTS
from paretorec.report.plots import figures, save
from paretorec.result import Result


def _fmt(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        return f"{value:.4g}"
    return str(value)


def _table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


def write_report(run_dir: str | Path, out_dir: str | Path) -> Path:
    """Copy front.csv, history.csv, chosen.json and plots to ``out_dir`` and write results.md."""
    view = Result.load(run_dir)
    run = Path(run_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in (FRONT, HISTORY, META, CONFIG):
        shutil.copyfile(run / name, out / name)
    plots = save(figures(view), out / PLOTS)
    chosen = run / CHOSEN
    meta = view.meta
    data, split, search = meta["dataset"], meta["split"], view.config.search
    sizes = split["sizes"]
    names = " / ".join(o.name for o in view.objectives)
    how = {
        "holdout": "per-user random holdout",
        "temporal": "one global time cutoff",
        "leave_last": "each user's last events",
    }[split["method"]]
    lines = [
        f"# {view.config.name}: the {names} front on {data['name']}",
        "",
        f"- data: {data['name']} ({data['users']} users, {data['items']} items, "
        f"{data['interactions']:,} interactions, `{data['checksum'][:23]}...`)",
        f"- split: {how}, test {split['test']}, validation {split['validation']} of "
        f"the rest, seed {split['seed']} ({sizes['train']:,} train / {sizes['validation']:,} "
        f"validation / {sizes['test']:,} test)",
        f"- search: {search.algorithm}, population {search.population} x {search.generations} "
        f"generations, seed {meta['seed']}: {meta.get('evaluations', len(view.trials))} "
        f"evaluations, {meta.get('fits', '?')} model fits (+{meta.get('setup_fits', 0)} for the "
        "baselines)",
        f"- paretorec {meta['paretorec_version']}, numpy {meta['numpy']}, pymoo {meta['pymoo']}",
        "",
        "## Objectives",
        "",
        "Selection uses validation values only; test values (fit on train + validation, scored on "
        "the held-out test interactions) are reported beside them.",
        "",
        _table(pd.DataFrame(meta["objectives"])),
        "",
        f"Hypervolume: {meta['hypervolume']['space']}; reference point "
        f"{meta['hypervolume']['reference_point']}. Final: "
        f"{view.history['hypervolume'].iloc[-1]:.5f}.",
        "",
    ]
    if chosen.is_file():
        point = json.loads(chosen.read_text())
        shutil.copyfile(chosen, out / CHOSEN)
        params = {"model": point["model"]["name"], **point["model"]["params"], **point["rerank"]}
        lines += [
            "## Chosen operating point",
            "",
            f"Trial {point['run']['trial']}, by `{point['selection']['method']}`: "
            f"{point['selection']['reason']}.",
            "",
            _table(pd.DataFrame([params])),
            "",
            _table(
                pd.DataFrame(
                    [
                        {"metric": name, "validation": value, "test": point["values"]["test"][name]}
                        for name, value in point["values"]["validation"].items()
                    ]
                )
            ),
            "",
        ]
    front = view.front.copy()
    objective_cols = [column(s, o.name) for o in view.objectives for s in ("validation", "test")]
    show = ["trial", *[p for p in view.parameters if front[p].notna().any()], *objective_cols]
    first = column("validation", view.objectives[0].name)
    front = front.sort_values(first, ascending=view.objectives[0].direction == "min")
    lines += [
        f"## The front ({len(front)} points, non-dominated on validation objectives)",
        "",
        _table(front[show]),
        "",
        "## Plots",
        "",
        *[f"![{p.stem}](plots/{p.name})" for p in plots],
        "",
    ]
    path = out / "results.md"
    path.write_text("\n".join(lines))
    return path
