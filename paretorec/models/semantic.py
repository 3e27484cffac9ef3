"""Content-based recommendation from sentence embeddings of each item's title, genres and tags
(the optional ``semantic`` extra): the "large-model" item understanding of the framework."""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from paretorec.data.semantic import DEFAULT_MODEL, item_embeddings
from paretorec.errors import ConfigError
from paretorec.models import reasons
from paretorec.models.base import FitData, Model, Scorer, SideInfo, selection_ops
from paretorec.models.content import ProfileScorer, field_matrices_cached, rating_weights
from paretorec.registry import param


def extra_installed() -> bool:
    """Whether sentence-transformers is importable (checked without importing it)."""
    try:
        return importlib.util.find_spec("sentence_transformers") is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class Semantic(Model):
    """Semantic content model: items as sentence embeddings (all-MiniLM-L6-v2 by default) of
    their title, genres and tags; a user as the rating-weighted mean of what they rated;
    scores are cosines. Serves cold items and short histories like ``content``.
    """

    name: ClassVar[str] = "semantic"
    default_space: ClassVar[bool] = extra_installed()
    encoder: str = param(
        DEFAULT_MODEL,
        "sentence-transformers model: the packaged all-MiniLM-L6-v2, a local folder or a hub name",
    )

    @classmethod
    def check_data(cls, side: SideInfo, domain: Mapping[str, tuple] | None = None) -> None:
        if not field_matrices_cached(side):
            raise ConfigError(
                f"model `semantic`: dataset `{side.dataset_name}` has no item text (genres, "
                "tags or titles) to embed; give the CSV source an items file, or remove "
                "`semantic` from the space"
            )
        if side.source is None:
            raise ConfigError("model `semantic`: needs the dataset's item texts")
        for encoder in (domain or {}).get("encoder", (DEFAULT_MODEL,)):
            _vectors(side, str(encoder))  # computed (or read from the cache) before any fit

    def fit(self, data: FitData) -> Scorer:
        return ProfileScorer(rating_weights(data), _vectors(data.side, self.encoder))

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        dims = 384.0  # all-MiniLM-L6-v2; the cost model is per dimension of the embedding
        return history.astype(np.float64) * dims + n_items * dims + selection_ops(n_items, pool)

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        vectors = scorer.vectors  # type: ignore[attr-defined]
        found = reasons.nearest_rated(vectors, data.X, user, items, top, "meaning of their text")
        return [[r] for r in found]


def _vectors(side: SideInfo, encoder: str) -> np.ndarray:
    key = f"semantic.vectors:{encoder}"
    if key not in side.memo:
        if side.source is None:
            raise ConfigError("model `semantic`: the fit data carries no dataset to embed")
        side.memo[key] = np.asarray(item_embeddings(side.source, encoder), dtype=np.float64)
    return side.memo[key]  # type: ignore[return-value]
