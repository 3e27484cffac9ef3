"""MovieLens loaders (GroupLens releases, read from a data dir; never redistributed)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from paretorec.config import DataConfig
from paretorec.data.cleaning import clean
from paretorec.data.interactions import Dataset
from paretorec.data.locate import RemoteDataset, locate
from paretorec.data.sources import assemble, checksum, options_of
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

ML_LATEST_SMALL = RemoteDataset(
    name="ml-latest-small",
    url="https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
    files={
        "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
        "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
        "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
    },
)


def _read(path: Path, **kwargs: object) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kwargs)  # type: ignore[call-overload]
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot parse ({exc}); is it the original file?") from None


def load_ml100k(cfg: DataConfig, data_dir: str | os.PathLike[str] | None = None) -> Dataset:
    """MovieLens 100K: 100,000 ratings (1-5) by 943 users on 1,682 movies with 19 genre flags."""
    folder = locate(ML_100K, data_dir)
    ratings = _read(
        folder / "u.data",
        sep="\t",
        header=None,
        names=["user", "item", "rating", "timestamp"],
        dtype={"user": np.int64, "item": np.int64, "rating": np.float64, "timestamp": np.int64},
    )
    genres = _read(folder / "u.genre", sep="|", header=None, names=["genre", "index"])
    genre_names = [str(g) for g in genres.dropna()["genre"]]
    item_cols = ["item", "title", "release_date", "video_release_date", "imdb_url", *genre_names]
    items = _read(folder / "u.item", sep="|", header=None, names=item_cols, encoding="latin-1")
    users = _read(
        folder / "u.user",
        sep="|",
        header=None,
        names=["user", "age", "gender", "occupation", "zip_code"],
        dtype={"zip_code": str},
    )
    options = options_of(cfg, (1.0, 5.0))
    frame, report = clean(ratings, str(folder / "u.data"), options, line_offset=1)
    flags = items[genre_names].to_numpy(dtype=bool)
    genre_text = pd.Series(["|".join(np.array(genre_names)[row]) for row in flags])
    return assemble(
        "ml-100k",
        frame,
        report,
        checksum([folder / name for name in ML_100K.files], options),
        options.rating_scale,
        genres=(items["item"].to_numpy(), genre_text, "|"),
        items=items[["item", "title"]],
        users=users[["user", "age", "gender", "occupation"]],
    )


def load_ml_latest_small(
    cfg: DataConfig, data_dir: str | os.PathLike[str] | None = None
) -> Dataset:
    """MovieLens latest-small: 100,836 ratings (0.5-5) by 610 users, 9,742 movies, genres, tags."""
    folder = locate(ML_LATEST_SMALL, data_dir)
    ratings = _read(
        folder / "ratings.csv",
        dtype={
            "userId": np.int64,
            "movieId": np.int64,
            "rating": np.float64,
            "timestamp": np.int64,
        },
    ).rename(columns={"userId": "user", "movieId": "item"})
    movies = _read(folder / "movies.csv", dtype={"movieId": np.int64, "title": str, "genres": str})
    tags = _read(folder / "tags.csv", dtype={"movieId": np.int64, "tag": str})
    options = options_of(cfg, (0.5, 5.0))
    frame, report = clean(ratings, str(folder / "ratings.csv"), options)
    return assemble(
        "ml-latest-small",
        frame,
        report,
        checksum([folder / name for name in ML_LATEST_SMALL.files], options),
        options.rating_scale,
        genres=(movies["movieId"].to_numpy(), movies["genres"], "|"),
        tags=(tags["movieId"].to_numpy(), tags["tag"], None),
        items=movies.rename(columns={"movieId": "item"})[["item", "title"]],
    )
