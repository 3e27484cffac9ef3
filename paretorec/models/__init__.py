"""Candidate generators by name: popularity, itemknn, userknn, ease, als, bpr, content, hybrid.

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
    SideInfo,
    generate_candidates,
    top_c,
)
from paretorec.models.catalog import MODELS, register_model
from paretorec.models.content import Content
from paretorec.models.ease import EASE
from paretorec.models.factorization import ALS, BPR
from paretorec.models.hybrid import Hybrid
from paretorec.models.itemknn import ItemKNN
from paretorec.models.popularity import Popularity
from paretorec.models.private import PRIVATE_MODELS, DPItemKNN, DPPopularity, DPUserKNN
from paretorec.models.semantic import Semantic
from paretorec.models.userknn import UserKNN

BUILT_IN = (Popularity, ItemKNN, UserKNN, EASE, ALS, BPR, Content, Hybrid)
for _cls in BUILT_IN:
    register_model(_cls)
# differentially private variants (dp_popularity, dp_itemknn, dp_userknn): out of the default
# space; their noise needs OpenDP, the `privacy` extra (a one-line error names it)
for _cls in PRIVATE_MODELS:
    MODELS.add(_cls.name, _cls, requires={"opendp": "privacy"})
# in the default space only when its extra is installed; asking for it without the extra is
# a one-line error naming the extra (``MODELS.require``)
MODELS.add(Semantic.name, Semantic, requires={"sentence_transformers": "semantic"})


def build_model(name: str, params: Mapping[str, Any]) -> Model:
    """Instantiate the registered model ``name`` with validated hyperparameters."""
    return MODELS.get(name).create(dict(params))


def reference_model() -> str:
    """The registered model whose default lists anchor accuracy hypervolumes."""
    return next(name for name in MODELS.in_order() if MODELS.get(name).reference)


__all__ = [
    "ALS",
    "BPR",
    "EASE",
    "MODELS",
    "CandidateSet",
    "Content",
    "DPItemKNN",
    "DPPopularity",
    "DPUserKNN",
    "FitData",
    "Hybrid",
    "ItemKNN",
    "Model",
    "Popularity",
    "Scorer",
    "Semantic",
    "SideInfo",
    "UserKNN",
    "build_model",
    "generate_candidates",
    "reference_model",
    "register_model",
    "top_c",
]
