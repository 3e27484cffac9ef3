"""Shared fixtures: the real MovieLens-100k from ../shared/data and a small synthetic set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paretorec.data import Dataset, Split, holdout_split, load_dataset
from paretorec.data.synthetic import generate

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """``$PARETOREC_DATA_DIR`` if set (CI sets it), else ``../shared/data`` beside the repo."""
    env = os.environ.get("PARETOREC_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = shared_data_dir()
    if not (path / "ml-100k" / "u.data").is_file():
        pytest.fail(f"MovieLens-100k not found under {path}; set PARETOREC_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def ml100k(data_dir: Path) -> Dataset:
    return load_dataset("ml-100k", data_dir)


@pytest.fixture(scope="session")
def ml100k_split(ml100k: Dataset) -> Split:
    return holdout_split(ml100k.interactions, 0.2, 0.2, 42)


@pytest.fixture(scope="session")
def small() -> Dataset:
    """A tiny synthetic dataset for fast unit tests (never for experiments)."""
    return generate(n_users=120, n_items=150, n_interactions=4000, n_genres=8, seed=3)
