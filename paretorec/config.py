"""The experiment config: TOML (or JSON) or Python -> a validated, frozen ExperimentConfig.

Every section is a frozen dataclass that checks its own fields on construction: the types
(lists become tuples, tables become sections), then the invariants. A config built in code is
therefore validated exactly like a loaded one, and every message names the section, the key
and what must hold; ``load_config`` prefixes the file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from paretorec.errors import ConfigError


class _Section:
    """Base of the config sections: type-check and convert every field, then ``_check``."""

    SECTION: ClassVar[str] = "config"

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _convert(getattr(self, f.name), hints[f.name], f"{self.SECTION} {f.name}")
            object.__setattr__(self, f.name, value)
        self._check()

    def _check(self) -> None:
        """Invariants between fields (types are already right)."""


@dataclass(frozen=True)
class DataConfig(_Section):
    """Where the interactions come from and how they are cleaned.

    ``dataset`` is a registered name (``ml-100k``, ``ml-latest-small``, ``synthetic``) or
    ``file`` for any CSV / Parquet of interactions at ``path`` with a ``columns`` mapping.
    """

    SECTION: ClassVar[str] = "[data]"

    dataset: str = "ml-100k"
    path: str | None = None
    format: str | None = None
    columns: Mapping[str, str] | None = None
    separator: str = ","
    encoding: str = "utf-8"
    items: str | None = None
    item_columns: Mapping[str, str] | None = None
    feature_separator: str = "|"
    rating_scale: tuple[float, ...] | None = None
    min_user_interactions: int = 1
    min_item_interactions: int = 1
    implicit_threshold: float | None = None
    strict: bool = False
    synthetic: Mapping[str, Any] | None = None

    def _check(self) -> None:
        if self.dataset == "file" and not self.path:
            raise ConfigError('[data] `path` is required when dataset = "file"')
        if self.synthetic is not None and self.dataset != "synthetic":
            raise ConfigError('[data.synthetic]: only dataset = "synthetic" uses it')
        self._check_file_keys()
        if self.format not in (None, "csv", "parquet"):
            raise ConfigError(f"[data] format must be csv or parquet, got {self.format!r}")
        self._check_text_options()
        for key, allowed in (
            ("columns", {"user", "item", "rating", "timestamp"}),
            ("item_columns", {"item", "genres", "tags", "text"}),
        ):
            self._check_mapping(key, allowed)
        if self.item_columns is not None and not self.items:
            raise ConfigError("[data] item_columns: only used with `items` (the features file)")
        self._check_numbers()

    # Keys a registered dataset would silently ignore: it reads its own files its own way.
    FILE_KEYS: ClassVar[dict[str, Any]] = {
        "path": None,
        "format": None,
        "columns": None,
        "separator": ",",
        "encoding": "utf-8",
        "items": None,
        "item_columns": None,
        "feature_separator": "|",
    }

    def _check_file_keys(self) -> None:
        if self.dataset == "file":
            return
        for key, default in self.FILE_KEYS.items():
            if getattr(self, key) != default:
                raise ConfigError(
                    f'[data] {key}: only dataset = "file" reads it, but dataset = '
                    f"{self.dataset!r} loads its own files; remove {key}, or set "
                    'dataset = "file" to read your file'
                )

    def _check_text_options(self) -> None:
        for key, forbidden in (("separator", '\r\n"'), ("feature_separator", "")):
            value = getattr(self, key)
            if value == "" or any(ch in forbidden for ch in value):
                without = ", without quotes or line breaks," if forbidden else ""
                raise ConfigError(
                    f"[data] {key}: one or more characters{without} must hold, got {value!r}"
                )
        try:  # str.encode refuses codecs that are not text encodings (rot13, base64)
            "user,item".encode(self.encoding).decode(self.encoding)
        except (LookupError, UnicodeError):
            raise ConfigError(
                f"[data] encoding: {self.encoding!r} is not a known text encoding; use a "
                'Python codec name such as "utf-8", "latin-1", "cp1252" or "utf-16"'
            ) from None

    def _check_mapping(self, key: str, allowed: set[str]) -> None:
        mapping = getattr(self, key) or {}
        unknown = sorted(set(mapping) - allowed)
        if unknown:
            expected = ", ".join(sorted(allowed))
            raise ConfigError(f"[data] {key}: unknown key `{unknown[0]}`; expected {expected}")
        for name, column in mapping.items():
            if not isinstance(column, str) or not column.strip():
                raise ConfigError(
                    f"[data] {key}: `{name}` must name a column of the file, got {column!r}"
                )
        by_column: dict[str, list[str]] = {}
        for name, column in mapping.items():
            by_column.setdefault(column, []).append(name)
        shared = [(column, names) for column, names in by_column.items() if len(names) > 1]
        if shared:
            column, names = shared[0]
            raise ConfigError(
                f"[data] {key}: column `{column}` is mapped to both {' and '.join(names)}; "
                "map each to its own column"
            )

    def _check_numbers(self) -> None:
        if self.rating_scale is not None and (
            len(self.rating_scale) != 2
            or not all(math.isfinite(v) for v in self.rating_scale)
            or not self.rating_scale[0] < self.rating_scale[1]
        ):
            raise ConfigError(
                f"[data] rating_scale: `[low, high]` with finite low < high must hold, "
                f"got {list(self.rating_scale)}"
            )
        if self.implicit_threshold is not None and not math.isfinite(self.implicit_threshold):
            raise ConfigError(
                f"[data] implicit_threshold: a finite number must hold, got "
                f"{self.implicit_threshold}"
            )
        for key in ("min_user_interactions", "min_item_interactions"):
            if getattr(self, key) < 1:
                raise ConfigError(f"[data] `{key} >= 1` must hold, got {getattr(self, key)}")


SPLIT_METHODS = ("holdout", "temporal", "leave_last")


@dataclass(frozen=True)
class SplitConfig(_Section):
    """How interactions are split into train, validation and test.

    ``holdout``: per user, at random (seeded); ``test`` / ``validation`` are fractions (0 < x < 1)
    or counts (whole numbers >= 1) of each user's events. ``temporal``: one global cutoff in
    time; ``test`` is the fraction of all events after it, or ``test_cutoff`` an epoch second.
    ``leave_last``: each user's last ``test`` events (by time) are test, the ``validation``
    before them validation. Validation is always carved from what is left the same way.
    """

    SECTION: ClassVar[str] = "[split]"

    method: str = "holdout"
    test: int | float = 0.2
    validation: int | float = 0.2
    seed: int = 42
    test_cutoff: int | None = None
    validation_cutoff: int | None = None

    def _check(self) -> None:
        if self.method not in SPLIT_METHODS:
            raise ConfigError(
                f"[split] method must be one of {', '.join(SPLIT_METHODS)}, got {self.method!r}"
            )
        _check_seed("[split]", self.seed)
        for key in ("test_cutoff", "validation_cutoff"):
            if getattr(self, key) is not None and self.method != "temporal":
                raise ConfigError(f'[split] {key}: only method = "temporal" uses it')
        for name in ("test", "validation"):
            value = getattr(self, name)
            is_count = isinstance(value, int)
            if self.method == "leave_last" and not (is_count and value >= 1):
                raise ConfigError(
                    f"[split] leave_last needs `{name}` as a whole number >= 1, got {value!r}"
                )
            if self.method == "temporal" and is_count:
                raise ConfigError(
                    f"[split] temporal needs `{name}` as a fraction 0 < x < 1, got {value!r}"
                )
            if (is_count and value < 1) or (not is_count and not 0.0 < value < 1.0):
                raise ConfigError(
                    f"[split] `0 < {name} < 1` (a fraction) or `{name} >= 1` (a count) must hold, "
                    f"got {name}={value}"
                )


TEST_SCORING = ("every", "front")
SIMILARITIES = ("genres", "semantic")
# What a run records besides its objectives when the config does not say (at the config's k).
DEFAULT_RECORD = (
    "precision@{k}",
    "recall@{k}",
    "hit@{k}",
    "ild@{k}",
    "novelty@{k}",
    "coverage@{k}",
)


@dataclass(frozen=True)
class EvaluationConfig(_Section):
    """List length, the metrics recorded for every trial besides the objectives, and when test
    is scored: ``every`` evaluated point (default) or only the final ``front`` (a search that
    needs only validation objectives runs about twice as fast).

    ``record`` defaults to precision, recall, hit rate, ILD, novelty and coverage at ``k``.
    ``similarity`` is the item similarity of re-rank diversity and ILD: genre overlap
    (``genres``) or sentence embeddings of title, genres and tags (``semantic``, the extra).
    """

    SECTION: ClassVar[str] = "[evaluation]"

    k: int = 10
    record: tuple[str, ...] | None = None
    test_scoring: str = "every"
    similarity: str = "genres"

    def _check(self) -> None:
        if not 0 < self.k <= MAX_K:
            raise ConfigError(f"[evaluation] `0 < k <= {MAX_K}` must hold, got k={self.k}")
        if self.record is None:
            object.__setattr__(self, "record", tuple(m.format(k=self.k) for m in DEFAULT_RECORD))
        if self.similarity not in SIMILARITIES:
            raise ConfigError(
                f"[evaluation] similarity must be one of {', '.join(SIMILARITIES)}, "
                f"got {self.similarity!r}"
            )
        if self.test_scoring not in TEST_SCORING:
            raise ConfigError(
                f"[evaluation] test_scoring must be one of {', '.join(TEST_SCORING)}, "
                f"got {self.test_scoring!r}"
            )


@dataclass(frozen=True)
class ObjectiveConfig(_Section):
    """One objective: a metric name, optionally its direction and hypervolume bounds."""

    SECTION: ClassVar[str] = "[[objectives]]"

    metric: str
    direction: str | None = None
    best: float | None = None
    worst: float | None = None

    def _check(self) -> None:
        for key in ("best", "worst"):
            value = getattr(self, key)
            if value is not None and not math.isfinite(value):
                raise ConfigError(
                    f"[[objectives]] {self.metric}: `{key}` must be a finite number, got {value}"
                )


@dataclass(frozen=True)
class SearchConfig(_Section):
    """The multi-objective search: algorithm, budget, stopping rules and seed.

    The run stops at whichever comes first: ``generations``, ``max_evaluations``,
    ``max_seconds`` of evaluation wall time, or ``stagnation`` generations in a row without a
    hypervolume gain. ``weights`` are the fixed objective weights of the ``weighted`` algorithm.
    ``start_from_baselines`` puts every model at its defaults, without re-ranking, into the
    first population (they are measured anyway, to anchor the hypervolume).
    """

    SECTION: ClassVar[str] = "[search]"

    algorithm: str = "nsga2"
    population: int = 20
    generations: int = 10
    seed: int = 42
    max_evaluations: int | None = None
    max_seconds: float | None = None
    stagnation: int | None = None
    weights: tuple[float, ...] | None = None
    start_from_baselines: bool = True

    @property
    def budget(self) -> int:
        """Evaluations the search may spend: ``max_evaluations``, else population x generations."""
        return self.max_evaluations or self.population * self.generations

    def _check(self) -> None:
        if self.weights is not None and self.algorithm != "weighted":
            raise ConfigError(
                f'[search] weights: only algorithm = "weighted" uses them, got {self.algorithm!r}'
            )
        _check_seed("[search]", self.seed)
        for name in ("population", "generations", "max_evaluations", "max_seconds", "stagnation"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"[search] `{name} > 0` must hold, got {name}={value}")
            limit = SEARCH_LIMITS.get(name)
            if value is not None and limit is not None and not value <= limit:
                raise ConfigError(
                    f"[search] `{name} <= {limit:g}` must hold, got {name}={value} (a "
                    "larger value would not finish; a long search resumes in parts)"
                )
        if self.weights is not None and (
            any(not (math.isfinite(w) and w >= 0) for w in self.weights)
            or not sum(self.weights) > 0
        ):
            raise ConfigError(
                f"[search] weights: non-negative and not all 0 must hold, got {list(self.weights)}"
            )


# The most a search setting may ask for: enough for any real search, and small enough that
# the algorithm's own arrays fit in memory (a population of 1e9 would not).
SEARCH_LIMITS = {
    "population": 10_000,
    "generations": 1_000_000,
    "max_evaluations": 10_000_000,
    "max_seconds": 365 * 24 * 3600.0,
    "stagnation": 1_000_000,
}
# The longest list: no pool (``rerank.pool``) is longer.
MAX_K = 10_000


def _check_seed(section: str, seed: int) -> None:
    if not 0 <= seed < 2**32:
        raise ConfigError(f"{section} `0 <= seed < 2**32` must hold, got seed={seed}")


# The default objectives, at the config's k: accuracy, satisfaction, cost.
DEFAULT_OBJECTIVES = (("ndcg@{k}", "max"), ("satisfaction@{k}", "max"), ("cost", "min"))


@dataclass(frozen=True)
class ExperimentConfig(_Section):
    """A whole experiment. ``space`` stays a raw table: ``paretorec.space.parse_space`` owns it.

    ``objectives`` defaults to NDCG and satisfaction at ``evaluation.k`` and cost.
    ``constraints`` are expressions such as ``"cost <= 2e5"`` or
    ``"ndcg@10 >= 0.9*best_baseline"`` (``paretorec.objectives.parse_constraint``).
    ``plugins`` are modules imported before the config is checked (and in every worker
    process), so that the models, terms and metrics they register can be named here.
    """

    SECTION: ClassVar[str] = "config"

    name: str = "experiment"
    data: DataConfig = field(default_factory=DataConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    objectives: tuple[ObjectiveConfig, ...] | None = None
    search: SearchConfig = field(default_factory=SearchConfig)
    constraints: tuple[str, ...] = ()
    space: Mapping[str, Any] | None = None
    plugins: tuple[str, ...] = ()

    def _check(self) -> None:
        if not (0 < len(self.name) <= 200 and self.name.isprintable()):
            shown = self.name if len(self.name) <= 60 else self.name[:57] + "..."
            raise ConfigError(
                f"name: 1 to 200 printable characters (no line breaks or control characters) "
                f"must hold, got {shown!r}"
            )
        if self.objectives is None:
            k = self.evaluation.k
            defaults = tuple(
                ObjectiveConfig(name.format(k=k), direction)
                for name, direction in DEFAULT_OBJECTIVES
            )
            object.__setattr__(self, "objectives", defaults)
        if len(self.objectives) < 2:
            raise ConfigError(
                f"`at least 2 objectives` must hold for a Pareto front, got {len(self.objectives)}"
            )
        names = [o.metric for o in self.objectives]
        if len(set(names)) != len(names):
            raise ConfigError(f"[[objectives]] each metric once, got {', '.join(names)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain data that ``from_dict`` turns back into an equal config."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


def _convert(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against a type hint, converting lists to tuples and tables to sections."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(value, option, where)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0]
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):  # type: ignore[arg-type]
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return from_dict(hint, value)  # type: ignore[arg-type]
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(_convert(v, item_hint, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is not None and issubclass(origin, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return dict(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if hint is Any:
        return value
    raise TypeError(f"unsupported config type {hint!r} at {where}")  # a bug, not user input


def from_dict(cls: type, raw: Mapping[str, Any], where: str | None = None) -> Any:
    """Build the config dataclass ``cls`` from a mapping, rejecting unknown keys."""
    where = where or getattr(cls, "SECTION", "config")
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(raw).__name__}")
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key `{unknown[0]}`; expected one of: {', '.join(known)}"
        )
    required = [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in raw]
    if missing:
        raise ConfigError(f"{where}: `{missing[0]}` is required")
    return cls(**raw)


MAX_CONFIG_BYTES = 10 << 20


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment config (``.toml`` or ``.json``).

    Raises:
        ConfigError: unreadable file, bad syntax, unknown keys, wrong types, broken invariants;
            the message starts with the file name.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:  # bounded: a device or a huge file is not a config
            data = fh.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than 10 MiB, not an experiment config")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.__class__.__name__}: {exc})") from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ConfigError(f"{path}: not a valid config ({str(exc)[:100]})") from None
    try:
        return from_dict(ExperimentConfig, raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
