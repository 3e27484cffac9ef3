"""Datasets by name, cleaning, and the splits a run uses."""

from __future__ import annotations

from paretorec.data.cleaning import CleaningOptions, CleaningReport
from paretorec.data.datasets import DATASETS, load_dataset
from paretorec.data.interactions import Dataset, Interactions, ItemFeatures
from paretorec.data.locate import ENV_VAR
from paretorec.data.movielens import load_ml100k, load_ml_latest_small
from paretorec.data.sources import load_file
from paretorec.data.split import Split, Stage, holdout_split, make_split
from paretorec.data.synthetic import load_synthetic

DATASETS.add("ml-100k", load_ml100k)
DATASETS.add("ml-latest-small", load_ml_latest_small)
DATASETS.add("synthetic", load_synthetic)
DATASETS.add("file", load_file)


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
