"""What one search point decodes to: a model with its hyperparameters and re-rank settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paretorec import names
from paretorec.errors import ConfigError
from paretorec.models import MODELS, Model
from paretorec.rerank import RerankSettings


@dataclass(frozen=True)
class Candidate:
    """A model with hyperparameters and the re-rank settings applied to its candidates."""

    model: Model
    rerank: RerankSettings

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Candidate:
        """From flat names (``model``, ``<model>.<param>``, ``rerank.pool``,
        ``rerank.<term>[.<param>]``); other models' parameters are ignored (inactive)."""
        if names.MODEL not in values:
            raise ConfigError("a candidate needs a `model`")
        model = values[names.MODEL]
        if not isinstance(model, str):
            raise ConfigError(f"`model` must be a model name, got {model!r}")
        pool = values.get(names.POOL_NAME, RerankSettings.pool)
        settings = RerankSettings.from_params(pool, names.term_params(values))
        return cls(MODELS.get(model).from_values(values), settings)

    def values(self) -> dict[str, Any]:
        """The flat form ``from_values`` reads."""
        out: dict[str, Any] = {names.MODEL: self.model.name, **self.model.values()}
        return {**out, **self.rerank.values()}
