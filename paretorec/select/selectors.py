"""Selectors: pick one operating point from a Pareto front and say why it won.

All selectors work on the minimisation matrix of the front's validation objectives (test
values are for reporting, never for choosing) and on the front's own ideal and nadir points,
so every objective counts on a 0-1 scale.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pymoo.mcdm.pseudo_weights import PseudoWeights

from paretorec.errors import ConfigError
from paretorec.objectives import Objective
from paretorec.registry import Registry


@dataclass(frozen=True)
class Selection:
    """The chosen row of the front and the reason, in words a stakeholder can read."""

    index: int
    method: str
    reason: str


def _scaled(F: np.ndarray) -> np.ndarray:
    """Front scaled per objective to [0, 1] between its own best and worst values."""
    lo, hi = F.min(axis=0), F.max(axis=0)
    return (F - lo) / np.where(hi > lo, hi - lo, 1.0)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def knee(F: np.ndarray, objectives: Sequence[Objective]) -> Selection:
    """The point whose every move along the front trades away the most per unit gained.

    For points i and j on the scaled front, moving from i to j gains
    ``sum(max(0, F_i - F_j))`` and gives up ``sum(max(0, F_j - F_i))``. The trade-off of i is
    the least give-up-per-gain over all other points (the "high trade-off point" measure of
    Rachmawati & Srinivasan 2009, the one pymoo's HighTradeoffPoints thresholds); the knee is
    the point where it is largest.
    """
    S = _scaled(F)
    if len(S) == 1:
        return Selection(0, "knee", "the front has a single point")
    diff = S[None, :, :] - S[:, None, :]  # diff[i, j] = S_j - S_i
    give_up = np.maximum(diff, 0.0).sum(axis=2)
    gain = np.maximum(-diff, 0.0).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(gain > 0, give_up / gain, np.inf)
    np.fill_diagonal(ratio, np.inf)
    trade = ratio.min(axis=1)
    trade[~np.isfinite(trade)] = -np.inf  # a point dominated-equal to another has no trade-off
    order = np.argsort(-trade, kind="stable")
    best, runner = int(order[0]), int(order[1])
    return Selection(
        best,
        "knee",
        f"knee of the front: moving to any other front point gives up at least "
        f"{_fmt(trade[best])}x what it gains (objectives scaled 0-1 over the front); "
        f"the next-best point's trade-off is {_fmt(trade[runner])}x",
    )


def utopia(
    F: np.ndarray, objectives: Sequence[Objective], weights: Sequence[float] | None = None
) -> Selection:
    """The point nearest the utopia point (every objective at its best on the front)."""
    S = _scaled(F)
    w = _weights(weights, len(objectives))
    dist = np.sqrt((w * S**2).sum(axis=1))
    order = np.argsort(dist, kind="stable")
    best = int(order[0])
    runner = f"; the next is {_fmt(dist[order[1]])}" if len(order) > 1 else ""
    shown = ", ".join(f"{o.name}={wi:.2f}" for o, wi in zip(objectives, w, strict=True))
    return Selection(
        best,
        "utopia",
        f"closest to the utopia point (the best value of every objective on the front): "
        f"weighted distance {_fmt(dist[best])} with weights {shown}{runner}",
    )


def weighted(F: np.ndarray, objectives: Sequence[Objective], weights: Sequence[float]) -> Selection:
    """The point whose pseudo-weights are closest to the stakeholders' weights (pymoo)."""
    w = _weights(weights, len(objectives))
    if len(F) == 1:
        return Selection(0, "weights", "the front has a single point")
    index, pseudo = PseudoWeights(w).do(F, return_pseudo_weights=True)
    index = int(index)
    shown = ", ".join(
        f"{o.name}: {p:.2f} (asked {wi:.2f})"
        for o, p, wi in zip(objectives, pseudo[index], w, strict=True)
    )
    return Selection(
        index,
        "weights",
        f"its pseudo-weights are closest to the requested weights: {shown}",
    )


_BOUND = re.compile(r"^\s*([^=]+?)\s*=\s*(?:([0-9.eE+-]+)\s*\*\s*best|([0-9.eE+-]+))\s*$")


def constraint(
    F: np.ndarray,
    objectives: Sequence[Objective],
    natural: np.ndarray,
    minimums: Sequence[str] = (),
    maximums: Sequence[str] = (),
    then: str = "knee",
) -> Selection:
    """Keep the points meeting every bound, then pick among them.

    Args:
        F: ``(n, m)`` minimisation matrix of the front.
        objectives: The objectives, column-aligned with ``F``.
        natural: ``(n, m)`` the same values in natural units (what bounds are written in).
        minimums: ``"ndcg@10=0.95*best"`` or ``"ndcg@10=0.25"``: the value must be at least this.
        maximums: ``"cost=2e5"`` or ``"cost=1.2*best"``: the value must be at most this.
        then: ``knee``, ``utopia``, or ``max <objective>`` / ``min <objective>``.
    """
    names = [o.name for o in objectives]
    keep = np.ones(len(F), dtype=bool)
    said: list[str] = []
    for bounds, sense in ((minimums, "min"), (maximums, "max")):
        for text in bounds:
            match = _BOUND.match(text)
            if not match:
                raise ConfigError(
                    f"bound `{text}` is not of the form NAME=VALUE or NAME=FACTOR*best, "
                    "e.g. ndcg@10=0.95*best"
                )
            name, factor, value = match.groups()
            j = _column(name, names)
            col = natural[:, j]
            best = col.max() if objectives[j].direction == "max" else col.min()
            limit = float(factor) * best if factor else float(value)
            keep &= col >= limit if sense == "min" else col <= limit
            rel = f" ({factor} x best {_fmt(best)})" if factor else ""
            said.append(f"{name} {'>=' if sense == 'min' else '<='} {_fmt(limit)}{rel}")
    if not said:
        raise ConfigError("constraint selection needs at least one --min or --max bound")
    if not keep.any():
        raise ConfigError(
            f"no front point satisfies {' and '.join(said)}; loosen a bound "
            "(see front.csv for the values on offer)"
        )
    idx = np.flatnonzero(keep)
    then = then.strip()
    if then in ("knee", "utopia"):
        inner = SELECTORS.get(then)(F[idx], objectives)
        pick, why = idx[inner.index], inner.reason
    else:
        parts = then.split()
        if len(parts) != 2 or parts[0] not in ("max", "min"):
            raise ConfigError(
                f"--then must be knee, utopia, `max NAME` or `min NAME`, got `{then}`"
            )
        j = _column(parts[1], names)
        col = natural[idx, j]
        pick_local = int(np.argmax(col) if parts[0] == "max" else np.argmin(col))
        pick = idx[pick_local]
        extreme = "highest" if parts[0] == "max" else "lowest"
        why = f"among them the {extreme} {parts[1]}: {_fmt(col[pick_local])}"
    return Selection(
        int(pick),
        "constraint",
        f"{len(idx)} of {len(F)} front points satisfy {' and '.join(said)}; {why}",
    )


def _column(name: str, names: list[str]) -> int:
    if name not in names:
        raise ConfigError(
            f"`{name}` is not an objective of this run; objectives: {', '.join(names)}"
        )
    return names.index(name)


def _weights(weights: Sequence[float] | None, m: int) -> np.ndarray:
    if weights is None:
        return np.full(m, 1.0 / m)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (m,) or (w < 0).any() or w.sum() <= 0:
        raise ConfigError(
            f"weights: `{m} non-negative numbers, not all 0` must hold, got {list(weights)}"
        )
    return w / w.sum()


SELECTORS: Registry[Callable[..., Selection]] = Registry("selector")
SELECTORS.add("knee", knee)
SELECTORS.add("utopia", utopia)
SELECTORS.add("weights", weighted)
SELECTORS.add("constraint", constraint)
