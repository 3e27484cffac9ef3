"""Candidate generators by name: popularity, itemknn, ease.

A model is one file, a ``Model`` dataclass with declared hyperparameters, plus one
registration: ``@register_model`` on the class (a plug-in module), or a place in ``BUILT_IN``
below. Registration order is the order of the model choice in the built-in search space.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paretorec.models.base import (
    CandidateSet,
    FitData,
    Model,
    Scorer,
    generate_candidates,
    top_c,
)
from paretorec.models.ease import EASE
from paretorec.models.itemknn import ItemKNN
from paretorec.models.popularity import Popularity
from paretorec.registry import Registry

MODELS: Registry[type[Model]] = Registry("model")


def register_model(cls: type[Model]) -> type[Model]:
    """Class decorator: register a Model subclass under its ``name``."""
    MODELS.add(cls.name, cls)
    return cls


BUILT_IN = (Popularity, ItemKNN, EASE)
for _cls in BUILT_IN:
    register_model(_cls)


def build_model(name: str, params: Mapping[str, Any]) -> Model:
    """Instantiate the registered model ``name`` with validated hyperparameters."""
    return MODELS.get(name).create(dict(params))


def reference_model() -> str:
    """The registered model whose default lists anchor accuracy hypervolumes."""
    return next(name for name in MODELS.in_order() if MODELS.get(name).reference)


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
    "reference_model",
    "register_model",
    "top_c",
]
