"""Datasets by name, and the splits a run uses."""

from __future__ import annotations

import os
from collections.abc import Callable

from paretorec.data.interactions import Dataset, Interactions, ItemFeatures
from paretorec.data.locate import ENV_VAR
from paretorec.data.movielens import load_ml100k
from paretorec.data.split import STAGES, Split, Stage, holdout_split
from paretorec.data.synthetic import generate
from paretorec.registry import Registry

Loader = Callable[[str | os.PathLike[str] | None], Dataset]

DATASETS: Registry[Loader] = Registry("dataset")
DATASETS.add("ml-100k", load_ml100k)
DATASETS.add("synthetic", lambda data_dir: generate())


def load_dataset(name: str, data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """Load a registered dataset (``ml-100k``, ``synthetic``, ...) from ``data_dir``."""
    return DATASETS.get(name)(data_dir)


__all__ = [
    "DATASETS",
    "ENV_VAR",
    "STAGES",
    "Dataset",
    "Interactions",
    "ItemFeatures",
    "Split",
    "Stage",
    "holdout_split",
    "load_dataset",
]
