"""Why a fitted model scored an item for a user: the evidence each model family can give.

A ``Reason`` is structured (item codes, user codes or terms, with their contributions, largest
first); ``paretorec.explain.items`` turns it into words with the dataset's titles and ids.
The helpers below compute the evidence of the common shapes of scorer:

- ``history_reasons``: ``score(u, j) = sum_i x_ui M[i, j]`` (item kNN, EASE, the private kNNs):
  the user's rated items with the largest ``M[i, j]``, exact contributions to the score;
- ``neighbour_reasons``: ``score(u, j) = sum_v S[u, v] x_vj`` (user kNN): the neighbours who
  rated j, with their similarity;
- ``nearest_rated``: items as vectors (factor models, embeddings): the rated items nearest to
  j by cosine;
- ``term_reasons``: profile-vector cosines (content): the terms of j that match the profile,
  with their share of the cosine;
- ``popularity_reasons``: the number of users who rated j.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# What a reason's ``refs`` hold, per kind.
REASON_KINDS = {
    "rated": "item codes the user rated, each contributing its weight to the score",
    "similar": "item codes the user rated, nearest to the item in a vector space",
    "users": "user codes of neighbours who rated the item, weighted by similarity",
    "terms": "content terms the item shares with the user's profile",
    "popular": "none; ``count`` users rated the item",
}


@dataclass(frozen=True)
class Reason:
    """One piece of evidence for one recommended item.

    Attributes:
        kind: One of ``REASON_KINDS``.
        refs: Item codes, user codes or terms (see ``REASON_KINDS``), largest weight first.
        weights: ``len(refs)`` contributions (or cosines), same order.
        via: Where it comes from when it is not the model itself (a hybrid's member), or the
            space the ``similar`` kind measures in (``factor space``).
        count: For ``popular``: how many training users rated the item.
    """

    kind: str
    refs: tuple = ()
    weights: tuple[float, ...] = ()
    via: str = ""
    count: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in REASON_KINDS:
            raise ValueError(f"reason kind must be one of {', '.join(REASON_KINDS)}")
        if len(self.refs) != len(self.weights):
            raise ValueError("a reason needs one weight per reference")

    def via_(self, via: str) -> Reason:
        """The same evidence attributed to ``via`` (a hybrid's member)."""
        return Reason(self.kind, self.refs, self.weights, via, self.count)


def _top(refs: np.ndarray, weights: np.ndarray, top: int) -> tuple[tuple, tuple[float, ...]]:
    """The ``top`` positive weights, largest first (ties to the lower reference)."""
    keep = weights > 0
    refs, weights = refs[keep], weights[keep]
    order = np.lexsort((refs, -weights))[:top]
    return tuple(refs[order].tolist()), tuple(float(w) for w in weights[order])


def history_reasons(
    X: sp.csr_matrix, M: np.ndarray | sp.spmatrix, user: int, items: np.ndarray, top: int
) -> list[Reason]:
    """``rated`` reasons of a history-linear scorer: ``M[i, j]`` for the user's items ``i``."""
    rated = X[user].indices
    block = M[rated][:, items]
    block = block.toarray() if sp.issparse(block) else np.asarray(block, dtype=np.float64)
    return [Reason("rated", *_top(rated, block[:, c], top)) for c in range(len(items))]


def neighbour_reasons(
    X: sp.csr_matrix, S: sp.csr_matrix, user: int, items: np.ndarray, top: int
) -> list[Reason]:
    """``users`` reasons of ``score(u, j) = sum_v S[u, v] x_vj``: each neighbour's
    similarity, counted when the neighbour rated the item."""
    row = S[user]
    others, sims = row.indices, row.data.astype(np.float64)
    rated = X[others][:, items].toarray() > 0  # (neighbours, items)
    return [
        Reason("users", *_top(others, np.where(rated[:, c], sims, 0.0), top))
        for c in range(len(items))
    ]


def nearest_rated(
    vectors: np.ndarray, X: sp.csr_matrix, user: int, items: np.ndarray, top: int, via: str
) -> list[Reason]:
    """``similar`` reasons: the user's rated items nearest to each item by cosine."""
    rated = X[user].indices
    V = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(V, axis=1)
    norms[norms == 0] = 1.0
    cos = (V[rated] / norms[rated, None]) @ (V[items] / norms[items, None]).T
    return [Reason("similar", *_top(rated, cos[:, c], top), via=via) for c in range(len(items))]


def term_reasons(
    profile: np.ndarray | sp.spmatrix,
    vectors: np.ndarray | sp.spmatrix,
    names: tuple[str, ...],
    items: np.ndarray,
    top: int,
) -> list[Reason]:
    """``terms`` reasons: each term's product ``profile_t * vector_jt`` (its share of the
    cosine the content model scores by)."""
    p = profile.toarray().ravel() if sp.issparse(profile) else np.asarray(profile).ravel()
    block = vectors[items]
    block = block.toarray() if sp.issparse(block) else np.asarray(block)
    terms = np.array(names, dtype=object)
    out = []
    for c in range(len(items)):
        share = p * block[c]
        keep = share > 0
        order = np.lexsort((np.flatnonzero(keep), -share[keep]))[:top]
        out.append(
            Reason(
                "terms",
                tuple(str(t) for t in terms[keep][order]),
                tuple(float(s) for s in share[keep][order]),
            )
        )
    return out


def popularity_reasons(counts: np.ndarray, items: np.ndarray) -> list[Reason]:
    """``popular`` reasons: how many training users rated each item."""
    return [Reason("popular", count=float(counts[j])) for j in items]
