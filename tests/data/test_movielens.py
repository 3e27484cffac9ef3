import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from paretorec.data import load_dataset
from paretorec.data import locate as locate_mod
from paretorec.data.locate import RemoteDataset, locate
from paretorec.data.movielens import ML_100K
from paretorec.errors import DataError


def test_ml100k_counts_match_the_published_release(ml100k):
    inter = ml100k.interactions
    assert (ml100k.n_users, ml100k.n_items, len(inter)) == (943, 1682, 100_000)
    assert inter.rating.min() == 1 and inter.rating.max() == 5
    assert inter.user_counts().min() >= 20
    assert ml100k.item_features.matrix.shape == (1682, 19)
    assert {"unknown", "Film-Noir", "Action"} <= set(ml100k.item_features.names)
    assert ml100k.item_features.matrix.sum(axis=1).min() >= 1  # every movie has a genre flag
    # no duplicate user-item pairs
    assert len(np.unique(inter.user.astype(np.int64) * 2000 + inter.item)) == 100_000


def test_ml100k_keeps_original_ids_and_latin1_titles(ml100k, data_dir):
    assert ml100k.user_ids[0] == 1 and ml100k.item_ids[-1] == 1682
    titles = ml100k.items["title"].tolist()
    assert titles[0] == "Toy Story (1995)"
    assert any("é" in t for t in titles)  # Latin-1 decoded, not mangled
    frame = ml100k.to_frame()
    assert list(frame.columns) == ["user", "item", "rating", "timestamp"]
    raw = np.loadtxt(data_dir / "ml-100k" / "u.data", dtype=np.int64, max_rows=3)
    assert frame.iloc[:3][["user", "item"]].to_numpy().tolist() == raw[:, :2].tolist()


def _zip_of(folder: Path, names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.write(folder / name, f"ml-100k/{name}")
    return buffer.getvalue()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setattr(locate_mod, "cache_dir", lambda: cache)
    monkeypatch.delenv("PARETOREC_DATA_DIR", raising=False)
    return cache


def test_download_is_verified_and_lands_in_the_cache(data_dir, tmp_path, empty_cache):
    archive = tmp_path / "ml-100k.zip"
    archive.write_bytes(_zip_of(data_dir / "ml-100k", list(ML_100K.files)))
    remote = RemoteDataset("ml-100k", archive.as_uri(), ML_100K.files)
    folder = locate(remote)
    assert folder == empty_cache / "ml-100k"
    assert locate(remote) == folder  # second call: found in the cache, no download


def test_corrupt_download_is_rejected_and_nothing_is_kept(data_dir, tmp_path, empty_cache):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip_of(data_dir / "ml-100k", list(ML_100K.files)))
    files = dict(ML_100K.files, **{"u.data": hashlib.sha256(b"other").hexdigest()})
    with pytest.raises(DataError, match=r"u\.data has sha256"):
        locate(RemoteDataset("ml-100k", archive.as_uri(), files))
    assert not (empty_cache / "ml-100k").exists()


def test_missing_data_names_all_three_ways(tmp_path, empty_cache):
    remote = RemoteDataset("ml-100k", (tmp_path / "nowhere.zip").as_uri(), ML_100K.files)
    with pytest.raises(DataError) as info:
        locate(remote, tmp_path / "datadir")
    message = str(info.value)
    assert "\n" not in message
    for way in ("--data-dir", "PARETOREC_DATA_DIR", str(empty_cache), "download"):
        assert way in message


def test_a_modified_file_in_the_data_dir_is_named(data_dir, tmp_path, empty_cache):
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    for name in ML_100K.files:
        (folder / name).write_bytes((data_dir / "ml-100k" / name).read_bytes())
    with (folder / "u.data").open("ab") as fh:
        fh.write(b"1\t1\t5\t0\n")
    with pytest.raises(DataError, match=r"u\.data: sha256 .* does not match"):
        load_dataset("ml-100k", tmp_path)
