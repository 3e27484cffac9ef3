"""One registry type for every plug-in family, and the way plug-ins declare their parameters.

A plug-in (model, re-rank term, selector) is a frozen dataclass whose fields are declared with
``param``: a default, a line of help, the invariant it must satisfy and, for searchable
parameters, the default search range. ``Declared.__post_init__`` checks every field against its
declaration, so no plug-in writes its own validation, and ``paretorec list`` prints the same
declarations the checks use.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

from paretorec.errors import ConfigError, MissingExtraError, UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Param:
    """A declared parameter.

    Attributes:
        name: Field name.
        default: Default value (for a re-rank term's weight, 0 means "off").
        help: One line for ``paretorec list`` and ``--help``.
        kind: ``int``, ``float``, ``str``, ``bool``, or ``floats`` / ``strs`` (lists).
        above: Exclusive lower bound, or None.
        at_least: Inclusive lower bound, or None.
        at_most: Inclusive upper bound, or None.
        choices: Allowed values, or None.
        search: The default search range as a space entry (``{low, high[, log][, levels]}``
            or a list of choices); None when the default space keeps the default value.
    """

    name: str
    default: Any
    help: str
    kind: str
    above: float | None = None
    at_least: float | None = None
    at_most: float | None = None
    choices: tuple[Any, ...] | None = None
    search: Any = None

    def search_text(self) -> str:
        """The default search range in words: ``[5, 400], log, 12 levels``; empty if none."""
        spec = self.search
        if spec is None:
            return ""
        if isinstance(spec, list | tuple):
            return "one of " + ", ".join(map(str, spec))
        text = f"[{spec['low']:g}, {spec['high']:g}]"
        if spec.get("log"):
            text += ", log scale"
        if spec.get("levels"):
            text += f", {spec['levels']} levels"
        return text

    def domain(self) -> str:
        """The invariant in words: ``int > 0``, ``float >= 0``, ``one of a, b``."""
        if self.choices is not None:
            return "one of " + ", ".join(map(str, self.choices))
        bounds = self._bound_text()
        return self.kind if bounds.startswith("is a") else f"{self.kind} {bounds}"

    def check(self, value: Any, label: str) -> Any:
        """``value`` converted to the declared kind; ConfigError naming ``label`` otherwise."""
        name = label.rsplit(".", 1)[-1]
        if value is None and self.default is None:
            return None
        if self.kind in ("floats", "strs"):
            return self._check_list(value, label, name)
        if self.kind == "int":
            ok = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
            if not ok:
                raise ConfigError(
                    f"`{label} {self._bound_text()}` (an integer) must hold, got {name}={value!r}"
                )
            value = int(value)
        elif self.kind == "float":
            ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
                value, bool | np.bool_
            )
            if not ok or not math.isfinite(float(value)):
                raise ConfigError(
                    f"`{label} {self._bound_text()}` (a finite number) must hold, "
                    f"got {name}={value!r}"
                )
            value = float(value)
        elif self.kind == "str" and not isinstance(value, str):
            raise ConfigError(f"`{label}` must be a string, got {name}={value!r}")
        elif self.kind == "bool" and not isinstance(value, bool | np.bool_):
            raise ConfigError(f"`{label}` must be true or false, got {name}={value!r}")
        if self.choices is not None and value not in self.choices:
            raise ConfigError(
                f"`{label}` must be one of {', '.join(map(str, self.choices))}, "
                f"got {name}={value!r}"
            )
        broken = (
            (self.above is not None and not value > self.above)
            or (self.at_least is not None and not value >= self.at_least)
            or (self.at_most is not None and not value <= self.at_most)
        )
        if broken:
            kind = " (an integer)" if self.kind == "int" else ""
            raise ConfigError(
                f"`{label} {self._bound_text()}`{kind} must hold, got {name}={value!r}"
            )
        return value

    def _check_list(self, value: Any, label: str, name: str) -> tuple:
        item = "a finite number" if self.kind == "floats" else "a string"
        if isinstance(value, str) or not isinstance(value, list | tuple | np.ndarray):
            raise ConfigError(f"`{label}` must be a list, each {item}, got {name}={value!r}")
        out = []
        for v in value:
            if self.kind == "strs":
                ok = isinstance(v, str)
            else:
                ok = isinstance(v, int | float | np.integer | np.floating) and not isinstance(
                    v, bool | np.bool_
                )
                ok = ok and math.isfinite(float(v))
            if not ok:
                raise ConfigError(f"`{label}` must be a list, each {item}, got {name}={value!r}")
            out.append(v if self.kind == "strs" else float(v))
        return tuple(out)

    def _bound_text(self) -> str:
        parts = []
        if self.above is not None:
            parts.append(f"> {self.above:g}")
        if self.at_least is not None:
            parts.append(f">= {self.at_least:g}")
        if self.at_most is not None:
            parts.append(f"<= {self.at_most:g}")
        return " and ".join(parts) or f"is a {self.kind}"


_PARAM_KEY = "paretorec.param"


def param(
    default: Any,
    help: str,
    *,
    above: float | None = None,
    at_least: float | None = None,
    at_most: float | None = None,
    choices: tuple[Any, ...] | None = None,
    search: Any = None,
    kind: str | None = None,
) -> Any:
    """A dataclass field declared as a plug-in parameter.

    Its kind follows the default (``int``, ``float``, ``str``, ``bool``) unless given:
    ``floats`` and ``strs`` are lists; a default of None makes the parameter optional.
    """
    kind = kind or {bool: "bool", int: "int", float: "float", str: "str"}[type(default)]
    spec = dict(above=above, at_least=at_least, at_most=at_most, choices=choices, search=search)
    return dataclasses.field(default=default, metadata={_PARAM_KEY: (kind, help, spec)})


def declared_params(cls: type) -> tuple[Param, ...]:
    """The ``param`` declarations of a plug-in dataclass, in field order."""
    out = []
    for f in dataclasses.fields(cls):
        if _PARAM_KEY not in f.metadata:
            continue
        kind, help_text, spec = f.metadata[_PARAM_KEY]
        out.append(Param(f.name, f.default, help_text, kind, **spec))
    return tuple(out)


class Declared:
    """Mixin of plug-in dataclasses: every declared field is checked (and converted) on
    construction, with messages prefixed by ``prefix()`` (``itemknn`` gives
    ```itemknn.k > 0` must hold```)."""

    name: ClassVar[str] = ""

    @classmethod
    def prefix(cls) -> str:
        return cls.name

    @classmethod
    def kind_label(cls) -> str:
        return "plug-in"

    def __post_init__(self) -> None:
        for p in declared_params(type(self)):
            value = p.check(getattr(self, p.name), f"{self.prefix()}.{p.name}")
            object.__setattr__(self, p.name, value)

    @classmethod
    def create(cls, params: Mapping[str, Any]) -> Any:
        """An instance from named parameters; unknown names list the known ones."""
        known = [p.name for p in declared_params(cls)]
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ConfigError(
                f"{cls.kind_label()} `{cls.prefix()}` has no parameter `{unknown[0]}`; "
                f"its parameters: {', '.join(known) or '(none)'}"
            )
        return cls(**params)

    def params(self) -> dict[str, Any]:
        """The declared parameters and their values."""
        return {p.name: getattr(self, p.name) for p in declared_params(type(self))}


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered plug-in with what ``paretorec list`` shows of it."""

    name: str
    obj: T
    description: str
    params: tuple[Param, ...]
    requires: tuple[tuple[str, str], ...] = ()  # (module, the extra that installs it)


def _first_line(obj: Any) -> str:
    doc = getattr(obj, "__doc__", None) or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


class Registry(Generic[T]):
    """Maps names to plug-ins; unknown names fail with the list of what is available.

    Args:
        kind: What the entries are, used in messages ("model", "metric", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self,
        name: str,
        *,
        description: str | None = None,
        params: tuple[Param, ...] | None = None,
        requires: Mapping[str, str] | None = None,
    ) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name`` (once). The description defaults to
        the first paragraph of its docstring, the parameters to its ``param`` declarations;
        ``requires`` maps optional modules it imports to the extra that installs them."""

        def add(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} `{name}` is already registered")
            declared = params
            if declared is None:
                declared = declared_params(obj) if dataclasses.is_dataclass(obj) else ()
            text = description if description is not None else _first_line(obj)
            needs = tuple((requires or {}).items())
            self._entries[name] = Entry(name, obj, text, tuple(declared), needs)
            return obj

        return add

    def add(self, name: str, obj: T, **kwargs: Any) -> T:
        """Register ``obj`` under ``name`` without decorator syntax."""
        return self.register(name, **kwargs)(obj)

    def remove(self, name: str) -> None:
        """Unregister ``name`` (tests and interactive sessions that re-define a plug-in)."""
        self._entries.pop(name, None)

    @contextmanager
    def temporarily(self, name: str, obj: T, **kwargs: Any) -> Iterator[T]:
        """Register ``obj`` for the duration of a ``with`` block."""
        self.add(name, obj, **kwargs)
        try:
            yield obj
        finally:
            self.remove(name)

    def get(self, name: str) -> T:
        """The entry called ``name``; raises UnknownNameError naming the available ones."""
        return self.entry(name).obj

    def entry(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(
                f"unknown {self.kind} `{name}`; available: {', '.join(self.available())}"
            ) from None

    def require(self, name: str) -> T:
        """The entry called ``name``, after checking that its optional modules are installed
        (without importing them); ConfigError naming the extra otherwise."""
        entry = self.entry(name)
        for module, extra in entry.requires:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                raise MissingExtraError(
                    f"{self.kind} `{name}` needs {module}: pip install 'paretorec[{extra}]'"
                )
        return entry.obj

    def entries(self) -> list[Entry[T]]:
        return [self._entries[name] for name in self.available()]

    def available(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def in_order(self) -> list[str]:
        """Registered names in registration order (built-ins first, then plug-ins)."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.available())
