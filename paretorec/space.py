"""The search space: named parameters <-> the unit-cube vector pymoo searches.

Every parameter takes one coordinate in [0, 1]; every algorithm sees the same bounded float
problem. Integers and choices own equal-width cells of [0, 1]; ``repair`` snaps a coordinate to
its cell centre so two vectors that decode alike also look alike to duplicate elimination.

Parameter names follow ``paretorec.names``: a parameter of a model is active only when that
model is chosen; everything else is always active.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from paretorec.errors import ConfigError
from paretorec.names import MODEL, active_models, condition

Value = int | float | str


@dataclass(frozen=True)
class Real:
    """A float in ``[low, high]``, uniform or (``log``) log-uniform."""

    low: float
    high: float
    log: bool = False

    def decode(self, u: float) -> float:
        if self.log:  # exp(log) can land an ulp outside the bounds, which Optuna flags
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
            return min(max(v, self.low), self.high)
        return self.low + u * (self.high - self.low)

    def encode(self, v: float) -> float:
        if self.high == self.low:
            return 0.5
        if self.log:
            return (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (v - self.low) / (self.high - self.low)

    def snap(self, u: np.ndarray) -> np.ndarray:
        return u


@dataclass(frozen=True)
class Int:
    """An integer in ``[low, high]`` (inclusive), uniform or (``log``) log-uniform cells."""

    low: int
    high: int
    log: bool = False

    def _edges(self) -> tuple[float, float]:
        if self.log:
            return math.log(self.low), math.log(self.high + 1)
        return float(self.low), float(self.high + 1)

    def decode(self, u: float) -> int:
        a, b = self._edges()
        x = a + u * (b - a)
        v = math.floor(math.exp(x) if self.log else x)
        return int(min(max(v, self.low), self.high))

    def encode(self, v: float) -> float:
        a, b = self._edges()
        lo, hi = (math.log(v), math.log(v + 1)) if self.log else (float(v), float(v) + 1.0)
        return ((lo + hi) / 2.0 - a) / (b - a)

    def snap(self, u: np.ndarray) -> np.ndarray:
        return np.array([self.encode(self.decode(x)) for x in u])


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of values, each owning an equal share of [0, 1]."""

    values: tuple[Value, ...]

    def decode(self, u: float) -> Value:
        return self.values[min(int(u * len(self.values)), len(self.values) - 1)]

    def encode(self, v: Value) -> float:
        return (self.values.index(v) + 0.5) / len(self.values)

    def snap(self, u: np.ndarray) -> np.ndarray:
        idx = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
        return (idx + 0.5) / len(self.values)


@dataclass(frozen=True)
class Grid(Choice):
    """An ordered grid of numbers (``levels`` points over ``[low, high]``, log-spaced if asked).

    Model hyperparameters on a grid refit at most ``levels`` times per stage, because fitted
    candidate lists are cached by their parameters.
    """

    spec: str = ""


Domain = Real | Int | Choice


