"""The exported operating point: a versioned JSON file that reloads into a recommender.

``chosen.json`` names the model, its hyperparameters, the re-rank weights and K, plus where
it came from (dataset checksum, split, seed, run, trial, the values it scored). Loading it and
fitting on the run's own data reproduces the run's test lists exactly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paretorec import names
from paretorec._version import __version__
from paretorec.config import SIMILARITIES, DataConfig, SplitConfig, from_dict
from paretorec.data.paths import read_data, stored_data
from paretorec.errors import ConfigError, ParetoRecError
from paretorec.export.segments import SegmentPlan, candidate_fields
from paretorec.optimize.rundir import atomic_write
from paretorec.study import Candidate

SCHEMA = "paretorec/operating-point"
SCHEMA_VERSION = 1
FIT_ON = ("all", "run")


@dataclass(frozen=True)
class OperatingPoint:
    """A chosen configuration and its provenance.

    Attributes:
        candidate: Model, hyperparameters and re-rank weights.
        k: List length.
        data: Where the data came from and how it was cleaned (reloads the same data).
        dataset_checksum: ``sha256:...`` of the cleaned data the run used.
        split: The split the run used (``fit_on="run"`` rebuilds it).
        seed: The search seed.
        values: ``{"validation": {...}, "test": {...}}`` objective and recorded metric values.
        selection: How it was chosen (method, reason), if by a selector.
        run: Where it came from (run directory, trial id).
        similarity: The item similarity diversity used (``genres`` or ``semantic``).
        segments: One point per user segment (``select --per-segment``), or None; users are
            then served their segment's point, and this point is the overall choice.
    """

    candidate: Candidate
    k: int
    data: DataConfig
    dataset_checksum: str
    split: SplitConfig
    seed: int
    values: dict[str, dict[str, float]] = field(default_factory=dict)
    selection: dict[str, str] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    similarity: str = "genres"
    segments: SegmentPlan | None = None

    def to_dict(self) -> dict[str, Any]:
        fields = candidate_fields(self.candidate)
        out = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "paretorec_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": fields["model"],
            "similarity": self.similarity,
            "rerank": fields["rerank"],
            "k": self.k,
            "dataset": {
                "name": self.data.dataset,
                "checksum": self.dataset_checksum,
                "config": dataclasses.asdict(self.data),
            },
            "split": dataclasses.asdict(self.split),
            "seed": self.seed,
            "values": self.values,
            "selection": self.selection,
            "run": self.run,
        }
        if self.segments is not None:  # absent otherwise: such files read as they always did
            out["segments"] = self.segments.to_dict()
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str = "operating point") -> OperatingPoint:
        """Validate and read the file's content: every field is checked for its type before
        it is used, so a damaged or crafted file stops with the field's name."""
        _check_header(raw, where)
        fields = _Fields(raw, where)
        for key in ("paretorec_version", "created"):  # informative, but never of another type
            fields.get(key, str, "")
        unknown = sorted(set(raw) - set(_TOP_LEVEL))
        if unknown:
            raise ConfigError(
                f"{where}: unknown field `{unknown[0][:40]}`; expected {', '.join(_TOP_LEVEL)}"
            )
        try:
            candidate = Candidate.from_values(_flat_values(fields))
            data = from_dict(DataConfig, fields.get("dataset.config", dict), "dataset.config")
            split = from_dict(SplitConfig, fields.get("split", dict), "split")
        except ParetoRecError as exc:  # a model or term name is unknown, or a value is off
            if str(exc).startswith(where):
                raise
            raise ConfigError(f"{where}: {exc}") from None
        similarity = fields.get("similarity", str, "genres")
        if similarity not in SIMILARITIES:
            raise ConfigError(
                f"{where}: field `similarity` must be one of {', '.join(SIMILARITIES)}, "
                f"got {_short(similarity)}"
            )
        return cls(
            candidate=candidate,
            k=fields.integer("k", 1, MAX_K),
            data=data,
            dataset_checksum=_checksum(fields, where),
            split=split,
            seed=fields.integer("seed", 0, 2**32 - 1),
            values=_values(fields, where),
            selection={
                key: _text(value, f"selection.{key}", where)
                for key, value in fields.get("selection", dict, {}).items()
            },
            run=_run(fields),
            similarity=similarity,
            segments=None
            if "segments" not in raw
            else SegmentPlan.from_dict(raw["segments"], where, _read_candidate),
        )


