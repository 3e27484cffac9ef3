"""Objectives: a metric, its direction, and the bounds that anchor hypervolume; Pareto
dominance and hypervolume over pymoo's minimisation form.

The sign flip to pymoo's minimisation happens here and only here (``to_min`` / ``from_min``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

from paretorec.errors import ConfigError
from paretorec.metrics import Direction, MetricRef, parse_metric


@dataclass(frozen=True)
class Objective:
    """One optimisation target.

    Attributes:
        name: The metric with its cut-off (``ndcg@10``), or a test problem's ``f1``.
        direction: ``max`` or ``min``.
        best: The ideal value (hypervolume normalisation anchor).
        worst: The reference value: points worse than this add no hypervolume.
    """

    name: str
    direction: Direction
    best: float
    worst: float

    @property
    def sign(self) -> float:
        """+1 for ``min``, -1 for ``max``: multiply a natural value to get a minimised one."""
        return 1.0 if self.direction == "min" else -1.0

    def label(self) -> str:
        """Axis label with the direction spelled out."""
        arrow = "higher is better" if self.direction == "max" else "lower is better"
        return f"{self.name} ({arrow})"


def natural_bounds(ref: MetricRef, direction: str) -> tuple[float | None, float | None]:
    """``(best, worst)`` a metric has by itself when optimised in ``direction`` (a metric
    minimised against its declared direction swaps them); None where it has none."""
    if direction != ref.metric.direction:
        return ref.metric.worst, ref.metric.best
    return ref.metric.best, ref.metric.worst


def make_objective(
    metric: str,
    direction: str | None = None,
    best: float | None = None,
    worst: float | None = None,
    anchor_best: float | None = None,
    anchor_worst: float | None = None,
) -> Objective:
    """An objective from config fields; bounds come from the config, else the study's anchors,
    else the metric's own.

    Args:
        metric: Metric name with cut-off, e.g. ``ndcg@10``.
        direction: ``max`` or ``min``; defaults to the metric's declared direction.
        best: Ideal value (the config's).
        worst: Hypervolume reference value (the config's).
        anchor_best: An ideal derived from the study's data, used when ``best`` is None.
        anchor_worst: A reference derived from the study (a baseline's value, the costliest
            configuration), used when ``worst`` is None.

    Raises:
        ConfigError: unknown direction, a bound the metric cannot supply, or worst == best.
    """
    ref = parse_metric(metric)
    direction = direction or ref.metric.direction
    if direction not in ("max", "min"):
        raise ConfigError(f"objective `{metric}`: direction must be max or min, got {direction!r}")
    natural_best, natural_worst = natural_bounds(ref, direction)
    best = next((b for b in (best, anchor_best, natural_best) if b is not None), None)
    worst = next((w for w in (worst, anchor_worst, natural_worst) if w is not None), None)
    if best is None or worst is None:
        missing = "best" if best is None else "worst"
        raise ConfigError(
            f"objective `{metric}`: set `{missing}` (the metric has no natural {missing} value)"
        )
    sign = 1.0 if direction == "min" else -1.0
    if not sign * best < sign * worst:
        raise ConfigError(
            f"objective `{metric}`: `best` must be better than `worst` for direction "
            f"{direction}, got best={best}, worst={worst}"
        )
    return Objective(ref.name, direction, float(best), float(worst))  # type: ignore[arg-type]


STAGE_PREFIX = {"validation": "val", "test": "test"}


def column(stage: str, name: str) -> str:
    """The results column of a metric on a stage: ``val_ndcg@10``, ``test_cost``."""
    return f"{STAGE_PREFIX[stage]}_{name}"


def stage_values(results: dict[str, float], stage: str) -> dict[str, float]:
    """The metric values of one stage from a results row (the inverse of ``column``)."""
    prefix = STAGE_PREFIX[stage] + "_"
    return {key[len(prefix) :]: v for key, v in results.items() if key.startswith(prefix)}


def to_min(objectives: Sequence[Objective], values: np.ndarray) -> np.ndarray:
    """``(n, m)`` natural metric values -> pymoo's minimisation F."""
    return np.asarray(values, dtype=np.float64) * np.array([o.sign for o in objectives])


def from_min(objectives: Sequence[Objective], F: np.ndarray) -> np.ndarray:
    """Minimisation F -> natural metric values (the sign flip is its own inverse)."""
    return to_min(objectives, F)


def normalise(objectives: Sequence[Objective], F: np.ndarray) -> np.ndarray:
    """Minimisation F -> [0, 1]-scaled F: 0 at every objective's best, 1 at its worst."""
    ideal = np.array([o.sign * o.best for o in objectives])
    nadir = np.array([o.sign * o.worst for o in objectives])
    return (np.asarray(F, dtype=np.float64) - ideal) / (nadir - ideal)


_CONSTRAINT = re.compile(
    r"^\s*(?P<metric>[a-z_]+(?:@\d+)?)\s*(?P<sense><=|>=)\s*"
    r"(?:(?P<factor>[0-9.eE+-]+)\s*\*\s*best_baseline|(?P<bare>best_baseline)|(?P<value>[0-9.eE+-]+))"
    r"\s*$"
)


@dataclass(frozen=True)
class Constraint:
    """A bound on a metric, handed to pymoo as ``G <= 0``.

    Attributes:
        ref: The constrained metric.
        sense: ``<=`` or ``>=``.
        limit: The bound in the metric's units (resolved: ``0.9*best_baseline`` is a number here).
        text: The expression as written, for messages and reports.
    """

    ref: MetricRef
    sense: str
    limit: float
    text: str

    @property
    def name(self) -> str:
        """The constrained metric (``cost``), whose result column the constraint reads."""
        return self.ref.name

    def violation(self, values: np.ndarray) -> np.ndarray:
        """pymoo's G for metric values: <= 0 when satisfied; NaN (not computed) violates."""
        values = np.asarray(values, dtype=np.float64)
        g = values - self.limit if self.sense == "<=" else self.limit - values
        return np.where(np.isnan(values), np.inf, g)


@dataclass(frozen=True)
class ConstraintSpec:
    """A parsed but unresolved constraint: the limit may still refer to the best baseline."""

    ref: MetricRef
    sense: str
    number: float
    relative: bool
    text: str

    def resolve(self, best_baseline: float | None = None) -> Constraint:
        if not self.relative:
            return Constraint(self.ref, self.sense, self.number, self.text)
        if best_baseline is None or np.isnan(best_baseline):
            raise ConfigError(f"constraint `{self.text}`: no baseline value for {self.ref.name}")
        return Constraint(self.ref, self.sense, self.number * best_baseline, self.text)


def parse_constraint(text: str) -> ConstraintSpec:
    """``"cost <= 2e5"``, ``"ndcg@10 >= 0.9*best_baseline"`` -> a spec to resolve with data."""
    match = _CONSTRAINT.match(text)
    if not match:
        raise ConfigError(
            f"constraint `{text}` is not of the form `METRIC <= VALUE` or "
            "`METRIC >= FACTOR*best_baseline`, e.g. `cost <= 2e5`"
        )
    ref = parse_metric(match["metric"])
    if match["value"] is not None:
        number, relative = match["value"], False
    else:
        number, relative = match["factor"] or "1", True
    try:
        value = float(number)
    except ValueError:
        raise ConfigError(f"constraint `{text}`: `{number}` is not a number") from None
    return ConstraintSpec(ref, match["sense"], value, relative, text.strip())


# --- Pareto utilities (minimisation matrices, pymoo's non-dominated sorting) ----------


def finite_min(F: np.ndarray) -> np.ndarray:
    """NaN (a metric that could not be computed) counts as the worst value: +inf."""
    return np.where(np.isnan(F), np.inf, np.asarray(F, dtype=np.float64))


def front_mask(F: np.ndarray) -> np.ndarray:
    """``(n,)`` True for the non-dominated rows of a minimisation matrix ``(n, m)``.

    Rows with identical objective vectors are all kept (none dominates the other).
    """
    F = finite_min(F)
    mask = np.zeros(len(F), dtype=bool)
    if len(F):
        mask[NonDominatedSorting().do(F, only_non_dominated_front=True)] = True
    return mask


def hypervolume(F_normalised: np.ndarray) -> float:
    """Hypervolume dominated by normalised points (0 = ideal, 1 = reference) w.r.t. (1, ..., 1).

    Points that do not strictly dominate the reference contribute nothing.
    """
    F = finite_min(F_normalised)
    inside = np.all(F < 1.0, axis=1)
    if not inside.any():
        return 0.0
    return float(HV(ref_point=np.ones(F.shape[1]))(F[inside]))
