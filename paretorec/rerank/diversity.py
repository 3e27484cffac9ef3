"""The diversity term: maximal marginal relevance (Carbonell & Goldstein 1998) over item
similarity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numba
import numpy as np

from paretorec.data.reference import Reference
from paretorec.errors import ConfigError
from paretorec.registry import param
from paretorec.rerank import greedy
from paretorec.rerank.term import PickTerm

_FLOAT32_MAX = float(np.finfo(np.float32).max)


class _Profiles(NamedTuple):
    """Each candidate's similarity profile and where its row of the flat table starts."""

    profile: np.ndarray  # (C + 1, n) intp profile id (0 for empty slots)
    rows: np.ndarray  # profile * n_profiles, kept: multiplying in the MMR's inner loop
    # measured 5-30% slower
    table: np.ndarray  # (n_profiles * n_profiles,) float32 similarity, flat


@dataclass(frozen=True)
class Diversity(PickTerm):
    """MMR diversity: a penalty for similarity to the items already picked.

    ``gain(i | picked) = -max over picked j of sim(i, j)``, with ``sim`` the cosine of the
    items' genre vectors, TF-IDF tag vectors or sentence embeddings (``similarity``;
    ``evaluation``, the default, is the one ILD is measured by: ``[evaluation] similarity``).
    A weight so small that ``value / weight`` would overflow float32 (below about 1e-38)
    re-ranks as weight 0: its penalty is below the resolution of the values anyway.
    """

    name: ClassVar[str] = "diversity"
    metric: ClassVar[str] = "ild"
    needs: ClassVar[tuple[str, ...]] = ()  # without genres every item is equally dissimilar
    weight: float = param(
        0.0, "weight of the MMR redundancy penalty", at_least=0, search={"low": 0.0, "high": 1.0}
    )
    similarity: str = param(
        "evaluation",
        "item similarity: evaluation (as ILD), genres, tags or semantic",
        choices=("evaluation", "genres", "tags", "semantic"),
    )

    @classmethod
    def check_data(cls, available: Mapping[str, bool], params: Mapping[str, tuple]) -> None:
        for name in params.get("similarity", ()):
            if name in ("tags", "semantic") and not available.get(name, False):
                raise ConfigError(
                    f"re-rank term `diversity` by {name}: the dataset has no item {name}"
                    + (" (or the semantic extra is missing)" if name == "semantic" else "")
                    + '; use `rerank.diversity.similarity = "genres"`'
                )

    def ops(self, k: int, pool: int) -> float:
        return float(k * pool)  # similarity lookups, one per candidate and pick

    def prepare(self, items: np.ndarray, reference: Reference) -> _Profiles:
        similarity = (
            reference.similarity
            if self.similarity == "evaluation"
            else reference.similarity_by(self.similarity)
        )
        valid = items >= 0
        profile = np.where(valid, similarity.profile[np.where(valid, items, 0)], 0).astype(np.intp)
        n_profiles = similarity.table.shape[0]
        table = np.ascontiguousarray(similarity.table, np.float32).ravel()
        return _Profiles(profile, profile * n_profiles, table)

    def start(self, prepared: _Profiles, p: int, n: int) -> np.ndarray:
        return np.zeros((p, n), np.float64)  # max similarity to the picked items so far

    def advance(self, state: Any, prepared: _Profiles, gain: np.ndarray, arg: np.ndarray) -> None:
        _advance(state, gain, prepared.profile, prepared.rows, prepared.table, arg)

    def fused(self, prepared, value_args, bonus_weight, p, k, empty_row):  # type: ignore[no-untyped-def]
        if (1.0 + bonus_weight) / self.weight > _FLOAT32_MAX:  # |value| <= 1 + bonuses
            return greedy.plain(*value_args, p, k, empty_row)
        scores, lo, span, bonus, weights = value_args
        return greedy.mmr(
            scores,
            lo,
            span,
            bonus,
            weights,
            float(self.weight),
            p,
            k,
            prepared.profile,
            prepared.rows,
            prepared.table,
            empty_row,
        )


@numba.njit(cache=True, nogil=True)
def _advance(most, gain, profile, rows, table, arg):  # type: ignore[no-untyped-def]
    p, n = gain.shape
    for r in range(p):
        for u in range(n):
            s = np.float64(table[rows[r, u] + profile[arg[u], u]])
            if s > most[r, u]:
                most[r, u] = s
            gain[r, u] = -most[r, u]