# What an exported point holds at the top level (``to_dict``'s keys).
_TOP_LEVEL = (
    "schema",
    "schema_version",
    "paretorec_version",
    "created",
    "model",
    "similarity",
    "rerank",
    "k",
    "dataset",
    "split",
    "seed",
    "values",
    "selection",
    "run",
    "segments",
)
# No list is longer than the largest pool a point may re-rank (``rerank.pool``'s bound).
MAX_K = 10_000
_CHECKSUM = re.compile(r"^sha256:[0-9A-Za-z]{1,64}$")
_KINDS = {dict: "a table (JSON object)", str: "a string", int: "an integer", list: "a list"}


def _short(value: Any, limit: int = 60) -> str:
    """A value as a message may show it: its repr (control characters escaped), cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_header(raw: Any, where: str) -> None:
    if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
        schema = raw.get("schema") if isinstance(raw, dict) else None
        got = f"schema {_short(schema)}" if isinstance(raw, dict) else type(raw).__name__
        raise ConfigError(f"{where}: not a paretorec operating point ({got})")
    version = raw.get("schema_version")
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise ConfigError(
            f"{where}: schema_version {_short(version)} is not supported by paretorec "
            f"{__version__} (reads version {SCHEMA_VERSION}); export it again with this version"
        )


class _Fields:
    """Typed access to an exported point's fields by dotted name; every failure names the
    file and the field."""

    def __init__(self, raw: dict[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def get(self, dotted: str, kind: type, default: Any = dataclasses.MISSING) -> Any:
        value: Any = self.raw
        parts = dotted.split(".")
        for depth, part in enumerate(parts):
            if not isinstance(value, dict):
                parent = ".".join(parts[:depth])
                raise ConfigError(
                    f"{self.where}: field `{parent}` must be a table (JSON object), got "
                    f"{_short(value)}"
                )
            if part not in value:
                if default is not dataclasses.MISSING:
                    return default
                raise ConfigError(f"{self.where}: field `{dotted}` is missing; export it again")
            value = value[part]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise ConfigError(
                f"{self.where}: field `{dotted}` must be {_KINDS.get(kind, kind.__name__)}, "
                f"got {_short(value)}"
            )
        return value

    def integer(self, dotted: str, low: int, high: int) -> int:
        value = self.get(dotted, int)
        if not low <= value <= high:
            raise ConfigError(
                f"{self.where}: field `{dotted}`: `{low} <= {dotted} <= {high}` (an integer) "
                f"must hold, got {_short(value)}"
            )
        return value


def _flat_values(fields: _Fields) -> dict[str, Any]:
    """The point's model, members and re-rank settings as flat parameter names."""
    model = fields.get("model.name", str)
    if not (0 < len(model) <= 64 and model.isprintable()):
        raise ConfigError(
            f"{fields.where}: field `model.name`: not a model name, got {_short(model)}"
        )
    flat: dict[str, Any] = {names.MODEL: model}
    flat.update(
        {names.model_param(model, k): v for k, v in fields.get("model.params", dict).items()}
    )
    for member, params in fields.get("model.members", dict, {}).items():
        if not isinstance(params, dict):
            raise ConfigError(
                f"{fields.where}: field `model.members.{member[:40]}` must be a table (JSON "
                f"object), got {_short(params)}"
            )
        flat.update({names.model_param(member, k): v for k, v in params.items()})
    flat.update({f"{names.RERANK}.{k}": v for k, v in fields.get("rerank", dict).items()})
    return flat


