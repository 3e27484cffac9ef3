"""The exported operating point: a versioned JSON file that reloads into a recommender.

``chosen.json`` names the model, its hyperparameters, the re-rank weights and K, plus where
it came from (dataset checksum, split, seed, run, trial, the values it scored). Loading it and
fitting on the run's own data reproduces the run's test lists exactly.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paretorec import __version__
from paretorec.config import DataConfig, SplitConfig, from_dict
from paretorec.data import Dataset, load_dataset, make_split
from paretorec.errors import ConfigError, DataError
from paretorec.pipeline import Candidate, Pipeline, RankedLists
from paretorec.space import Value

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

    def to_dict(self) -> dict[str, Any]:
        values = self.candidate.values()
        model = self.candidate.model.name
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "paretorec_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": {
                "name": model,
                "params": {
                    key.split(".", 1)[1]: v
                    for key, v in values.items()
                    if key.startswith(model + ".")
                },
            },
            "rerank": {
                key.split(".", 1)[1]: v for key, v in values.items() if key.startswith("rerank.")
            },
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
            flat: dict[str, Value] = {"model": raw["model"]["name"]}
            flat.update(
                {f"{raw['model']['name']}.{k}": v for k, v in raw["model"]["params"].items()}
            )
            flat.update({f"rerank.{k}": v for k, v in raw["rerank"].items()})
            return cls(
                candidate=Candidate.from_values(flat),
                k=int(raw["k"]),
                data=from_dict(DataConfig, raw["dataset"]["config"], f"{where}: dataset.config"),
                dataset_checksum=raw["dataset"]["checksum"],
                split=from_dict(SplitConfig, raw["split"], f"{where}: split"),
                seed=int(raw["seed"]),
                values=raw.get("values", {}),
                selection=raw.get("selection", {}),
                run=raw.get("run", {}),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{where}: missing or malformed field {exc}") from None


def save_point(point: OperatingPoint, path: str | Path) -> None:
    """Write ``point`` as indented JSON."""
    Path(path).write_text(json.dumps(point.to_dict(), indent=2) + "\n")


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


@dataclass(frozen=True, eq=False)
class Served:
    """A reloaded point fitted on its data: the pipeline and the stage to recommend from."""

    point: OperatingPoint
    dataset: Dataset
    pipeline: Pipeline
    stage: str

    def recommend(self, k: int | None = None) -> RankedLists:
        return self.pipeline.recommend(self.stage, self.point.candidate, k or self.point.k)

    def to_frame(self, lists: RankedLists) -> pd.DataFrame:
        """``user,item,rank,score`` with the dataset's own ids, best first per user."""
        n, k = lists.items.shape
        keep = lists.items >= 0
        users = np.repeat(lists.users, k).reshape(n, k)
        return pd.DataFrame(
            {
                "user": self.dataset.user_ids[users[keep]],
                "item": self.dataset.item_ids[lists.items[keep]],
                "rank": np.tile(np.arange(1, k + 1), n).reshape(n, k)[keep],
                "score": lists.values[keep],
            }
        )


def serve(
    point: OperatingPoint, data_dir: str | os.PathLike[str] | None = None, fit_on: str = "all"
) -> Served:
    """Fit ``point`` on its dataset.

    Args:
        point: The exported point.
        data_dir: Where the dataset is.
        fit_on: ``all`` fits on every interaction and recommends to every user (serving);
            ``run`` fits on exactly the data behind the run's test numbers (train +
            validation) and recommends to the test users, reproducing those numbers.
    """
    if fit_on not in FIT_ON:
        raise ConfigError(f"--fit-on must be one of {', '.join(FIT_ON)}, got {fit_on!r}")
    pipeline = point_pipeline([point], data_dir, split=fit_on == "run")
    return Served(point, pipeline.dataset, pipeline, "test" if fit_on == "run" else "all")


def point_pipeline(
    points: list[OperatingPoint], data_dir: str | os.PathLike[str] | None, split: bool
) -> Pipeline:
    """A pipeline over the data the points were chosen on (checked by checksum), with their
    split when ``split``, deep enough for every point's pool.

    Raises:
        ConfigError: the points were chosen on different data or splits.
        DataError: the data at hand is not the data they were chosen on.
    """
    first = points[0]
    for other in points[1:]:
        if (other.dataset_checksum, other.split) != (first.dataset_checksum, first.split):
            raise ConfigError(
                "the points were chosen on different data or splits "
                f"({first.dataset_checksum[:19]}... / {other.dataset_checksum[:19]}...)"
            )
    dataset = load_dataset(first.data, data_dir)
    if dataset.checksum != first.dataset_checksum:
        raise DataError(
            f"dataset {first.data.dataset} at hand ({dataset.checksum[:19]}...) is not the data "
            f"the point was chosen on ({first.dataset_checksum[:19]}...); point --data-dir at "
            "that data"
        )
    parts = make_split(dataset.interactions, first.split) if split else None
    pool = max(max(p.candidate.rerank.pool for p in points), first.k)
    return Pipeline(dataset, parts, first.k, pool)
