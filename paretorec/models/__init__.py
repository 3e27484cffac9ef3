"""Candidate generators by name: popularity, itemknn, ease."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paretorec.models.base import (
    CandidateSet,
    FitData,
    Model,
    Scorer,
    check_params,
    generate_candidates,
    top_c,
)
from paretorec.models.ease import EASE
from paretorec.models.itemknn import ItemKNN
from paretorec.models.popularity import Popularity
from paretorec.registry import Registry

MODELS: Registry[type] = Registry("model")
for _cls in (Popularity, ItemKNN, EASE):
    MODELS.add(_cls.name, _cls)


def build_model(name: str, params: Mapping[str, Any]) -> Model:
    """Instantiate the registered model ``name`` with validated hyperparameters."""
    cls = MODELS.get(name)
    check_params(cls, dict(params))
    return cls(**params)


__all__ = [
    "EASE",
    "MODELS",
    "CandidateSet",
    "FitData",
    "ItemKNN",
    "Model",
    "Popularity",
    "Scorer",
    "build_model",
    "generate_candidates",
    "top_c",
]
