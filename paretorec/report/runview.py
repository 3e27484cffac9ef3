"""A finished (or running) run directory, read back for selection, plots and reports.

Everything here comes from the run's own files; no dataset is loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paretorec.config import ExperimentConfig, from_dict
from paretorec.errors import DataError
from paretorec.objectives import Objective, column, make_objective, to_min
from paretorec.optimize.run import CONFIG, FRONT, HISTORY, META, TRIALS
from paretorec.optimize.store import TrialStore
from paretorec.select.pareto import finite_min

CHOSEN = "chosen.json"
PLOTS = "plots"


@dataclass(frozen=True, eq=False)
class RunView:
    """The files of one run directory.

    Attributes:
        run_dir: The directory.
        meta: ``run.json``.
        config: The resolved experiment config.
        trials: ``trials.csv``.
        front: ``front.csv`` (non-dominated on validation objectives, duplicates dropped).
        history: ``history.csv``.
    """

    run_dir: Path
    meta: dict[str, Any]
    config: ExperimentConfig
    trials: pd.DataFrame
    front: pd.DataFrame
    history: pd.DataFrame

    @classmethod
    def load(cls, run_dir: str | Path) -> RunView:
        run_dir = Path(run_dir)
        needed = [META, CONFIG, TRIALS, FRONT, HISTORY]
        missing = [name for name in needed if not (run_dir / name).is_file()]
        if missing:
            raise DataError(
                f"{run_dir}: not a paretorec run (missing {', '.join(missing)}); "
                "run `paretorec tune CONFIG --out DIR` first"
            )
        try:
            meta = json.loads((run_dir / META).read_text())
            config = from_dict(ExperimentConfig, json.loads((run_dir / CONFIG).read_text()))
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{run_dir}: a run file is not valid JSON ({exc}); was it edited?"
            ) from None
        return cls(
            run_dir=run_dir,
            meta=meta,
            config=config,
            trials=pd.read_csv(run_dir / TRIALS),
            front=pd.read_csv(run_dir / FRONT),
            history=pd.read_csv(run_dir / HISTORY),
        )

    @cached_property
    def objectives(self) -> tuple[Objective, ...]:
        return tuple(
            make_objective(o["name"], o["direction"], o["best"], o["worst"])
            for o in self.meta["objectives"]
        )

    def columns(self, stage: str = "validation") -> list[str]:
        return [column(stage, o.name) for o in self.objectives]

    def natural(self, frame: pd.DataFrame, stage: str = "validation") -> np.ndarray:
        """``(n, m)`` objective values in their own units."""
        return frame[self.columns(stage)].to_numpy(dtype=np.float64)

    def minimised(self, frame: pd.DataFrame, stage: str = "validation") -> np.ndarray:
        """``(n, m)`` the same values in pymoo's minimisation form."""
        return finite_min(to_min(self.objectives, self.natural(frame, stage)))

    @property
    def parameters(self) -> list[str]:
        return list(self.meta["parameters"])

    def record(self, trial: int) -> tuple[dict[str, Any], dict[str, float]]:
        """A trial's exact parameters and results, from the store (the CSV loses int types
        and may round floats)."""
        store = TrialStore(self.run_dir)
        try:
            found = store.record(trial)
        finally:
            store.close()
        if found is None:
            raise DataError(f"{self.run_dir}: trial {trial} is not in {TrialStore.FILENAME}")
        return found

    def params(self, trial: int) -> dict[str, Any]:
        return self.record(trial)[0]

    def chosen_trial(self) -> int | None:
        """The trial id recorded by ``paretorec select``, if any."""
        path = self.run_dir / CHOSEN
        if not path.is_file():
            return None
        return int(json.loads(path.read_text())["run"]["trial"])
