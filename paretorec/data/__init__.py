"""Datasets by name, cleaning, and the splits a run uses."""

from __future__ import annotations

import os
from collections.abc import Callable

from paretorec.config import DataConfig
from paretorec.data.cleaning import CleaningOptions, CleaningReport
from paretorec.data.interactions import Dataset, Interactions, ItemFeatures
from paretorec.data.locate import ENV_VAR
from paretorec.data.movielens import load_ml100k, load_ml_latest_small
from paretorec.data.sources import load_file
from paretorec.data.split import Split, Stage, holdout_split, make_split
from paretorec.data.synthetic import load_synthetic
from paretorec.registry import Registry

Loader = Callable[[DataConfig, str | os.PathLike[str] | None], Dataset]

DATASETS: Registry[Loader] = Registry("dataset")
DATASETS.add("ml-100k", load_ml100k)
DATASETS.add("ml-latest-small", load_ml_latest_small)
DATASETS.add("synthetic", load_synthetic)
DATASETS.add("file", load_file)


def load_dataset(
    source: str | DataConfig, data_dir: str | os.PathLike[str] | None = None
) -> Dataset:
    """Load a dataset by registered name or from a full data config, cleaned as configured."""
    cfg = DataConfig(dataset=source) if isinstance(source, str) else source
    return DATASETS.get(cfg.dataset)(cfg, data_dir)


__all__ = [
    "DATASETS",
    "ENV_VAR",
    "CleaningOptions",
    "CleaningReport",
    "Dataset",
    "Interactions",
    "ItemFeatures",
    "Split",
    "Stage",
    "holdout_split",
    "load_dataset",
    "make_split",
]
