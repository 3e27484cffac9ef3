"""Selectors: pick one operating point from a Pareto front and say why it won.

A selector is a frozen dataclass with declared parameters, registered by name. It reads a
``FrontView``: the front's validation objectives (test values are for reporting, never for
choosing) in pymoo's minimisation form and in their own units. Scale-free selectors work on
the front scaled per objective to [0, 1] between its own best and worst values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pymoo.mcdm.pseudo_weights import PseudoWeights

from paretorec.errors import ConfigError
from paretorec.objectives import Objective
from paretorec.registry import Declared, Registry, param
from paretorec.select.plain import move_words


@dataclass(frozen=True, eq=False)
class FrontView:
    """What a selector reads.

    Attributes:
        F: ``(n, m)`` the front's objectives, minimisation form.
        natural: ``(n, m)`` the same in their own units.
        objectives: The objectives, column-aligned.
        labels: One short name per row (model and knobs) for plain-words reasons, or None.
    """

    F: np.ndarray
    natural: np.ndarray
    objectives: tuple[Objective, ...]
    labels: tuple[str, ...] | None = None

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.objectives]

    def take(self, rows: np.ndarray) -> FrontView:
        labels = None if self.labels is None else tuple(self.labels[int(r)] for r in rows)
        return FrontView(self.F[rows], self.natural[rows], self.objectives, labels)

    def label(self, row: int) -> str:
        """How a plain-words reason names a row."""
        return self.labels[row] if self.labels is not None else f"front point #{row + 1}"

    def column(self, name: str) -> int:
        if name not in self.names:
            raise ConfigError(
                f"`{name}` is not an objective of this run; objectives: {', '.join(self.names)}"
            )
        return self.names.index(name)


@dataclass(frozen=True)
class Pick:
    """The chosen row of the front and the reason, in words a stakeholder can read: a first
    line in plain words (what it trades, against which neighbour, with numbers), then the
    precise measure on a second line."""

    index: int
    method: str
    reason: str


class Selector(Declared):
    """Base of selectors: ``pick`` one row of a front."""

    name: ClassVar[str] = ""

    @classmethod
    def kind_label(cls) -> str:
        return "selector"

    def pick(self, front: FrontView) -> Pick:
        raise NotImplementedError

    @classmethod
    def example_params(cls, objectives: tuple[Objective, ...]) -> dict[str, Any]:
        """Parameters that make a working selector for these objectives (contract tests)."""
        return {}


SELECTORS: Registry[type[Selector]] = Registry("selector")


def register_selector(cls: type[Selector]) -> type[Selector]:
    """Class decorator: register a Selector subclass under its ``name``."""
    SELECTORS.add(cls.name, cls)
    return cls


def build_selector(name: str, **params: Any) -> Selector:
    """The registered selector ``name`` with checked parameters."""
    return SELECTORS.get(name).create(params)


def _scaled(F: np.ndarray) -> np.ndarray:
    """Front scaled per objective to [0, 1] between its own best and worst values."""
    lo, hi = F.min(axis=0), F.max(axis=0)
    return (F - lo) / np.where(hi > lo, hi - lo, 1.0)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


SINGLE = "Chosen because it is the only point on the front.\nthe front has a single point"


def _plain_runner_up(front: FrontView, best: int, runner: int | None, because: str) -> str:
    """``Chosen because <because>; the runner-up, <label>, would <gain> but <loss>.``"""
    if runner is None:
        return f"Chosen because {because}; it is the only candidate."
    return (
        f"Chosen because {because}; the runner-up, {front.label(runner)}, "
        f"{move_words(front, best, runner)}."
    )


def _weights(weights: tuple[float, ...] | None, m: int) -> np.ndarray:
    if weights is None:
        return np.full(m, 1.0 / m)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (m,) or (w < 0).any() or w.sum() <= 0:
        raise ConfigError(
            f"weights: `{m} non-negative numbers, not all 0` must hold, got {list(weights)}"
        )
    return w / w.sum()


@register_selector
@dataclass(frozen=True)
class Knee(Selector):
    """The knee: the point whose every move along the front gives up the most per unit gained.

    For points i and j on the scaled front, moving from i to j gains
    ``sum(max(0, F_i - F_j))`` and gives up ``sum(max(0, F_j - F_i))``. The trade-off of i is
    the least give-up-per-gain over all other points (the "high trade-off point" measure of
    Rachmawati & Srinivasan 2009, the one pymoo's HighTradeoffPoints thresholds); the knee is
    the point where it is largest.
    """

    name: ClassVar[str] = "knee"

    def pick(self, front: FrontView) -> Pick:
        S = _scaled(front.F)
        if len(S) == 1:
            return Pick(0, self.name, SINGLE)
        diff = S[None, :, :] - S[:, None, :]  # diff[i, j] = S_j - S_i
        give_up = np.maximum(diff, 0.0).sum(axis=2)
        gain = np.maximum(-diff, 0.0).sum(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(gain > 0, give_up / gain, np.inf)
        np.fill_diagonal(ratio, np.inf)
        trade = ratio.min(axis=1)
        trade[~np.isfinite(trade)] = -np.inf  # a point dominated-equal to another: no trade-off
        order = np.argsort(-trade, kind="stable")
        best, runner = int(order[0]), int(order[1])
        near = int(np.argmin(ratio[best]))  # the move that gives up least per unit gained
        return Pick(
            best,
            self.name,
            f"Chosen because it is the front's knee: moving to the best alternative, "
            f"{front.label(near)}, "
            f"{move_words(front, best, near)}.\n"
            f"knee of the front: moving to any other front point gives up at least "
            f"{_fmt(trade[best])}x what it gains (objectives scaled 0-1 over the front); "
            f"the next-best point's trade-off is {_fmt(trade[runner])}x",
        )


@register_selector
@dataclass(frozen=True)
class Utopia(Selector):
    """Nearest the utopia point (every objective at its best on the front), optionally
    weighted."""

    name: ClassVar[str] = "utopia"
    weights: tuple[float, ...] | None = param(
        None, "one weight per objective (default: equal)", kind="floats"
    )

    def pick(self, front: FrontView) -> Pick:
        S = _scaled(front.F)
        w = _weights(self.weights, len(front.objectives))
        dist = np.sqrt((w * S**2).sum(axis=1))
        order = np.argsort(dist, kind="stable")
        best = int(order[0])
        runner = f"; the next is {_fmt(dist[order[1]])}" if len(order) > 1 else ""
        shown = ", ".join(f"{o.name}={wi:.2f}" for o, wi in zip(front.objectives, w, strict=True))
        plain = _plain_runner_up(
            front,
            best,
            int(order[1]) if len(order) > 1 else None,
            "it is the closest to the ideal of every objective at its best value on the front",
        )
        return Pick(
            best,
            self.name,
            f"{plain}\n"
            "closest to the utopia point (the best value of every objective on the front): "
            f"weighted distance {_fmt(dist[best])} with weights {shown}{runner}",
        )


@register_selector
@dataclass(frozen=True)
class Weights(Selector):
    """The point whose pseudo-weights are closest to the stakeholders' weights (pymoo)."""

    name: ClassVar[str] = "weights"
    weights: tuple[float, ...] | None = param(
        None, "one weight per objective (default: equal)", kind="floats"
    )

    def pick(self, front: FrontView) -> Pick:
        w = _weights(self.weights, len(front.objectives))
        if len(front.F) == 1:
            return Pick(0, self.name, SINGLE)
        index, pseudo = PseudoWeights(w).do(front.F, return_pseudo_weights=True)
        index = int(index)
        shown = ", ".join(
            f"{o.name}: {p:.2f} (asked {wi:.2f})"
            for o, p, wi in zip(front.objectives, pseudo[index], w, strict=True)
        )
        # the runner-up by the same distance pymoo minimises (sum of absolute differences)
        distance = np.abs(pseudo - w).sum(axis=1)
        distance[index] = np.inf
        plain = _plain_runner_up(
            front,
            index,
            int(np.argmin(distance)),
            "its balance between the objectives is the closest to the weights asked for",
        )
        return Pick(
            index,
            self.name,
            f"{plain}\nits pseudo-weights are closest to the requested weights: {shown}",
        )


_BOUND = re.compile(r"^\s*([^=]+?)\s*=\s*(?:([0-9.eE+-]+)\s*\*\s*best|([0-9.eE+-]+))\s*$")


@register_selector
@dataclass(frozen=True)
class Constraint(Selector):
    """Keep the points meeting every bound, then pick among them with another selector (any
    registered one, by name) or by the best value of one objective (``max NAME``)."""

    name: ClassVar[str] = "constraint"
    minimums: tuple[str, ...] = param(
        (), "NAME=VALUE or NAME=FACTOR*best: at least this", kind="strs"
    )
    maximums: tuple[str, ...] = param(
        (), "NAME=VALUE or NAME=FACTOR*best: at most this", kind="strs"
    )
    then: str = param("knee", "a selector name, `max NAME` or `min NAME`")

    @classmethod
    def example_params(cls, objectives: tuple[Objective, ...]) -> dict[str, Any]:
        return {"minimums": (f"{objectives[0].name}=0.5*best",)}

    def pick(self, front: FrontView) -> Pick:
        keep = np.ones(len(front.F), dtype=bool)
        said: list[str] = []
        for bounds, sense in ((self.minimums, "min"), (self.maximums, "max")):
            for text in bounds:
                limit, rel, j = self._bound(text, front)
                col = front.natural[:, j]
                keep &= col >= limit if sense == "min" else col <= limit
                name = front.names[j]
                said.append(f"{name} {'>=' if sense == 'min' else '<='} {_fmt(limit)}{rel}")
        if not said:
            raise ConfigError("constraint selection needs at least one --min or --max bound")
        if not keep.any():
            raise ConfigError(
                f"no front point satisfies {' and '.join(said)}; loosen a bound "
                "(see front.csv for the values on offer)"
            )
        idx = np.flatnonzero(keep)
        then = self.then.strip()
        parts = then.split()
        if len(parts) == 2 and parts[0] in ("max", "min"):
            j = front.column(parts[1])
            col = front.natural[idx, j]
            local = int(np.argmax(col) if parts[0] == "max" else np.argmin(col))
            pick = idx[local]
            extreme = "highest" if parts[0] == "max" else "lowest"
            why = f"among them the {extreme} {parts[1]}: {_fmt(col[local])}"
            others = np.delete(np.arange(len(idx)), local)
            runner = None
            if len(others):
                rest = col[others]
                runner = int(idx[others[np.argmax(rest) if parts[0] == "max" else np.argmin(rest)]])
            plain = _plain_runner_up(
                front, int(pick), runner, f"it has the {extreme} {parts[1]} ({_fmt(col[local])})"
            )
        elif then in SELECTORS and then != self.name:
            inner = build_selector(then).pick(front.take(idx))
            pick = idx[inner.index]
            plain, sep, why = inner.reason.partition("\n")
            why = why if sep else plain
            plain = plain.removeprefix("Chosen because ")
        else:
            choices = ", ".join(n for n in SELECTORS.available() if n != self.name)
            raise ConfigError(
                f"--then must be a selector ({choices}), `max NAME` or `min NAME`, got `{then}`"
            )
        return Pick(
            int(pick),
            self.name,
            f"Chosen because {len(idx)} of {len(front.F)} front points meet "
            f"{' and '.join(said)}, and among them {plain.removeprefix('Chosen because ')}\n"
            f"{len(idx)} of {len(front.F)} front points satisfy {' and '.join(said)}; {why}",
        )

    @staticmethod
    def _bound(text: str, front: FrontView) -> tuple[float, str, int]:
        match = _BOUND.match(text)
        if not match:
            raise ConfigError(
                f"bound `{text}` is not of the form NAME=VALUE or NAME=FACTOR*best, "
                "e.g. ndcg@10=0.95*best"
            )
        name, factor, value = match.groups()
        j = front.column(name)
        col = front.natural[:, j]
        best = col.max() if front.objectives[j].direction == "max" else col.min()
        try:
            limit = float(factor) * best if factor else float(value)
        except ValueError:
            raise ConfigError(f"bound `{text}`: `{factor or value}` is not a number") from None
        if not np.isfinite(limit):
            raise ConfigError(
                f"bound `{text}`: a finite limit must hold, got {limit}; write a number such "
                "as 2e5 or 0.95*best"
            )
        rel = f" ({factor} x best {_fmt(best)})" if factor else ""
        return limit, rel, j