@dataclass(frozen=True)
class SearchSpace:
    """Free parameters (decision variables) and fixed values.

    Attributes:
        params: Decision variables in vector order, as ``(name, domain)``.
        fixed: Parameters held at one value.
    """

    params: tuple[tuple[str, Domain], ...]
    fixed: tuple[tuple[str, Value], ...] = ()

    @property
    def n_var(self) -> int:
        return len(self.params)

    @property
    def names(self) -> list[str]:
        """Every parameter name, free ones first."""
        return [n for n, _ in self.params] + [n for n, _ in self.fixed]

    def models(self) -> tuple[str, ...]:
        """The model names the space can choose."""
        for name, dom in self.params:
            if name == MODEL and isinstance(dom, Choice):
                return tuple(str(v) for v in dom.values)
        return (str(dict(self.fixed)[MODEL]),)

    def upper(self, name: str) -> Value:
        """The largest value ``name`` can take; KeyError if the space lacks it."""
        return self._bound(name, max)

    def lower(self, name: str) -> Value:
        """The smallest value ``name`` can take; KeyError if the space lacks it."""
        return self._bound(name, min)

    def _bound(self, name: str, pick: Any) -> Value:
        for n, dom in self.params:
            if n == name:
                return pick(dom.low, dom.high) if isinstance(dom, Real | Int) else pick(dom.values)
        return dict(self.fixed)[name]

    def decode(self, x: np.ndarray) -> dict[str, Value]:
        """Active parameter values of one unit vector (inactive model parameters dropped)."""
        values: dict[str, Value] = dict(self.fixed)
        for (name, dom), u in zip(self.params, np.clip(x, 0.0, 1.0), strict=True):
            values[name] = dom.decode(float(u))
        if MODEL not in values:  # a space without models (a test problem): nothing conditional
            return values
        return {n: v for n, v in values.items() if condition(n) in active_models(values)}

    def encode(self, values: Mapping[str, Value]) -> np.ndarray:
        """A unit vector that decodes to ``values``; absent (inactive) parameters sit at 0.5."""
        return np.array(
            [dom.encode(values[name]) if name in values else 0.5 for name, dom in self.params]
        )

    def encode_nearest(self, values: Mapping[str, Value]) -> np.ndarray:
        """Like ``encode``, for values that may lie off the space: numbers are clipped to the
        bounds, off-grid numbers go to the nearest grid value (by ratio when positive)."""
        x = []
        for name, dom in self.params:
            v = values.get(name)
            if v is None:
                x.append(0.5)
            elif isinstance(dom, Choice) and v not in dom.values:
                numbers = [g for g in dom.values if isinstance(g, int | float)]
                if not numbers or not isinstance(v, int | float):
                    x.append(0.5)
                    continue
                scale = np.log if v > 0 and min(numbers) > 0 else (lambda a: a)
                gaps = np.abs(scale(np.array(numbers, dtype=float)) - scale(float(v)))
                x.append(dom.encode(numbers[int(np.argmin(gaps))]))
            elif isinstance(dom, Real | Int):
                x.append(dom.encode(min(max(v, dom.low), dom.high)))  # type: ignore[type-var]
            else:
                x.append(dom.encode(v))
        return np.array(x)

    def repair(self, X: np.ndarray) -> np.ndarray:
        """``(n, n_var)`` vectors clipped to [0, 1] with discrete coordinates at cell centres."""
        X = np.clip(np.asarray(X, dtype=np.float64), 0.0, 1.0)
        for j, (_, dom) in enumerate(self.params):
            X[:, j] = dom.snap(X[:, j])
        names = [name for name, _ in self.params]
        if MODEL in names:  # inactive coordinates to 0.5 (as encode), so points that decode
            # alike are alike to pymoo's duplicate elimination
            dom = dict(self.params)[MODEL]
            chosen = np.array([dom.decode(u) for u in X[:, names.index(MODEL)]])
            active = self._active_rows(X, chosen)
            for j, name in enumerate(names):
                owner = condition(name)
                if owner is not None:
                    X[~active.get(owner, np.zeros(len(X), dtype=bool)), j] = 0.5
        return X

    def _active_rows(self, X: np.ndarray, chosen: np.ndarray) -> dict[str, np.ndarray]:
        """Per model, the rows where its parameters are active: it is the chosen model, or
        the chosen model's parameter names it (a hybrid's members; see ``names.members``)."""
        models = [str(m) for m in self.models()]
        active = {m: chosen == m for m in models}
        for j, (name, dom) in enumerate(self.params):
            owner = condition(name)
            if owner in active and isinstance(dom, Choice):
                picked = np.array([dom.decode(u) for u in X[:, j]], dtype=object)
                for m in models:
                    if m != owner:
                        active[m] = active[m] | ((chosen == owner) & (picked == m))
        for name, value in self.fixed:
            owner = condition(name)
            if owner in active and isinstance(value, str) and value in active and value != owner:
                active[value] = active[value] | (chosen == owner)
        return active

    def describe(self) -> list[str]:
        """One human line per parameter, for logs and the README."""
        lines = []
        for name, dom in self.params:
            if isinstance(dom, Grid):
                lines.append(f"{name}: {dom.spec}")
            elif isinstance(dom, Choice):
                lines.append(f"{name}: one of {', '.join(map(str, dom.values))}")
            else:
                kind = ("log-" if dom.log else "") + type(dom).__name__.lower()
                lines.append(f"{name}: {kind} in [{dom.low}, {dom.high}]")
        lines += [f"{name} = {value}" for name, value in self.fixed]
        return lines


