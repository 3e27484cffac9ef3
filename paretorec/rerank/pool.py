"""A model's candidate set laid out for re-ranking many weight settings quickly.

Everything here depends on the model's candidates, not on the re-rank weights, so it is built
once per fitted model and reused by every weight setting the search tries. Arrays are
position-major, ``(C + 1, n)``: row ``r`` holds every user's ``r``-th best candidate. The
re-ranker's per-step work (a max over positions, a similarity gather, two element-wise passes)
then runs along contiguous rows of all users at once instead of along short per-user rows:
the MMR re-rank measured 1.3-1.4x faster than with user-major ``(n, C)`` arrays, same lists.
The extra last row is an empty slot (item ``-1``) that a pick of "nothing left" points at, so
gathers need no masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from paretorec.rerank.similarity import ItemSimilarity


@dataclass(frozen=True, eq=False)
class CandidatePool:
    """Candidates of every user, position-major.

    Attributes:
        items: ``(C + 1, n)`` int32 item codes, best model score first; ``-1`` where a user has
            fewer candidates, and in the last row.
        scores: ``(C + 1, n)`` float64 model scores, ``-inf`` where ``items == -1``.
        length: ``(n,)`` number of real candidates per user.
        novelty: ``(C + 1, n)`` float64 novelty bonus in [0, 1] of each candidate.
        profile: ``(C + 1, n)`` intp similarity-profile id of each candidate (0 for none).
        profile_rows: ``profile * n_profiles``: where each candidate's row of the flattened
            similarity table starts (kept rather than multiplied in the MMR's inner loop,
            which measured 5-30% slower).
        n_profiles: Profiles of the similarity the pool was built with (the compiled re-rank
            indexes its table without bounds checks, so ``rerank`` checks this first).
    """

    items: np.ndarray
    scores: np.ndarray
    length: np.ndarray
    novelty: np.ndarray
    profile: np.ndarray
    profile_rows: np.ndarray
    n_profiles: int
    _ranges: dict[int, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def relevance_range(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, span)`` per user that min-max scale the scores of the first ``p`` candidates
        (memoised per pool size: a search asks for the same few sizes again and again).

        Candidates are sorted best first with empty slots last, so the range is first slot to
        last real slot; a user without candidates gets ``lo = 0, span = 1`` (scores stay -inf).
        """
        if p not in self._ranges:
            filled = np.minimum(self.length, p)
            last = self.scores[np.maximum(filled - 1, 0), np.arange(self.n_users)]
            lo = np.where(filled > 0, last, 0.0)
            hi = self.scores[0]
            self._ranges[p] = lo, np.where(hi > lo, hi - lo, 1.0)
        return self._ranges[p]

    @classmethod
    def build(
        cls,
        items: np.ndarray,
        scores: np.ndarray,
        novelty: np.ndarray,
        similarity: ItemSimilarity,
    ) -> CandidatePool:
        """From user-major ``(n, C)`` candidates (``-1`` / ``-inf`` after the last real one).

        Args:
            items: ``(n, C)`` item codes, best first.
            scores: ``(n, C)`` model scores aligned with ``items``; finite for real candidates
                (``generate_candidates`` drops the others).
            novelty: ``(n_items,)`` novelty bonus of each item in [0, 1].
            similarity: The item similarity whose profiles the diversity penalty looks up.

        Raises:
            ValueError: a real candidate has a NaN or infinite score.
        """
        n, c = items.shape
        # C order explicitly: transposes would otherwise hand numpy Fortran-ordered results,
        # and every row operation of the re-ranker would then stride (measured 2-9x slower).
        padded = np.full((c + 1, n), -1, dtype=np.int32)
        padded[:c] = items.T
        valid = padded >= 0
        safe = np.where(valid, padded, 0)
        score_rows = np.full((c + 1, n), -np.inf)
        score_rows[:c] = scores.T
        if not np.isfinite(score_rows[valid]).all():
            raise ValueError("candidate scores must be finite where items >= 0")
        score_rows[~valid] = -np.inf
        profile = np.where(valid, similarity.profile[safe], 0).astype(np.intp)
        return cls(
            items=padded,
            scores=score_rows,
            length=valid.sum(axis=0),
            novelty=np.where(valid, np.asarray(novelty, np.float64)[safe], 0.0),
            profile=profile,
            profile_rows=profile * similarity.table.shape[0],
            n_profiles=similarity.table.shape[0],
        )

    def gather(self, array: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """``array`` (position-major, ``(C + 1, n)``) at ``slots`` (``position * n + user``)."""
        return array.ravel().take(slots)

    @property
    def nbytes(self) -> int:
        """Memory held, memoised ranges included."""
        arrays = [self.items, self.scores, self.length, self.novelty, self.profile]
        # a copy of the memo: another thread may add a pool size while the cache measures
        arrays += [self.profile_rows, *(a for pair in list(self._ranges.values()) for a in pair)]
        return sum(a.nbytes for a in arrays)

    @property
    def n_users(self) -> int:
        return self.items.shape[1]

    @property
    def size(self) -> int:
        """Candidates per user (``C``)."""
        return self.items.shape[0] - 1
