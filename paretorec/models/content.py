"""Content-based recommendation from item text: genres, tags and titles (TF-IDF, cosine)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
from sklearn.preprocessing import normalize

from paretorec.errors import ConfigError
from paretorec.models import reasons
from paretorec.models.base import FitData, Model, Scorer, SideInfo, selection_ops
from paretorec.registry import param

FIELDS = ("genres", "tags", "title")
# Non-zero terms of an item vector assumed by the cost model (ML genres + a few title words)
TERMS_PER_ITEM = 10.0


def field_matrices(side: SideInfo) -> dict[str, sp.csr_matrix]:
    """Each available text field as an L2-normalised TF-IDF matrix ``(n_items, vocabulary)``.

    Genres and tags arrive counted per item, so scikit-learn's ``TfidfTransformer`` weights
    them; titles are tokenised by ``TfidfVectorizer`` (the same weighting).
    """
    out: dict[str, sp.csr_matrix] = {}
    for name, counted in (("genres", side.genres), ("tags", side.tags)):
        if counted is not None and counted[0].nnz:
            out[name] = TfidfTransformer(sublinear_tf=True).fit_transform(counted[0]).tocsr()
    if side.titles is not None:
        titles = [t if isinstance(t, str) else "" for t in side.titles]
        if any(t.strip() for t in titles):
            try:
                vec = TfidfVectorizer(sublinear_tf=True, lowercase=True)
                out["title"] = vec.fit_transform(titles).tocsr()
            except ValueError:  # only stop words or punctuation: no title vocabulary
                pass
    return out


def rating_weights(data: FitData) -> sp.csr_matrix:
    """Training matrix with each event weighted by its rating (ones for implicit data)."""
    return data.X if data.ratings is None else data.ratings


class ProfileScorer:
    """Cosine between a user's profile (the rating-weighted mean of the vectors of what they
    rated) and every item's vector; items need no interactions to be scored."""

    def __init__(self, weights: sp.csr_matrix, vectors: sp.csr_matrix | np.ndarray) -> None:
        totals = np.asarray(weights.sum(axis=1), dtype=np.float64).ravel()
        totals[totals == 0] = 1.0
        profiles = sp.diags(1.0 / totals) @ weights @ vectors
        self.profiles = normalize(profiles)  # the mean's scale does not change a cosine
        self.vectors = vectors

    def score(self, users: np.ndarray) -> np.ndarray:
        s = self.profiles[users] @ self.vectors.T
        return s.toarray() if sp.issparse(s) else np.asarray(s)


@dataclass(frozen=True)
class Content(Model):
    """Content-based: items as weighted TF-IDF vectors of their genres, tags and title; a user
    as the rating-weighted mean of the vectors of what they rated; scores are cosines.

    Serves cold items (scored from their text alone) and users with a single rating. A field
    the dataset lacks contributes nothing; a dataset with none of them is refused.
    """

    name: ClassVar[str] = "content"
    genres: float = param(
        1.0, "weight of the genre field", at_least=0, search={"low": 0.0, "high": 1.0}
    )
    tags: float = param(
        1.0, "weight of the tag field", at_least=0, search={"low": 0.0, "high": 1.0}
    )
    title: float = param(
        0.5, "weight of the title words", at_least=0, search={"low": 0.0, "high": 1.0}
    )

    @classmethod
    def check_data(cls, side: SideInfo, domain: Mapping[str, tuple] | None = None) -> None:
        if not field_matrices_cached(side):
            raise ConfigError(
                f"model `content`: dataset `{side.dataset_name}` has no item text (genres, "
                "tags or titles); give the CSV source an items file, or remove `content` "
                "from the space"
            )

    def fit(self, data: FitData) -> Scorer:
        fields = field_matrices_cached(data.side)
        weights = {"genres": self.genres, "tags": self.tags, "title": self.title}
        parts = [weights[name] * fields[name] for name in FIELDS if name in fields]
        vectors = normalize(sp.hstack(parts, format="csr"))
        return ProfileScorer(rating_weights(data), vectors)

    def scoring_ops(self, history: np.ndarray, n_items: int, pool: int) -> np.ndarray:
        # the profile (history x ~TERMS_PER_ITEM terms) built, then one sparse dot per item
        profile = history.astype(np.float64) * TERMS_PER_ITEM
        return profile + n_items * TERMS_PER_ITEM + selection_ops(n_items, pool)

    def explain(
        self, scorer: Scorer, data: FitData, user: int, items: np.ndarray, top: int = 3
    ) -> list[list[reasons.Reason]]:
        # the terms the item shares with the user's profile, by their share of the cosine
        vectors = scorer.vectors  # type: ignore[attr-defined]
        terms = field_terms(data.side)
        if len(terms) != vectors.shape[1]:  # never expected; a reason still names a column
            terms = tuple(f"term {i}" for i in range(vectors.shape[1]))
        profile = scorer.profiles[user]  # type: ignore[attr-defined]
        found = reasons.term_reasons(profile, vectors, terms, items, top)
        return [[r] for r in found]


def field_terms(side: SideInfo) -> tuple[str, ...]:
    """The name of every column of the content vectors (``FIELDS`` order, as stacked),
    computed once per side information."""
    if "content.terms" not in side.memo:
        side.memo["content.terms"] = _field_terms(side)
    return side.memo["content.terms"]  # type: ignore[return-value]


def _field_terms(side: SideInfo) -> tuple[str, ...]:
    fields = field_matrices_cached(side)
    out: list[str] = []
    for name, counted in (("genres", side.genres), ("tags", side.tags)):
        if name in fields and counted is not None:
            out += list(counted[1])
    if "title" in fields and side.titles is not None:
        titles = [t if isinstance(t, str) else "" for t in side.titles]
        # the same tokeniser and vocabulary as ``field_matrices`` (a deterministic fit)
        vocabulary = TfidfVectorizer(sublinear_tf=True, lowercase=True).fit(titles)
        out += [f'title word "{w}"' for w in vocabulary.get_feature_names_out()]
    return tuple(out)


def field_matrices_cached(side: SideInfo) -> dict[str, sp.csr_matrix]:
    """``field_matrices`` computed once per side information (the text does not change
    between fits or stages)."""
    if "content.fields" not in side.memo:
        side.memo["content.fields"] = field_matrices(side)
    return side.memo["content.fields"]  # type: ignore[return-value]
