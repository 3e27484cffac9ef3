"""The exported operating point: a versioned JSON file that reloads into a recommender.

``chosen.json`` names the model, its hyperparameters, the re-rank weights and K, plus where
it came from (dataset checksum, split, seed, run, trial, the values it scored). Loading it and
fitting on the run's own data reproduces the run's test lists exactly.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paretorec import names
from paretorec._version import __version__
from paretorec.config import SIMILARITIES, DataConfig, SplitConfig, from_dict
from paretorec.errors import ConfigError
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

    def to_dict(self) -> dict[str, Any]:
        values = self.candidate.values()
        model = self.candidate.model.name
        rerank = {
            key.split(".", 1)[1]: v for key, v in values.items() if names.parse(key).is_rerank
        }
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "paretorec_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": {
                "name": model,
                "params": names.model_params(values, model),
                # models it is built from (a hybrid's members), with their own parameters
                "members": {m: names.model_params(values, m) for m in names.members(values, model)},
            },
            "similarity": self.similarity,
            "rerank": rerank,
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

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "operating point") -> OperatingPoint:
        if not isinstance(raw, dict) or raw.get("schema") != SCHEMA:
            schema = raw.get("schema") if isinstance(raw, dict) else None
            raise ConfigError(f"{where}: not a paretorec operating point (schema {schema!r})")
        version = raw.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ConfigError(
                f"{where}: schema_version {version!r} is not supported by paretorec {__version__} "
                f"(reads version {SCHEMA_VERSION}); export it again with this version"
            )
        try:
            model = raw["model"]["name"]
            flat: dict[str, Any] = {names.MODEL: model}
            flat.update({names.model_param(model, k): v for k, v in raw["model"]["params"].items()})
            for member, params in raw["model"].get("members", {}).items():
                flat.update({names.model_param(member, k): v for k, v in params.items()})
            similarity = raw.get("similarity", "genres")
            if similarity not in SIMILARITIES:
                raise ConfigError(
                    f"{where}: similarity must be one of {', '.join(SIMILARITIES)}, "
                    f"got {similarity!r}"
                )
            flat.update({f"{names.RERANK}.{k}": v for k, v in raw["rerank"].items()})
            k = raw["k"]
            if isinstance(k, bool) or not isinstance(k, int) or k < 1:
                raise ConfigError(f"{where}: `k >= 1` (an integer) must hold, got k={k!r}")
            return cls(
                candidate=Candidate.from_values(flat),
                k=k,
                data=from_dict(DataConfig, raw["dataset"]["config"], f"{where}: dataset.config"),
                dataset_checksum=raw["dataset"]["checksum"],
                split=from_dict(SplitConfig, raw["split"], f"{where}: split"),
                seed=int(raw["seed"]),
                values=raw.get("values", {}),
                selection=raw.get("selection", {}),
                run=raw.get("run", {}),
                similarity=similarity,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{where}: missing or malformed field {exc}") from None
        except ConfigError as exc:
            if str(exc).startswith(where):
                raise
            raise ConfigError(f"{where}: {exc}") from None


def save_point(point: OperatingPoint, path: str | Path) -> Path:
    """Write ``point`` as indented JSON (atomically); returns the path."""
    path = Path(path)
    atomic_write(path, json.dumps(point.to_dict(), indent=2) + "\n")
    return path


def load_point(path: str | Path) -> OperatingPoint:
    """Read and validate an exported operating point."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc.__class__.__name__}: {exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON: {exc}") from None
    return OperatingPoint.from_dict(raw, str(path))
