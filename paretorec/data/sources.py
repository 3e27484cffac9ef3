"""Reading interaction and item files (CSV or Parquet) and assembling a Dataset.

Every source, built-in or not, goes through the same steps: read a raw table, map its columns
to ``user``, ``item`` [, ``rating``] [, ``timestamp``], clean (``paretorec.data.cleaning``),
encode ids, attach item features.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from paretorec.config import DataConfig
from paretorec.data.cleaning import (
    BadValue,
    CleaningOptions,
    CleaningReport,
    clean,
    normalise_ids,
    shown,
    where,
)
from paretorec.data.interactions import Dataset, ItemFeatures, encode
from paretorec.data.locate import sha256_file
from paretorec.data.tables import read_table, separator_hint, table_format
from paretorec.errors import DataError

__all__ = ["assemble", "checksum", "load_file", "map_columns", "read_table", "table_format"]

DEFAULT_COLUMNS = {"user": "user", "item": "item", "rating": "rating", "timestamp": "timestamp"}


def options_of(cfg: DataConfig, rating_scale: tuple[float, float] | None) -> CleaningOptions:
    """The cleaning a data config asks for, with a loader's own rating scale as default."""
    scale = tuple(cfg.rating_scale) if cfg.rating_scale is not None else rating_scale
    return CleaningOptions(
        rating_scale=scale,  # type: ignore[arg-type]
        min_user_interactions=cfg.min_user_interactions,
        min_item_interactions=cfg.min_item_interactions,
        implicit_threshold=cfg.implicit_threshold,
        strict=cfg.strict,
    )


def map_columns(
    frame: pd.DataFrame,
    path: Path,
    mapping: Mapping[str, str] | None,
    required: tuple[str, ...],
    key: str = "columns",
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rename mapped columns to paretorec's names; missing required ones are an error."""
    wanted = (
        dict(mapping)
        if mapping is not None
        else {k: v for k, v in DEFAULT_COLUMNS.items() if k in required or v in frame.columns}
    )
    for name in required:
        wanted.setdefault(name, name)
    missing = [f"`{source}` ({name})" for name, source in wanted.items() if source not in frame]
    if missing:
        raise DataError(
            f"{path}: column {missing[0]} not found; the file has: "
            f"{', '.join(map(str, frame.columns)) or '(no columns)'}; set [data] {key} = "
            '{ user = "...", item = "...", ... } to the file\'s names'
            + separator_hint(list(frame.columns))
        )
    for name, source in wanted.items():
        _refuse_nested(frame[source], path, f"`{source}` ({name})")
    out = frame[list(wanted.values())].copy()
    out.columns = list(wanted.keys())
    return out, wanted


NESTED = (list, tuple, dict, set, np.ndarray, bytes, bytearray)


def _refuse_nested(column: pd.Series, path: Path, name: str) -> None:
    """Parquet can hold lists, structs and bytes in a cell; none is an id, rating or time."""
    if column.dtype != object:
        return
    present = column.dropna()
    if len(present) and isinstance(present.iloc[0], NESTED):
        kind = type(present.iloc[0]).__name__
        raise DataError(
            f"{path}: row {present.index[0]}, column {name}: holds {kind} values, not numbers "
            "or text; map the column to one of plain values (or flatten it when writing)"
        )


def multi_hot(
    item_ids: np.ndarray,
    table_ids: np.ndarray,
    values: pd.Series,
    separator: str | None,
    lowercase: bool = False,
) -> ItemFeatures:
    """``(n_items, n_features)`` 0/1 features from a column, aligned to item ids.

    Args:
        item_ids: ``(n_items,)`` the dataset's item ids (row order of the result).
        table_ids: Item id of each row of ``values`` (an item may have several rows).
        values: Feature text per row.
        separator: Splits a value into features (``|`` for genres, `` `` for words); None
            takes each whole value as one feature (e.g. one tag per row).
        lowercase: Fold case (tags, text).

    Items missing from the table get an empty row; ``(no genres listed)`` style placeholders
    (parenthesised values) are not features.
    """
    text = values.fillna("").astype(str)
    if lowercase:
        text = text.str.lower()
    exploded = (text.str.split(separator).explode() if separator else text).str.strip()
    exploded = exploded[(exploded != "") & ~exploded.str.match(r"^\(.*\)$", na=False)]
    names = np.array(sorted(exploded.unique()), dtype=object)
    keys, lookup = _comparable(item_ids, table_ids[exploded.index.to_numpy()])
    position = pd.Series(np.arange(len(item_ids)), index=pd.Index(keys))
    rows = position.reindex(lookup).to_numpy()
    cols = np.searchsorted(names, exploded.to_numpy())
    ok = ~np.isnan(rows)
    matrix = sp.csr_matrix(
        (np.ones(ok.sum(), np.float32), (rows[ok].astype(np.int64), cols[ok])),
        shape=(len(item_ids), len(names)),
    )
    matrix.data[:] = 1.0  # repeated tags count once
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return ItemFeatures(matrix, tuple(str(n) for n in names))


def _is_text(ids: np.ndarray) -> bool:
    first = next((v for v in ids if v is not None), None) if ids.dtype == object else None
    return isinstance(first, str)


def _comparable(item_ids: np.ndarray, table_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both id arrays as text when one file's ids are text and the other's numbers (one stray
    non-number makes a whole column text), so that 10 still finds "10"."""
    if _is_text(item_ids) == _is_text(table_ids):
        return item_ids, table_ids
    as_text = np.vectorize(lambda v: v if v is None else str(v), otypes=[object])
    return as_text(item_ids), as_text(table_ids)


def checksum(paths: list[Path], options: CleaningOptions, extra: object = None) -> str:
    """``sha256:`` over the files' sums and the cleaning options (the data's identity)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.name}:{sha256_file(path)}\n".encode())
    digest.update(json.dumps([options.__dict__, extra], sort_keys=True, default=str).encode())
    return "sha256:" + digest.hexdigest()


