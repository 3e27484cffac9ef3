"""MovieLens loaders (GroupLens releases, read from a data dir; never redistributed)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from paretorec.data.interactions import Dataset, ItemFeatures, encode
from paretorec.data.locate import RemoteDataset, locate, sha256_file
from paretorec.errors import DataError

ML_100K = RemoteDataset(
    name="ml-100k",
    url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
    files={
        "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
        "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
        "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
        "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
    },
)


def combined_checksum(folder: Path, names: list[str]) -> str:
    """``sha256:<hex>`` over the named files' own sha256 sums, in the order given."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(f"{name}:{sha256_file(folder / name)}\n".encode())
    return "sha256:" + digest.hexdigest()


def _read(path: Path, **kwargs: object) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kwargs)  # type: ignore[call-overload]
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot parse ({exc}); is it the original file?") from None


def load_ml100k(data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """MovieLens 100K: 100,000 ratings (1-5) by 943 users on 1,682 movies with 19 genre flags."""
    folder = locate(ML_100K, data_dir)
    ratings = _read(
        folder / "u.data",
        sep="\t",
        header=None,
        names=["user", "item", "rating", "timestamp"],
        dtype={"user": np.int64, "item": np.int64, "rating": np.float32, "timestamp": np.int64},
    )
    genres = _read(folder / "u.genre", sep="|", header=None, names=["genre", "index"])
    genre_names = tuple(str(g) for g in genres.dropna()["genre"])
    item_cols = ["item", "title", "release_date", "video_release_date", "imdb_url", *genre_names]
    items = _read(folder / "u.item", sep="|", header=None, names=item_cols, encoding="latin-1")
    users = _read(
        folder / "u.user",
        sep="|",
        header=None,
        names=["user", "age", "gender", "occupation", "zip_code"],
        dtype={"zip_code": str},
    )
    inter, user_ids, item_ids = encode(
        ratings["user"].to_numpy(),
        ratings["item"].to_numpy(),
        ratings["rating"].to_numpy(),
        ratings["timestamp"].to_numpy(),
        item_vocabulary=items["item"].to_numpy(),
    )
    items = items.set_index("item").loc[item_ids].reset_index()
    users = users.set_index("user").reindex(user_ids).reset_index()
    flags = items[list(genre_names)].to_numpy(dtype=np.float32)
    return Dataset(
        name="ml-100k",
        interactions=inter,
        user_ids=user_ids,
        item_ids=item_ids,
        item_features=ItemFeatures(sp.csr_matrix(flags), genre_names),
        rating_scale=(1.0, 5.0),
        checksum=combined_checksum(folder, list(ML_100K.files)),
        items=items[["item", "title"]],
        users=users[["user", "age", "gender", "occupation"]],
    )
