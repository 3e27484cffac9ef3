"""Item features as models, re-rank terms and metrics read them: item-item similarity and genre
profiles (Steck 2018's ``p(g|i)``: each item spreads a unit of weight evenly over its genres).

Item-item similarity is stored compactly: items that share a feature profile share a row.
MovieLens genres give a few hundred distinct genre combinations for thousands of items, so a
``(profiles, profiles)`` table replaces an ``(items, items)`` matrix and every lookup is a gather.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from paretorec.data.interactions import Dataset


@dataclass(frozen=True, eq=False)
class ItemSimilarity:
    """``sim(i, j) = table[profile[i], profile[j]]``.

    Attributes:
        profile: ``(n_items,)`` int32 profile id of each item.
        table: ``(n_profiles, n_profiles)`` float32 similarity in [0, 1] (float32 halves the
            memory traffic of the re-ranker's gathers; 7 significant digits are plenty).
    """

    profile: np.ndarray
    table: np.ndarray

    def __post_init__(self) -> None:
        # the compiled re-rank works in float32 and indexes the table flat (C order)
        object.__setattr__(self, "table", np.ascontiguousarray(self.table, dtype=np.float32))

    @classmethod
    def cosine(cls, features: sp.spmatrix | np.ndarray) -> ItemSimilarity:
        """Cosine similarity of non-negative feature rows; an item without features is
        similar to nothing (0), not even to another featureless item."""
        dense = np.asarray(features.toarray() if sp.issparse(features) else features, float)
        unique, profile = np.unique(dense, axis=0, return_inverse=True)
        norms = np.linalg.norm(unique, axis=1)
        safe = np.where(norms > 0, norms, 1.0)
        table = (unique / safe[:, None]) @ (unique / safe[:, None]).T
        table = np.clip(table, 0.0, 1.0).astype(np.float32)
        return cls(profile=profile.astype(np.int32).ravel(), table=table)

    def pairwise(self, items: np.ndarray) -> np.ndarray:
        """``(n, k, k)`` similarities within each row of ``items`` (``(n, k)``, no ``-1``)."""
        p = self.profile[items]
        return self.table[p[:, :, None], p[:, None, :]]


def genre_similarity(dataset: Dataset) -> ItemSimilarity:
    """Cosine similarity of the dataset's item features (genres); without features every item
    is equally dissimilar to every other (one all-zero profile)."""
    features = dataset.item_features
    if features is None:
        return ItemSimilarity(np.zeros(dataset.n_items, np.int32), np.zeros((1, 1), np.float32))
    return ItemSimilarity.cosine(features.matrix)


def tag_similarity(dataset: Dataset) -> ItemSimilarity:
    """Cosine similarity of the items' TF-IDF tag vectors (scikit-learn's weighting); items
    without tags are similar to nothing."""
    from sklearn.feature_extraction.text import TfidfTransformer

    tags = dataset.item_tags
    if tags is None or tags.matrix.nnz == 0:
        return ItemSimilarity(np.zeros(dataset.n_items, np.int32), np.zeros((1, 1), np.float32))
    return ItemSimilarity.cosine(TfidfTransformer(sublinear_tf=True).fit_transform(tags.matrix))


# Steck's (2018) smoothing of a list's genre mix toward the user's: q~ = (1 - α) q + α p. Shared
# by the miscalibration metric and the calibration term, which must agree.
CALIBRATION_ALPHA = 0.01


def genre_weights(features: sp.csr_matrix | np.ndarray) -> np.ndarray:
    """``(n_items, n_genres)`` each item's genre flags scaled to sum to 1 (0 rows stay 0)."""
    dense = np.asarray(features.toarray() if sp.issparse(features) else features, np.float64)
    dense = (dense > 0).astype(np.float64)
    total = dense.sum(axis=1, keepdims=True)
    return np.divide(dense, total, out=np.zeros_like(dense), where=total > 0)


def user_genres(history: sp.csr_matrix, weights: np.ndarray) -> np.ndarray:
    """``(n, n_genres)`` each user's genre distribution ``p(g|u)`` (NaN rows without genres).

    Args:
        history: ``(n, n_items)`` binary CSR of the users' training items.
        weights: ``(n_items, n_genres)`` from ``genre_weights``.
    """
    mass = np.asarray(history @ weights)
    return normalise_rows(mass)


def normalise_rows(mass: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1; NaN rows where the sum is 0."""
    total = mass.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, mass / total, np.nan)
