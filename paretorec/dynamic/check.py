"""``paretorec check``: is the chosen point still a good choice on new data?

The run's front and its chosen point are re-scored on the new data with the run's own settings
(space, objectives, split method, seed). The report says whether the chosen point is still
non-dominated among the re-scored front, which points dominate it if not, and how far each
objective moved.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from paretorec.config import DataConfig, load_config
from paretorec.errors import ConfigError, DataError
from paretorec.objectives import column, front_mask, normalise, to_min
from paretorec.optimize.rundir import CHECK, atomic_write
from paretorec.result import Result
from paretorec.study import Study


@dataclass(frozen=True)
class CheckResult:
    """The re-scored front and what it says about the chosen point."""

    lines: list[str]
    report: dict[str, Any]


def new_data_config(run: Result, source: str | Path) -> DataConfig:
    """The new data: an experiment config's ``[data]`` (``.toml`` / ``.json``) or a CSV /
    Parquet file read with the run's column mapping and cleaning."""
    path = Path(source)
    if path.suffix in (".toml", ".json"):
        return load_config(path).data
    if path.suffix.lower() in (".csv", ".parquet", ".pq"):
        base = run.config.data
        if base.dataset != "file":
            base = DataConfig()
        return dataclasses.replace(base, dataset="file", path=str(path))
    raise ConfigError(
        f"--data {source}: expected an experiment config (.toml / .json) or a CSV / Parquet "
        "file of interactions"
    )


def check_run(
    run_dir: str | Path, source: str | Path, data_dir: str | os.PathLike[str] | None = None
) -> CheckResult:
    """Re-score the run's front and chosen point on new data and compare."""
    run = Result.load(run_dir)
    selection = run.chosen()
    if selection is None:
        raise DataError(f"{run_dir}: no chosen point yet; run `paretorec select {run_dir}` first")
    chosen = selection.trial
    config = dataclasses.replace(run.config, data=new_data_config(run, source))
    study = Study.prepare(config, data_dir)
    trials = [r.trial for r in run.front_records]
    if chosen not in trials:
        trials.append(chosen)
    cols = [column("validation", o.name) for o in study.objectives]
    old_cols = [column("validation", o.name) for o in run.objectives]
    rescored = [study.evaluate(run.record(t).params, ("validation",))[0] for t in trials]
    new_values = np.array([[r[c] for c in cols] for r in rescored])
    old_values = np.array([[run.record(t).results[c] for c in old_cols] for t in trials])
    F_new = to_min(study.objectives, new_values)
    on_front = front_mask(F_new)
    c = trials.index(chosen)
    dominated_by = [
        trials[i]
        for i in range(len(trials))
        if i != c and np.all(F_new[i] <= F_new[c]) and np.any(F_new[i] < F_new[c])
    ]
    moved = normalise(run.objectives, to_min(run.objectives, new_values[c])) - normalise(
        run.objectives, to_min(run.objectives, old_values[c])
    )
    distance = float(np.linalg.norm(moved))
    lines = [
        f"re-scored {len(trials)} points of {run_dir}'s front on {config.data.dataset} "
        f"({study.dataset.checksum[:23]}...), validation stage",
        f"chosen point (trial {chosen}): "
        + (
            "still non-dominated"
            if on_front[c]
            else f"now dominated by trial(s) {', '.join(map(str, dominated_by))}"
        ),
    ]
    for j, o in enumerate(study.objectives):
        lines.append(
            f"  {o.name:<20} was {old_values[c, j]:.5g}  now {new_values[c, j]:.5g}  "
            f"({new_values[c, j] - old_values[c, j]:+.3g})"
        )
    lines.append(
        f"moved {distance:.3f} in the run's normalised objective space (0 = unchanged, "
        "1 = the span from best to reference); "
        f"{int(on_front.sum())} of {len(trials)} old front points are still non-dominated"
    )
    report = {
        "data": dataclasses.asdict(config.data),
        "checksum": study.dataset.checksum,
        "chosen": chosen,
        "chosen_non_dominated": bool(on_front[c]),
        "dominated_by": dominated_by,
        "moved_normalised": distance,
        "points": [
            {
                "trial": t,
                "non_dominated": bool(on_front[i]),
                "old": dict(zip(old_cols, old_values[i].tolist(), strict=True)),
                "new": dict(zip(cols, new_values[i].tolist(), strict=True)),
            }
            for i, t in enumerate(trials)
        ],
    }
    atomic_write(Path(run_dir) / CHECK, json.dumps(report, indent=2) + "\n")
    lines.append(f"wrote {Path(run_dir) / CHECK}")
    return CheckResult(lines, report)