def _flatten(raw: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Accept both ``"itemknn.k" = {...}`` and ``[space.itemknn] k = {...}`` forms."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        is_group = isinstance(value, Mapping) and not ({"low", "high", "type"} & set(value))
        if is_group:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def _domain(name: str, spec: Mapping[str, Any]) -> Domain:
    unknown = sorted(set(spec) - {"low", "high", "log", "type", "levels"})
    if unknown:
        raise ConfigError(
            f"space `{name}`: unknown key `{unknown[0]}`; expected low, high, log, type, levels"
        )
    if "low" not in spec or "high" not in spec:
        raise ConfigError(f"space `{name}`: needs both `low` and `high`, got {dict(spec)}")
    low, high, log = spec["low"], spec["high"], bool(spec.get("log", False))
    for key, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not _finite(v):
            raise ConfigError(f"space `{name}`: `{key}` must be a number (finite), got {v!r}")
    kind = spec.get("type") or ("int" if isinstance(low, int) and isinstance(high, int) else "real")
    if kind not in ("int", "real"):
        raise ConfigError(f"space `{name}`: `type` must be int or real, got {kind!r}")
    if not low <= high:
        raise ConfigError(f"space `{name}`: `low <= high` must hold, got low={low}, high={high}")
    if log and not low > 0:
        raise ConfigError(f"space `{name}`: a log scale needs `low > 0`, got low={low}")
    if kind == "int" and (low != int(low) or high != int(high)):
        raise ConfigError(f"space `{name}`: int bounds must be whole, got {low}, {high}")
    levels = spec.get("levels")
    if levels is not None:
        if isinstance(levels, bool) or not isinstance(levels, int) or not 2 <= levels <= 1000:
            raise ConfigError(
                f"space `{name}`: `levels >= 2` and `levels <= 1000` (an integer) must hold, "
                f"got {levels!r}"
            )
        points = np.geomspace(low, high, levels) if log else np.linspace(low, high, levels)
        values: tuple[Value, ...] = (
            tuple(int(v) for v in np.unique(np.rint(points).astype(int)))
            if kind == "int"
            else tuple(float(f"{v:.4g}") for v in points)  # readable values in reports
        )
        scale = "log-" if log else ""
        return Grid(values, f"{scale}{kind} grid of {len(values)} in [{low}, {high}]")
    if kind == "int":
        return Int(int(low), int(high), log)
    return Real(float(low), float(high), log)


def parse_space(raw: Mapping[str, Any]) -> SearchSpace:
    """Build a space from its config table: ``name -> {low, high[, log][, type][, levels]}``
    (a range), ``[choices]`` or a bare value (fixed). Names are checked by the caller, which
    knows what they refer to."""
    params: list[tuple[str, Domain]] = []
    fixed: list[tuple[str, Value]] = []
    for name, spec in _flatten(raw).items():
        if isinstance(spec, list | tuple):
            if not spec:
                raise ConfigError(f"space `{name}`: an empty list has nothing to choose from")
            values = tuple(_value(name, v) for v in spec)
            if name != MODEL:  # the model choice is checked against the registry, by name
                _same_kind(name, values)
            if len(values) == 1:
                fixed.append((name, values[0]))
            else:
                params.append((name, Choice(values)))
        elif isinstance(spec, Mapping):
            params.append((name, _domain(name, spec)))
        else:
            fixed.append((name, _value(name, spec)))
    return SearchSpace(tuple(params), tuple(fixed))


def _finite(value: Any) -> bool:
    """A number a parameter can take: a finite float, or an integer that fits 64 bits (a
    larger one overflows the float arithmetic of the unit cube)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


def _value(name: str, value: Any) -> Value:
    """One value a parameter can take: a string, a boolean or a finite number."""
    ok = isinstance(value, str | bool) or _finite(value)
    if not ok:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise ConfigError(
            f"space `{name}`: a value must be a string, true/false or a finite number, got {shown}"
        )
    return value


def _same_kind(name: str, values: tuple[Value, ...]) -> None:
    """A choice is all names, all flags or all numbers, each once: a mixed list cannot be
    ordered or searched as one parameter."""
    kinds = {
        "text" if isinstance(v, str) else "flag" if isinstance(v, bool) else "number"
        for v in values
    }
    if len(kinds) > 1:
        raise ConfigError(
            f"space `{name}`: a choice mixes {' and '.join(sorted(kinds))} values "
            f"({', '.join(map(repr, values[:6]))}); make every value the same kind"
        )
    if len(set(values)) != len(values):
        raise ConfigError(f"space `{name}`: a choice lists a value twice ({list(values)[:10]})")
