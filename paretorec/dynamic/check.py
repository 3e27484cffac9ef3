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

from paretorec.config import DataConfig, SplitConfig, load_config
from paretorec.errors import ConfigError, DataError
from paretorec.objectives import Objective, column, front_mask, normalise, to_min
from paretorec.optimize.rundir import CHECK, atomic_write, writable_file
from paretorec.result import Result
from paretorec.study import Study


@dataclass(frozen=True)
class CheckResult:
    """The re-scored front and what it says about the chosen point."""

    lines: list[str]
    report: dict[str, Any]


@dataclass(frozen=True)
class NewData:
    """The new data and split to re-score on, and what was taken from where."""

    data: DataConfig
    split: SplitConfig
    notes: list[str]


@dataclass(frozen=True)
class Verdict:
    """What re-scoring a front says about its chosen point.

    Attributes:
        on_front: ``(n,)`` which re-scored points are non-dominated among themselves.
        dominated_by: Rows of the points that dominate the chosen one now.
        moved: How far the chosen point moved, in the normalised objective space of the
            objectives' hypervolume bounds (0 = unchanged, 1 = the span from best to reference).
    """

    on_front: np.ndarray
    dominated_by: list[int]
    moved: float

    @property
    def dominated(self) -> bool:
        return bool(self.dominated_by)


def assess(
    objectives: tuple[Objective, ...],
    old_values: np.ndarray,
    new_values: np.ndarray,
    chosen: int,
) -> Verdict:
    """The chosen point against the re-scored front (``check``'s rule, and ``replay``'s
    trigger).

    Args:
        objectives: The run's objectives (their bounds normalise the distance moved).
        old_values: ``(n, m)`` the points' objective values when they were chosen from.
        new_values: ``(n, m)`` the same points re-scored on new data.
        chosen: Row of the chosen point.
    """
    F_new = to_min(objectives, new_values)
    dominated_by = [
        i
        for i in range(len(F_new))
        if i != chosen and np.all(F_new[i] <= F_new[chosen]) and np.any(F_new[i] < F_new[chosen])
    ]
    moved = normalise(objectives, to_min(objectives, new_values[chosen])) - normalise(
        objectives, to_min(objectives, old_values[chosen])
    )
    return Verdict(front_mask(F_new), dominated_by, float(np.linalg.norm(moved)))


def new_data_config(run: Result, source: str | Path) -> DataConfig:
    """The new data: an experiment config's ``[data]`` (``.toml`` / ``.json``) or a CSV /
    Parquet file read with the run's column mapping and cleaning."""
    return new_data(run, source).data


def new_data(run: Result, source: str | Path) -> NewData:
    """The new data and split. A config brings its own ``[data]`` and ``[split]`` (its
    ``[split]`` is used, and said when it differs from the run's); a data file is split as
    the run was. Sections of the config that ``check`` cannot use (the space, the objectives,
    the search) are the run's, and a line says so when they differ."""
    path = Path(source)
    if path.suffix in (".toml", ".json"):
        new = load_config(path)
        notes = []
        if new.split != run.config.split:
            notes.append(
                f"split: {path}'s [split] ({_split_text(new.split)}), not the run's "
                f"({_split_text(run.config.split)})"
            )
        ignored = [
            key
            for key in ("evaluation", "objectives", "search", "constraints", "space")
            if getattr(new, key) != getattr(run.config, key)
        ]
        if ignored:
            notes.append(
                f"note: {path}'s {', '.join(ignored)} differ from the run's and are not used "
                "(a check re-scores the run's own points and objectives)"
            )
        return NewData(new.data, new.split, notes)
    if path.suffix.lower() in (".csv", ".parquet", ".pq"):
        base = run.config.data
        if base.dataset != "file":
            base = DataConfig()
        return NewData(
            dataclasses.replace(base, dataset="file", path=str(path)), run.config.split, []
        )
    raise ConfigError(
        f"--data {source}: expected an experiment config (.toml / .json) or a CSV / Parquet "
        "file of interactions"
    )


def _split_text(split: SplitConfig) -> str:
    return f"{split.method}, test {split.test}, validation {split.validation}, seed {split.seed}"


def check_run(
    run_dir: str | Path, source: str | Path, data_dir: str | os.PathLike[str] | None = None
) -> CheckResult:
    """Re-score the run's front and chosen point on new data and compare.

    Raises:
        ParetoRecError: the run or its chosen point does not load, the new data does not, or
            the new data and split are the run's own (nothing would be checked).
    """
    run = Result.load(run_dir)
    selection = run.chosen()
    if selection is None:
        raise DataError(f"{run_dir}: no chosen point yet; run `paretorec select {run_dir}` first")
    writable_file(Path(run_dir) / CHECK, "RUN")
    chosen = selection.trial
    if chosen not in {r.trial for r in run.records}:
        raise DataError(
            f"{Path(run_dir) / 'chosen.json'}: field `run.trial`: trial {chosen} is not in this "
            "run; select again with `paretorec select`"
        )
    fresh = new_data(run, source)
    config = dataclasses.replace(run.config, data=fresh.data, split=fresh.split)
    study = Study.prepare(config, data_dir)
    if (
        study.dataset.checksum == run.meta["dataset"]["checksum"]
        and fresh.split == run.config.split
    ):
        raise ConfigError(
            f"--data {source}: the same data as the run's (checksum "
            f"{study.dataset.checksum[:19]}...) with the same split: nothing would change; "
            "point --data at the new data"
        )
    trials = [r.trial for r in run.front_records]
    if chosen not in trials:
        trials.append(chosen)
    cols = [column("validation", o.name) for o in study.objectives]
    old_cols = [column("validation", o.name) for o in run.objectives]
    rescored = [study.evaluate(run.record(t).params, ("validation",))[0] for t in trials]
    new_values = np.array([[r[c] for c in cols] for r in rescored])
    old_values = np.array(
        [[run.record(t).results.get(c, np.nan) for c in old_cols] for t in trials]
    )
    c = trials.index(chosen)
    verdict = assess(run.objectives, old_values, new_values, c)
    on_front, distance = verdict.on_front, verdict.moved
    dominated_by = [trials[i] for i in verdict.dominated_by]
    same = study.dataset.checksum == run.meta["dataset"]["checksum"]
    lines = [
        f"re-scored {len(trials)} points of {run_dir}'s front on {config.data.dataset} "
        f"({study.dataset.checksum[:23]}...{', the run data' if same else ''}), validation stage",
        *fresh.notes,
        f"chosen point (trial {chosen}): "
        + (
            "still non-dominated"
            if on_front[c]
            else f"now dominated by trial(s) {', '.join(map(str, dominated_by))}"
        ),
    ]
    for j, o in enumerate(study.objectives):
        lines.append(
            f"  {o.name:<20} was {old_values[c, j]:.4g}  now {new_values[c, j]:.4g}  "
            f"({new_values[c, j] - old_values[c, j]:+.3g})"
        )
    lines.append(
        f"moved {distance:.3f} in the run's normalised objective space (0 = unchanged, "
        "1 = the span from best to reference); "
        f"{int(on_front.sum())} of {len(trials)} old front points are still non-dominated"
    )
    report = {
        "data": dataclasses.asdict(config.data),
        "split": dataclasses.asdict(config.split),
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
