"""``paretorec data describe``: what a dataset looks like after cleaning."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from paretorec.data.interactions import Dataset
from paretorec.data.popularity import gini_of_counts


def _quantiles(values: np.ndarray) -> str:
    q = np.quantile(values, [0.0, 0.25, 0.5, 0.75, 0.9, 1.0])
    return "min {:g}, p25 {:g}, median {:g}, p75 {:g}, p90 {:g}, max {:g}".format(*q)


def _head_share(counts: np.ndarray) -> float:
    head = np.sort(counts)[::-1][: max(1, len(counts) // 10)]
    return float(head.sum() / counts.sum())


def _date(seconds: np.integer) -> str:
    """The UTC date of an epoch second; loaders keep times in years 1 to 9999, but a Dataset
    built in code may not, and describing it must still not fail."""
    try:
        return str(datetime.fromtimestamp(int(seconds), UTC).date())
    except (ValueError, OverflowError, OSError):
        return f"epoch second {int(seconds)} (outside years 1 to 9999)"


def describe(ds: Dataset) -> list[str]:
    """Human lines: counts, sparsity, activity and popularity distributions, ratings, time span,
    features, and the cleaning report."""
    inter = ds.interactions
    users, items = inter.user_counts(), inter.item_counts()
    lines = [
        f"dataset        {ds.name} ({ds.checksum[:23]}...)",
        f"interactions   {len(inter):,}",
        f"users          {ds.n_users:,}; interactions per user: {_quantiles(users)}",
        f"items          {ds.n_items:,}; interactions per item: {_quantiles(items)}",
        f"density        {len(inter) / (ds.n_users * ds.n_items):.4%}",
        f"popularity     Gini {gini_of_counts(items):.3f}; top 10% of items hold "
        f"{_head_share(items):.1%} of interactions",
    ]
    if inter.rating is not None:
        values, counts = np.unique(inter.rating, return_counts=True)
        dist = ", ".join(
            f"{v:g}: {c / len(inter):.1%}" for v, c in zip(values, counts, strict=True)
        )
        scale = (
            ""
            if ds.rating_scale is None
            else f" (scale {ds.rating_scale[0]:g}-{ds.rating_scale[1]:g})"
        )
        lines.append(f"ratings        {dist}{scale}")
    else:
        lines.append("ratings        none (implicit feedback)")
    if inter.timestamp is not None:
        first, last = (_date(t) for t in (inter.timestamp.min(), inter.timestamp.max()))
        lines.append(f"time span      {first} to {last}")
    for label, features in (("genres", ds.item_features), ("tags", ds.item_tags)):
        if features is not None:
            covered = int((features.matrix.getnnz(axis=1) > 0).sum())
            names = ", ".join(features.names[:6]) + (", ..." if len(features.names) > 6 else "")
            lines.append(
                f"{label:<14} {len(features.names):,} ({names}); "
                f"{covered:,} of {ds.n_items:,} items have one"
            )
    if ds.cleaning is not None:
        lines += ds.cleaning.lines()
    return lines
