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
from paretorec.data.cleaning import CleaningOptions, CleaningReport, clean, normalise_ids
from paretorec.data.interactions import Dataset, ItemFeatures, encode
from paretorec.data.locate import sha256_file
from paretorec.errors import DataError

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


def table_format(path: Path, fmt: str | None) -> str:
    """``csv`` or ``parquet``: as configured, else from the file suffix."""
    return fmt or ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")


def read_table(
    path: Path,
    fmt: str | None = None,
    separator: str = ",",
    encoding: str = "utf-8",
    strict: bool = False,
) -> tuple[pd.DataFrame, str]:
    """Read a CSV (every column as text, so nothing is silently coerced) or a Parquet file.

    Returns:
        The frame (index = data row position) and a note ("" or how it was decoded).

    Raises:
        DataError: missing, empty or unreadable file; a wrong encoding in strict mode.
    """
    if not path.is_file():
        raise DataError(
            f"{path}: no such file; check [data] path (relative paths start at the "
            "directory you run paretorec from)"
        )
    if table_format(path, fmt) == "parquet":
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise DataError(
                f"{path}: not a readable Parquet file ({exc}); "
                'set [data] format = "csv" if it is text'
            ) from None
        return frame.reset_index(drop=True), ""
    text = {"sep": separator, "dtype": str, "keep_default_na": False, "na_values": [""]}
    try:
        return pd.read_csv(path, encoding=encoding, **text), ""
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the file is empty; it needs a header row and interactions"
        ) from None
    except UnicodeDecodeError as exc:
        if strict:
            raise DataError(
                f"{path}: byte {exc.start} is not valid {encoding}; set [data] encoding to the "
                'file\'s encoding (e.g. "latin-1")'
            ) from None
        return pd.read_csv(
            path, encoding="latin-1", **text
        ), f"not valid {encoding}: read as latin-1"
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: cannot parse as CSV ({exc}); check [data] separator") from None


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
        )
    out = frame[list(wanted.values())].copy()
    out.columns = list(wanted.keys())
    return out, wanted


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
    position = pd.Series(np.arange(len(item_ids)), index=pd.Index(item_ids))
    rows = position.reindex(table_ids[exploded.index.to_numpy()]).to_numpy()
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
    if raw.empty:
        raise DataError(f"{path}: no interactions below the header row")
    frame, mapping = map_columns(raw, path, cfg.columns, ("user", "item"))
    line_offset = 2 if table_format(path, cfg.format) == "csv" else 0
    options = options_of(cfg, None)
    frame, report = clean(frame, str(path), options, mapping, line_offset)
    if note:
        report = report.noted("encoding", note)
    scale = None
    if cfg.rating_scale is not None:
        scale = (float(cfg.rating_scale[0]), float(cfg.rating_scale[1]))
    elif "rating" in frame:  # no scale given: the observed range
        scale = (float(frame["rating"].min()), float(frame["rating"].max()))
    genres = tags = None
    files = [path]
    if cfg.items:
        items_path = Path(cfg.items)
        table, _ = read_table(items_path, None, cfg.separator, cfg.encoding, cfg.strict)
        mapping_items = dict(cfg.item_columns or {"item": "item", "genres": "genres"})
        table, _ = map_columns(table, items_path, mapping_items, ("item",), "item_columns")
        ids = normalise_ids(table["item"]).to_numpy()
        if "genres" in table:
            genres = (ids, table["genres"], cfg.feature_separator)
        if "tags" in table:
            tags = (ids, table["tags"], cfg.feature_separator)
        elif "text" in table:
            tags = (ids, table["text"], " ")
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
