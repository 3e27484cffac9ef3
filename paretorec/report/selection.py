"""``paretorec select`` and the reproduction check of ``paretorec recommend --fit-on run``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from paretorec.errors import DataError
from paretorec.export import OperatingPoint, Served, save_point
from paretorec.metrics import parse_metric
from paretorec.objectives import column, stage_values
from paretorec.pipeline import Candidate, RankedLists
from paretorec.report.runview import CHOSEN, RunView
from paretorec.select.selectors import SELECTORS, Selection


@dataclass(frozen=True)
class Choice:
    """The outcome of a selection: the run, the chosen front row, why, and the export."""

    view: RunView
    row: pd.Series
    selection: Selection
    point: OperatingPoint
    path: Path

    def summary(self) -> str:
        """What ``paretorec select`` prints."""
        lines = [
            f"chosen: trial {int(self.row['trial'])} of {len(self.view.trials)} "
            f"({len(self.view.front)} on the front), method {self.selection.method}"
        ]
        for name, value in self.point.candidate.values().items():
            lines.append(f"  {name:<20} {value}")
        lines.append(f"  {'':<20} {'validation':>12} {'test':>12}")
        for o in self.view.objectives:
            val = self.row[column("validation", o.name)]
            test = self.row[column("test", o.name)]
            label = f"{o.name} ({o.direction})"
            lines.append(f"  {label:<20} {val:>12.5g} {test:>12.5g}")
        lines.append(f"why: {self.selection.reason}")
        lines.append(f"wrote {self.path}")
        return "\n".join(lines)


def choose(
    run_dir: str | Path,
    method: str,
    weights: Sequence[float] | None = None,
    minimums: Sequence[str] = (),
    maximums: Sequence[str] = (),
    then: str = "knee",
    out: str | Path | None = None,
) -> Choice:
    """Select a point from the run's front (validation objectives) and export it."""
    view = RunView.load(run_dir)
    front = view.front.reset_index(drop=True)
    if front.empty:
        raise DataError(f"{run_dir}: the front is empty; did the run evaluate anything?")
    F = view.minimised(front)
    selector = SELECTORS.get(method)
    if method == "constraint":
        selection = selector(F, view.objectives, view.natural(front), minimums, maximums, then)
    elif method == "knee":
        selection = selector(F, view.objectives)
    else:
        selection = selector(F, view.objectives, weights)
    row = front.iloc[selection.index]
    config = view.config
    params, results = view.record(int(row["trial"]))
    values = {stage: stage_values(results, stage) for stage in ("validation", "test")}
    point = OperatingPoint(
        candidate=Candidate.from_values(params),
        k=config.evaluation.k,
        data=config.data,
        dataset_checksum=view.meta["dataset"]["checksum"],
        split=config.split,
        seed=config.search.seed,
        values=values,
        selection={"method": selection.method, "reason": selection.reason},
        run={"dir": str(view.run_dir), "trial": int(row["trial"])},
    )
    path = Path(out) if out is not None else view.run_dir / CHOSEN
    save_point(point, path)
    return Choice(view, row, selection, point, path)


def reproduce(served: Served, lists: RankedLists) -> tuple[bool, list[str]]:
    """Score lists fitted on the run's data against its test split; compare with the export.

    Returns:
        Whether every deterministic metric matches exactly, and one line per metric.
    """
    ctx = served.pipeline.context(served.stage, lists)
    expected = served.point.values.get("test", {})
    ok = True
    lines = ["reproduction of the run's test numbers (fit on train+validation, scored on test):"]
    for name, want in expected.items():
        ref = parse_metric(name)
        if not ref.metric.deterministic:
            continue
        got, _ = ref.compute(ctx)
        same = got == want or (np.isnan(got) and np.isnan(want))
        ok &= bool(same)
        lines.append(
            f"  {name:<18} run {want:.10g}  now {got:.10g}  {'same' if same else 'DIFFERENT'}"
        )
    return ok, lines
