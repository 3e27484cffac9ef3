"""A run as an object: its trials, front and history with exact types, selection, and the
recommender behind a chosen point.

``tune`` returns a ``Result``; ``Result.load(RUN)`` reads the same object back from a run
directory. The CLI's ``select``, ``plot`` and ``report`` are this object's methods and the
renderers that read it.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paretorec.config import ExperimentConfig, from_dict
from paretorec.data.paths import read_config
from paretorec.errors import ConfigError, ConfigWarning, DataError
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
from paretorec.select.plain import point_label
from paretorec.space import Int, Real, SearchSpace
from paretorec.study import Candidate, plan

# The fields of run.json every reader relies on, with their JSON types.
META_FIELDS: dict[str, type | tuple[type, ...]] = {
    "dataset": dict,
    "dataset.name": str,
    "dataset.checksum": str,
    "objectives": list,
    "constraints": list,
}


def meta_field(meta: dict[str, Any], dotted: str, kind: type | tuple[type, ...], path: Path) -> Any:
    """``meta["a"]["b"]`` for ``"a.b"``, checked to be of ``kind``; DataError naming the file and
    the field otherwise."""
    value: Any = meta
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise DataError(
                f"{path}: field `{dotted}` is missing; was it edited? it was left as it is"
            )
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise DataError(
            f"{path}: field `{dotted}` must be a {names}, got {short(value)}; was it edited? "
            "it was left as it is"
        )
    return value


def short(value: Any, limit: int = 60) -> str:
    """A value as it may appear in a message: its repr (control characters escaped), cut."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_meta(meta: dict[str, Any], path: Path, stored: int, store: Path) -> None:
    for dotted, kind in META_FIELDS.items():
        meta_field(meta, dotted, kind, path)
    for i, objective in enumerate(meta["objectives"]):
        if not isinstance(objective, dict):
            raise DataError(
                f"{path}: field `objectives[{i}]` must be an object; it was left as it is"
            )
    evaluations = meta.get("evaluations")
    if meta.get("status") == "finished" and isinstance(evaluations, int) and stored < evaluations:
        raise DataError(
            f"{store}: holds {stored} trials but {path.name} records {evaluations} evaluations: "
            "the store was truncated or replaced; it was left as it is (trials.csv beside it "
            "keeps the trials as of the last generation)"
        )


def constraint_shortfall(
    constraints: tuple[Constraint, ...] | list[Constraint], records: Any
) -> str:
    """Which constraint no evaluated point met and by how much the closest one missed it
    (validation values, as the search sees them)."""
    if not records:
        return "no point was evaluated"
    missed = [_missed(c, records) for c in constraints]
    said = [m for m in missed if m]
    if said:
        return "no evaluated point meets " + "; ".join(said)
    if constraints:
        return (
            f"each of {', '.join(f'`{c.text}`' for c in constraints)} is met by some of the "
            f"{len(records)} evaluated points, but none meets all of them together"
        )
    return "no evaluated point has finite values of every objective"


def _missed(c: Constraint, records: Any) -> str:
    values = np.array(
        [r.results.get(column("validation", c.name), np.nan) for r in records], dtype=float
    )
    finite = values[np.isfinite(values)]
    if not finite.size:
        return f"`{c.text}`: none of the {len(records)} points has a value of {c.name}"
    best = float(finite.max() if c.sense == ">=" else finite.min())
    if (best >= c.limit) if c.sense == ">=" else (best <= c.limit):
        return ""
    gap = c.limit - best if c.sense == ">=" else best - c.limit
    return (
        f"`{c.text}` (limit {c.limit:.4g}): the best of {len(records)} points has "
        f"{c.name} = {best:.4g}, short by {gap:.4g}"
    )


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
        """Read a run directory (no dataset is loaded).

        Raises:
            DataError: a file is missing or damaged; the message names it and the field, and
                nothing in the directory is changed.
        """
        rd = RunDir(run_dir)
        rd.require(META, CONFIG, STORE)
        meta = rd.read_json(META)
        records, history = tuple(rd.records()), tuple(rd.history())
        _check_meta(meta, rd.file(META), len(records), rd.file(STORE))
        try:
            config = from_dict(ExperimentConfig, read_config(rd.read_json(CONFIG), rd.path))
            with warnings.catch_warnings():  # said when the run was tuned; not again
                warnings.simplefilter("ignore", ConfigWarning)
                planned = plan(config)
        except ConfigError as exc:
            raise DataError(f"{rd.file(CONFIG)}: the run's config does not load ({exc})") from None
        try:
            objectives = tuple(
                make_objective(o["name"], o["direction"], o["best"], o["worst"])
                for o in meta["objectives"]
            )
            constraints = tuple(
                Constraint(parse_metric(c["metric"]), c["sense"], float(c["limit"]), c["text"])
                for c in meta.get("constraints", [])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(
                f"{rd.file(META)}: malformed objectives or constraints ({type(exc).__name__}: "
                f"{str(exc)[:80]}); it was left as it is"
            ) from None
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
        try:
            return self._table(records)
        except (TypeError, ValueError) as exc:
            raise self._damaged(exc) from None

    def _damaged(self, exc: Exception) -> DataError:
        """A stored value of the wrong type (the store was edited), named."""
        where = STORE if self.run_dir is None else self.run_dir / STORE
        return DataError(
            f"{where}: a trial holds a value of the wrong type ({str(exc)[:80]}); the store "
            "was edited or damaged and was left as it is"
        )

    def _table(self, records: list[TrialRecord] | tuple[TrialRecord, ...]) -> pd.DataFrame:
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
        try:
            return front_ledger(self, list(self.records)).front()
        except (TypeError, ValueError) as exc:
            raise self._damaged(exc) from None

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
            where = f"{self.run_dir}: " if self.run_dir is not None else ""
            raise DataError(
                f"{where}the front is empty: "
                + constraint_shortfall(self.constraints, self.records)
                + "; loosen the constraint in the config and tune again"
            )
        labels = tuple(point_label(r.params, r.trial) for r in self.front_records)
        view = FrontView(self.minimised(front), self.natural(front), self.objectives, labels)
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
        try:
            candidate = Candidate.from_values(record.params)
        except ConfigError as exc:
            raise DataError(
                f"{self.run_dir or 'run'}: trial {trial}'s stored parameters do not load "
                f"({exc}); the store was left as it is"
            ) from None
        return OperatingPoint(
            candidate=candidate,
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
