"""A run as an object: its trials, front and history with exact types, selection, and the
recommender behind a chosen point.

``tune`` returns a ``Result``; ``Result.load(RUN)`` reads the same object back from a run
directory. The CLI's ``select``, ``plot`` and ``report`` are this object's methods and the
renderers that read it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paretorec.config import ExperimentConfig, from_dict
from paretorec.errors import ConfigError, DataError
from paretorec.export.point import OperatingPoint, load_point, save_point
from paretorec.export.recommender import Recommender, recommender
from paretorec.metrics import parse_metric
from paretorec.objectives import (
    STAGE_PREFIX,
    Constraint,
    Objective,
    column,
    finite_min,
    make_objective,
    stage_values,
    to_min,
)
from paretorec.optimize.rundir import CHOSEN, CONFIG, META, STORE, RunDir, front_ledger
from paretorec.optimize.store import HISTORY_COLUMNS, TrialRecord
from paretorec.select import FrontView, Selector, build_selector
from paretorec.space import Int, Real, SearchSpace
from paretorec.study import Candidate, plan


@dataclass(frozen=True)
class Selection:
    """A chosen operating point and why it was chosen.

    Attributes:
        point: The exportable point (model, parameters, re-rank settings, k, provenance).
        reason: Why it won, in words.
        method: The selector's name.
        trial: The trial it came from.
    """

    point: OperatingPoint
    reason: str
    method: str
    trial: int

    @property
    def values(self) -> dict[str, dict[str, float]]:
        """``{"validation": {...}, "test": {...}}`` metric values of the point."""
        return self.point.values

    def export(self, path: str | os.PathLike[str]) -> Path:
        """Write the point as a versioned JSON file (``load_operating_point`` reads it)."""
        return save_point(self.point, path)


@dataclass(frozen=True, eq=False)
class Result:
    """A finished (or stopped) run.

    Attributes:
        config: The experiment config.
        space: The search space.
        objectives: The objectives with their hypervolume bounds.
        constraints: The constraints, limits resolved.
        records: Every trial, in trial order, with exact parameter types.
        history_rows: ``(generation, evaluations, hypervolume, front size, seconds)``.
        meta: What ``run.json`` holds (dataset checksum, baselines, counts, ...).
        result_columns: Every result column, in display order.
        run_dir: The run directory, None for a run kept in memory.
    """

    config: ExperimentConfig
    space: SearchSpace
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    records: tuple[TrialRecord, ...]
    history_rows: tuple[tuple, ...]
    meta: dict[str, Any]
    result_columns: tuple[str, ...]
    run_dir: Path | None = None

    # --- reading a run directory ----------------------------------------------------------

    @classmethod
    def load(cls, run_dir: str | os.PathLike[str]) -> Result:
        """Read a run directory (no dataset is loaded)."""
        rd = RunDir(run_dir)
        rd.require(META, CONFIG, STORE)
        records, history = tuple(rd.records()), tuple(rd.history())
        meta = rd.read_json(META)
        try:
            config = from_dict(ExperimentConfig, rd.read_json(CONFIG))
            planned = plan(config)
            objectives = tuple(
                make_objective(o["name"], o["direction"], o["best"], o["worst"])
                for o in meta["objectives"]
            )
            constraints = tuple(
                Constraint(parse_metric(c["metric"]), c["sense"], float(c["limit"]), c["text"])
                for c in meta.get("constraints", [])
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"{rd.file(META)}: missing or malformed field {exc}") from None
        except ConfigError as exc:
            raise DataError(f"{rd.path}: the run's files do not load ({exc})") from None
        columns = tuple(column(s, m.name) for m in planned.metrics for s in STAGE_PREFIX)
        return cls(
            config,
            planned.space,
            objectives,
            constraints,
            records,
            history,
            meta,
            columns,
            rd.path,
        )

    # --- tables ---------------------------------------------------------------------------

    @property
    def parameters(self) -> list[str]:
        return self.space.names

    def _frame(self, records: list[TrialRecord] | tuple[TrialRecord, ...]) -> pd.DataFrame:
        cols = self.result_columns
        frame = pd.DataFrame(
            {
                "trial": pd.Series([r.trial for r in records], dtype="int64"),
                "generation": pd.Series([r.generation for r in records], dtype="int64"),
            }
        )
        for name in self.space.names:
            frame[name] = pd.Series(
                [r.params.get(name) for r in records], dtype=self._dtype(name), index=frame.index
            )
        for col in cols:
            frame[col] = np.array([r.results.get(col, np.nan) for r in records], dtype=float)
        frame["seconds"] = np.array([r.seconds for r in records], dtype=float)
        frame["cached"] = np.array([r.cached for r in records], dtype=bool)
        return frame

    def _dtype(self, name: str) -> Any:
        """A parameter's column type: integers stay integers (nullable: inactive is NA)."""
        domain = dict(self.space.params).get(name)
        if domain is None:
            value = dict(self.space.fixed)[name]
            values: tuple = (value,)
        elif isinstance(domain, Real):
            return "float64"
        elif isinstance(domain, Int):
            return "Int64"
        else:
            values = domain.values  # Choice or Grid
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "Int64"
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return "float64"
        return "object"

    @cached_property
    def trials(self) -> pd.DataFrame:
        """One row per trial: ids, parameters by name (NA when inactive; integers stay
        integers), ``val_<metric>`` / ``test_<metric>`` results, seconds, cached."""
        return self._frame(self.records)

    @cached_property
    def front_records(self) -> list[TrialRecord]:
        """The feasible trials non-dominated on validation objectives, one per parameter set."""
        return front_ledger(self, list(self.records)).front()

    @property
    def front(self) -> pd.DataFrame:
        """``trials`` rows of the front."""
        return self._frame(self.front_records)

    @property
    def history(self) -> pd.DataFrame:
        """Generation, evaluations, hypervolume, front size, elapsed seconds."""
        return pd.DataFrame(list(self.history_rows), columns=list(HISTORY_COLUMNS))

    def natural(self, frame: pd.DataFrame, stage: str = "validation") -> np.ndarray:
        """``(n, m)`` objective values of ``frame`` in their own units."""
        return frame[[column(stage, o.name) for o in self.objectives]].to_numpy(dtype=np.float64)

    def minimised(self, frame: pd.DataFrame, stage: str = "validation") -> np.ndarray:
        """``(n, m)`` the same in pymoo's minimisation form (NaN as the worst)."""
        return finite_min(to_min(self.objectives, self.natural(frame, stage)))

    def record(self, trial: int) -> TrialRecord:
        for r in self.records:
            if r.trial == trial:
                return r
        raise DataError(f"trial {trial} is not in this run ({len(self.records)} trials)")

    def candidate(self, trial: int) -> Candidate:
        """The model and re-rank settings of a trial."""
        return Candidate.from_values(self.record(trial).params)

    # --- selection and serving ------------------------------------------------------------

    def select(self, selector: str | Selector = "knee", **params: Any) -> Selection:
        """Choose a point of the front by a registered selector's name (with its parameters,
        e.g. ``select("utopia", weights=[2, 1, 1])``) or a selector object."""
        if isinstance(selector, str):
            chosen = build_selector(selector, **params)
        elif params:
            raise ConfigError("pass parameters to the selector object, not to select()")
        else:
            chosen = selector
        front = self.front
        if front.empty:
            raise DataError(
                "the front is empty: no evaluated point is feasible"
                + (
                    f" (constraints: {', '.join(c.text for c in self.constraints)})"
                    if self.constraints
                    else ""
                )
            )
        view = FrontView(self.minimised(front), self.natural(front), self.objectives)
        pick = chosen.pick(view)
        record = self.front_records[pick.index]
        return Selection(
            self.operating_point(record.trial, pick.method, pick.reason),
            pick.reason,
            pick.method,
            record.trial,
        )

    def operating_point(self, trial: int, method: str = "", reason: str = "") -> OperatingPoint:
        """The exportable point of any trial (a selection gives the front's chosen one)."""
        record = self.record(trial)
        values = {stage: stage_values(record.results, stage) for stage in STAGE_PREFIX}
        run: dict[str, Any] = {"trial": trial}
        if self.run_dir is not None:
            run["dir"] = str(self.run_dir)
        return OperatingPoint(
            candidate=Candidate.from_values(record.params),
            k=self.config.evaluation.k,
            data=self.config.data,
            dataset_checksum=self.meta["dataset"]["checksum"],
            split=self.config.split,
            seed=self.config.search.seed,
            values=values,
            selection={"method": method, "reason": reason} if method else {},
            run=run,
            similarity=self.config.evaluation.similarity,
        )

    def chosen(self) -> Selection | None:
        """The point ``paretorec select`` exported into the run directory, if any."""
        if self.run_dir is None or not (self.run_dir / CHOSEN).is_file():
            return None
        point = load_point(self.run_dir / CHOSEN)
        return Selection(
            point,
            point.selection.get("reason", ""),
            point.selection.get("method", ""),
            int(point.run.get("trial", -1)),
        )

    def recommender(
        self,
        selection: Selection | OperatingPoint,
        fit_on: str = "all",
        data_dir: str | os.PathLike[str] | None = None,
    ) -> Recommender:
        """The recommender of a selected point (see ``paretorec.recommender``)."""
        point = selection.point if isinstance(selection, Selection) else selection
        return recommender(point, fit_on, data_dir)
