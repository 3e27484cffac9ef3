"""The dataset registry and the one way to load a dataset by name or config."""

from __future__ import annotations

import os
from collections.abc import Callable

from paretorec.config import DataConfig
from paretorec.data.interactions import Dataset
from paretorec.registry import Registry

Loader = Callable[[DataConfig, str | os.PathLike[str] | None], Dataset]

DATASETS: Registry[Loader] = Registry("dataset")


def load_dataset(
    source: str | DataConfig, data_dir: str | os.PathLike[str] | None = None
) -> Dataset:
    """Load a dataset by registered name or from a full data config, cleaned as configured."""
    cfg = DataConfig(dataset=source) if isinstance(source, str) else source
    return DATASETS.get(cfg.dataset)(cfg, data_dir)
