"""The model registry itself, apart from the built-in models (a model that builds others,
like the hybrid, looks its members up here)."""

from __future__ import annotations

from paretorec.models.base import Model
from paretorec.registry import Registry

MODELS: Registry[type[Model]] = Registry("model")


def register_model(cls: type[Model]) -> type[Model]:
    """Class decorator: register a Model subclass under its ``name``."""
    MODELS.add(cls.name, cls)
    return cls