def assemble(
    name: str,
    frame: pd.DataFrame,
    report: CleaningReport,
    data_checksum: str,
    rating_scale: tuple[float, float] | None,
    genres: tuple[np.ndarray, pd.Series, str | None] | None = None,
    tags: tuple[np.ndarray, pd.Series, str | None] | None = None,
    items: pd.DataFrame | None = None,
    users: pd.DataFrame | None = None,
) -> Dataset:
    """Encode a cleaned frame and attach features (given as ``(table ids, values, separator)``).

    ``rating_scale`` is dropped when cleaning made the data implicit.
    """
    has_rating = "rating" in frame
    inter, user_ids, item_ids = encode(
        frame["user"].to_numpy(),
        frame["item"].to_numpy(),
        frame["rating"].to_numpy() if has_rating else None,
        frame["timestamp"].to_numpy() if "timestamp" in frame else None,
        source=report.source,
    )
    genre_features = None if genres is None else multi_hot(item_ids, *genres)
    tag_features = None if tags is None else multi_hot(item_ids, *tags, lowercase=True)
    return Dataset(
        name=name,
        interactions=inter,
        user_ids=user_ids,
        item_ids=item_ids,
        item_features=genre_features,
        rating_scale=rating_scale if has_rating else None,
        checksum=data_checksum,
        items=pd.DataFrame() if items is None else _aligned(items, "item", item_ids),
        users=pd.DataFrame() if users is None else _aligned(users, "user", user_ids),
        item_tags=tag_features,
        cleaning=report,
    )


def _aligned(table: pd.DataFrame, key: str, ids: np.ndarray) -> pd.DataFrame:
    return table.drop_duplicates(key).set_index(key).reindex(ids).reset_index()


def load_file(cfg: DataConfig, data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """A dataset from ``cfg.path`` (CSV or Parquet) and optionally an item features file."""
    path = Path(cfg.path)  # type: ignore[arg-type]
    raw, note = read_table(path, cfg.format, cfg.separator, cfg.encoding, cfg.strict)
    is_csv = table_format(path, cfg.format) == "csv"
    if raw.empty:
        below = "below the header row" if is_csv else "in the file (0 rows)"
        raise DataError(f"{path}: no interactions {below}")
    frame, mapping = map_columns(raw, path, cfg.columns, ("user", "item"))
    options = options_of(cfg, None)
    frame, report = clean(frame, str(path), options, mapping, 2 if is_csv else 0)
    if note:
        report = report.noted("encoding", note)
    scale = None
    if cfg.rating_scale is not None:
        scale = (float(cfg.rating_scale[0]), float(cfg.rating_scale[1]))
    elif "rating" in frame:
        frame, report, scale = _observed_scale(frame, report, mapping["rating"])
    genres = tags = None
    files = [path]
    if cfg.items:
        items_path = Path(cfg.items)
        genres, tags, items_note = _item_features(cfg, items_path)
        if items_note:
            report = report.noted("items encoding", f"{items_path.name}: {items_note}")
        files.append(items_path)
    return assemble(
        "file",
        frame,
        report,
        checksum(files, options, [cfg.columns, cfg.item_columns]),
        scale,
        genres=genres,
        tags=tags,
    )


def _observed_scale(
    frame: pd.DataFrame, report: CleaningReport, column: str
) -> tuple[pd.DataFrame, CleaningReport, tuple[float, float] | None]:
    """The observed range when no scale is configured. One value everywhere is no scale (the
    satisfaction terms would divide by its width): the data is then read as implicit, noted."""
    low, high = float(frame["rating"].min()), float(frame["rating"].max())
    if low < high:
        return frame, report, (low, high)
    note = (
        f"every `{column}` is {low:g}: read as implicit feedback; set [data] rating_scale "
        "to keep the ratings"
    )
    return frame.drop(columns="rating"), report.noted("constant rating", note), None


Features = tuple[np.ndarray, pd.Series, str | None]


def _item_features(cfg: DataConfig, path: Path) -> tuple[Features | None, Features | None, str]:
    """Genres and tags (or text words) of the item features file, with exact item ids, and how
    the file was decoded ("" if as configured)."""
    table, note = read_table(path, None, cfg.separator, cfg.encoding, cfg.strict)
    mapping = dict(cfg.item_columns or {"item": "item", "genres": "genres"})
    table, _ = map_columns(table, path, mapping, ("item",), "item_columns")
    try:
        ids = normalise_ids(table["item"]).to_numpy()
    except BadValue as bad:
        offset = 2 if table_format(path, None) == "csv" else 0
        raise DataError(
            f"{path}: {where(bad.label, offset)}, column `{mapping['item']}`: {bad.what} "
            f"({shown(bad.value)}); {bad.fix}"
        ) from None
    genres = (ids, table["genres"], cfg.feature_separator) if "genres" in table else None
    tags = None
    if "tags" in table:
        tags = (ids, table["tags"], cfg.feature_separator)
    elif "text" in table:
        tags = (ids, table["text"], " ")
    return genres, tags, note
