"""Pareto utilities over minimisation matrices (pymoo's non-dominated sorting)."""

from __future__ import annotations

import numpy as np
from pymoo.indicators.hv import HV
from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting


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