def _read_candidate(table: dict[str, Any], where: str) -> Candidate:
    """A segment point's model and re-rank settings, checked as the top level's are."""
    try:
        return Candidate.from_values(_flat_values(_Fields(table, where)))
    except ParetoRecError as exc:
        if str(exc).startswith(where):
            raise
        raise ConfigError(f"{where}: {exc}") from None


def _checksum(fields: _Fields, where: str) -> str:
    checksum = fields.get("dataset.checksum", str)
    if not _CHECKSUM.match(checksum):
        raise ConfigError(
            f"{where}: field `dataset.checksum` must be `sha256:` and up to 64 hex digits, got "
            f"{_short(checksum)}"
        )
    return checksum


def _values(fields: _Fields, where: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for stage, metrics in fields.get("values", dict, {}).items():
        if not isinstance(metrics, dict):
            raise ConfigError(
                f"{where}: field `values.{stage[:40]}` must be a table (JSON object), got "
                f"{_short(metrics)}"
            )
        for name, value in metrics.items():
            ok = value is None or (isinstance(value, int | float) and not isinstance(value, bool))
            if not ok:
                raise ConfigError(
                    f"{where}: field `values.{stage[:40]}.{name[:40]}` must be a number, got "
                    f"{_short(value)}"
                )
        out[stage] = {name: math.nan if v is None else float(v) for name, v in metrics.items()}
    return out


def _text(value: Any, field_name: str, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(
            f"{where}: field `{field_name[:60]}` must be a string, got {_short(value)}"
        )
    return value


def _run(fields: _Fields) -> dict[str, Any]:
    run = dict(fields.get("run", dict, {}))
    if "trial" in run:
        fields.integer("run.trial", 0, 2**63 - 1)
    if "dir" in run:
        fields.get("run.dir", str)
    return run


def save_point(point: OperatingPoint, path: str | Path) -> Path:
    """Write ``point`` as indented JSON (atomically); returns the path. The run directory it
    names is written relative to the file, so the file holds no machine's absolute paths."""
    path = Path(path)
    raw = point.to_dict()
    if "dir" in raw["run"]:
        raw["run"] = {**raw["run"], "dir": _relative(raw["run"]["dir"], path.parent)}
    # the data files too: no machine's absolute paths in a file that is shared
    raw["dataset"]["config"] = stored_data(raw["dataset"]["config"], path.parent)
    # allow_nan=False: a NaN would make a file other JSON readers refuse
    atomic_write(path, json.dumps(_finite(raw), indent=2, allow_nan=False) + "\n")
    return path


def _relative(target: str, base: Path) -> str:
    try:
        return os.path.relpath(Path(target).resolve(), base.resolve())
    except ValueError:  # another drive (Windows): no relative path exists
        return Path(target).name


def _finite(value: Any) -> Any:
    """NaN and infinities as null (a metric without a value), recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# An exported point is a few kilobytes; a much larger file is not one (and is not read whole).
MAX_POINT_BYTES = 1 << 20


def load_point(path: str | Path) -> OperatingPoint:
    """Read and validate an exported operating point.

    Raises:
        ConfigError: unreadable, not JSON, or a field of the wrong type or value; the message
            names the file and the field and shows at most a short excerpt of a value.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_POINT_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read ({exc.strerror or exc.__class__.__name__})"
        ) from None
    if len(data) > MAX_POINT_BYTES:
        raise ConfigError(f"{path}: larger than 1 MiB, not an exported operating point")
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}); not an exported point"
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ConfigError(f"{path}: not valid JSON ({str(exc)[:100]})") from None
    if (
        isinstance(raw, dict)
        and isinstance(raw.get("dataset"), dict)
        and "config" in raw["dataset"]
    ):
        # stored relative to this file (``save_point``): read them from its folder
        raw["dataset"] = {
            **raw["dataset"],
            "config": read_data(raw["dataset"]["config"], path.parent),
        }
    return OperatingPoint.from_dict(raw, str(path))
