"""An exported operating point fitted on its data: a recommender that serves lists.

``fit_on="all"`` fits on every interaction and recommends to every user, as serving would;
``fit_on="run"`` fits on exactly the run's train + validation data and recommends to its test
users, which reproduces the run's test numbers (``reproduce`` checks them).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from paretorec.data import Dataset, load_dataset, make_split
from paretorec.errors import ConfigError, DataError
from paretorec.export.point import OperatingPoint
from paretorec.export.segments import segment_lists, segment_values
from paretorec.metrics import parse_metric
from paretorec.study import Pipeline, RankedLists

FIT_ON = ("all", "run")


@dataclass(frozen=True, eq=False)
class Recommender:
    """A point fitted on its data.

    Attributes:
        point: The exported point.
        dataset: The data it was fitted on (checked against the point's checksum).
        pipeline: Candidates and re-ranking with their caches.
        stage: ``all`` (serving) or ``test`` (the run's test users).
    """

    point: OperatingPoint
    dataset: Dataset
    pipeline: Pipeline
    stage: str

    def lists(self, k: int | None = None) -> RankedLists:
        """Re-ranked top-k lists of every user of the stage (item codes)."""
        k = self.point.k if k is None else k
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ConfigError(f"`k >= 1` (an integer) must hold, got k={k!r}")
        pool = self.point.candidate.rerank.pool
        if self.point.segments is not None:  # every segment's point re-ranks its own pool
            pool = min(pool, *(c.rerank.pool for c in self.point.segments.candidates()))
        if k > pool:
            raise ConfigError(f"`k <= rerank.pool` must hold, got k={k}, pool={pool}")
        if self.point.segments is not None:  # each user from its segment's point
            return segment_lists(
                self.pipeline, self.stage, self.point.candidate, self.point.segments, int(k)
            )[0]
        return self.pipeline.recommend(self.stage, self.point.candidate, int(k))

    def recommend(self, users: Sequence[Any] | None = None, k: int | None = None) -> pd.DataFrame:
        """``user, item, rank, score`` with the dataset's own ids, best first per user.

        Args:
            users: The dataset's user ids to recommend to (default: every user of the stage).
            k: List length (default: the point's k).
        """
        lists = self.lists(k)
        frame = self.to_frame(lists)
        if users is None:
            return frame
        wanted = pd.Index(list(users))
        known = pd.Index(self.dataset.user_ids[lists.users])
        missing = wanted.difference(known)
        if len(missing):
            sample = ", ".join(map(str, missing[:5]))
            raise DataError(
                f"{len(missing)} requested user(s) are not served at this stage ({sample}); "
                "serve with fit_on='all' to reach every user of the data"
            )
        keep = frame["user"].isin(wanted).to_numpy()
        return frame[keep].reset_index(drop=True)

    def to_frame(self, lists: RankedLists) -> pd.DataFrame:
        """``user,item,rank,score`` with the dataset's own ids, best first per user."""
        n, k = lists.items.shape
        keep = lists.items >= 0
        users = np.repeat(lists.users, k).reshape(n, k)
        return pd.DataFrame(
            {
                "user": self.dataset.user_ids[users[keep]],
                "item": self.dataset.item_ids[lists.items[keep]],
                "rank": np.tile(np.arange(1, k + 1), n).reshape(n, k)[keep],
                "score": lists.values[keep],
            }
        )

    def reproduce(self, lists: RankedLists | None = None) -> tuple[bool, list[str]]:
        """Score lists fitted on the run's data against its test split and compare them with
        the exported test values.

        Returns:
            Whether every deterministic metric matches exactly, and one line per metric.
        """
        if self.stage != "test":
            raise ConfigError("reproduce needs a recommender fitted with fit_on='run'")
        if self.point.segments is not None:
            raise ConfigError(
                "the run's test numbers are the overall point's; a per-segment point is "
                "compared with it by `paretorec evaluate CHOSEN`"
            )
        lists = self.lists() if lists is None else lists
        ctx = self.pipeline.context(self.stage, lists)
        expected = self.point.values.get("test", {})
        ok = True
        lines = [
            "reproduction of the run's test numbers (fit on train+validation, scored on test):"
        ]
        for name, want in expected.items():
            ref = parse_metric(name)
            if not ref.metric.deterministic:
                continue
            got, _ = ref.compute(ctx)
            same = got == want or (np.isnan(got) and np.isnan(want))
            ok &= bool(same)
            lines.append(
                f"  {name:<18} run {want:.10g}  now {got:.10g}  {'same' if same else 'DIFFERENT'}"
            )
        return ok, lines


def recommender(
    point: OperatingPoint,
    fit_on: str = "all",
    data_dir: str | os.PathLike[str] | None = None,
) -> Recommender:
    """Fit ``point`` on its dataset (the data is checked against the point's checksum).

    Args:
        point: The exported point (``load_operating_point``).
        fit_on: ``all`` fits on every interaction and recommends to every user (serving);
            ``run`` fits on exactly the data behind the run's test numbers (train +
            validation) and recommends to the test users, reproducing those numbers.
        data_dir: Where the dataset is.
    """
    if fit_on not in FIT_ON:
        raise ConfigError(f"fit_on must be one of {', '.join(FIT_ON)}, got {fit_on!r}")
    pipeline = point_pipeline([point], data_dir, split=fit_on == "run")
    stage = "test" if fit_on == "run" else "all"
    if point.segments is not None:  # a user column the data lacks is said before any fit
        segment_values(point.segments.segmentation.by, pipeline, stage)
    return Recommender(point, pipeline.dataset, pipeline, stage)


def _point_data(point: OperatingPoint, data_dir: str | os.PathLike[str] | None) -> Dataset:
    """The point's dataset. A data file named inside an exported point was not named by the
    user, so a failure to read it shows none of its content (a crafted point could name any
    file); naming the file as data shows why."""
    try:
        return load_dataset(point.data, data_dir)
    except DataError:
        if point.data.dataset != "file":
            raise
        files = " and ".join(str(f) for f in (point.data.path, point.data.items) if f)
        raise DataError(
            f"field `dataset.config`: the point's data file {files} does not load as the "
            "point's data config says (its content is not shown); see why with "
            f"`paretorec data describe --path {point.data.path}`"
        ) from None


def point_pipeline(
    points: list[OperatingPoint], data_dir: str | os.PathLike[str] | None, split: bool
) -> Pipeline:
    """A pipeline over the data the points were chosen on (checked by checksum), with their
    split when ``split``, deep enough for every point's pool.

    Raises:
        ConfigError: the points were chosen on different data or splits.
        DataError: the data at hand is not the data they were chosen on.
    """
    first = points[0]
    for other in points[1:]:
        if (other.dataset_checksum, other.split) != (first.dataset_checksum, first.split):
            raise ConfigError(
                "the points were chosen on different data or splits "
                f"({first.dataset_checksum[:19]}... / {other.dataset_checksum[:19]}...)"
            )
    dataset = _point_data(first, data_dir)
    if dataset.checksum != first.dataset_checksum:
        raise DataError(
            f"dataset {first.data.dataset} at hand ({dataset.checksum[:19]}...) is not the data "
            f"the point was chosen on ({first.dataset_checksum[:19]}...); point --data-dir at "
            "that data"
        )
    parts = make_split(dataset.interactions, first.split) if split else None
    served = [p.candidate for p in points]
    served += [c for p in points if p.segments is not None for c in p.segments.candidates()]
    pool = max(max(c.rerank.pool for c in served), first.k)
    if any(p.similarity != first.similarity for p in points):
        raise ConfigError("the points were chosen with different item similarities")
    return Pipeline(dataset, parts, first.k, pool, similarity=first.similarity)
