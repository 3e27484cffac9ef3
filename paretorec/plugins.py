"""Every plug-in registry, by the kind ``paretorec list`` names."""

from __future__ import annotations

from paretorec.data import DATASETS
from paretorec.errors import UnknownNameError
from paretorec.metrics import METRICS
from paretorec.models import MODELS
from paretorec.optimize import ALGORITHMS
from paretorec.registry import Registry
from paretorec.rerank import TERMS
from paretorec.select import SELECTORS

REGISTRIES: dict[str, Registry] = {
    "models": MODELS,
    "terms": TERMS,
    "metrics": METRICS,
    "selectors": SELECTORS,
    "algorithms": ALGORITHMS,
    "datasets": DATASETS,
}


def registry(kind: str) -> Registry:
    """The registry of ``kind`` (models, terms, metrics, selectors, algorithms, datasets)."""
    if kind not in REGISTRIES:
        raise UnknownNameError(
            f"unknown kind of plug-in `{kind}`; available: {', '.join(REGISTRIES)}"
        )
    return REGISTRIES[kind]
