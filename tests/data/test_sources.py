"""CSV / Parquet sources, ml-latest-small, item features, cleaning rules and their counts."""

import numpy as np
import pandas as pd
import pytest

from paretorec.config import DataConfig
from paretorec.data import load_dataset
from paretorec.data.cleaning import CleaningOptions, clean
from paretorec.errors import DataError


def test_ml_latest_small(data_dir):
    ds = load_dataset("ml-latest-small", data_dir)
    assert (ds.n_users, len(ds.interactions)) == (610, 100_836)
    assert ds.n_items == 9_724  # rated movies
    assert ds.rating_scale == (0.5, 5.0)
    assert set(np.unique(ds.interactions.rating)) == {x / 2 for x in range(1, 11)}
    names = set(ds.item_features.names)
    assert {"Action", "Comedy", "IMAX"} <= names and "(no genres listed)" not in names
    toy = np.flatnonzero(ds.item_ids == 1)[0]
    row = ds.item_features.matrix[toy].toarray().ravel()
    assert {ds.item_features.names[j] for j in np.flatnonzero(row)} == {
        "Adventure",
        "Animation",
        "Children",
        "Comedy",
        "Fantasy",
    }
    assert ds.item_tags is not None and "funny" in ds.item_tags.names
    assert ds.cleaning.rows_in == ds.cleaning.rows_out == 100_836


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_column_mapping_and_item_features(tmp_path):
    ratings = _write(
        tmp_path,
        "r.csv",
        "uid,iid,stars,when\na,10,4,100\na,11,2,200\nb,10,5,300\nb,12,1,2020-01-01T00:00:00Z\n",
    )
    items = _write(
        tmp_path, "i.csv", "id,kinds,about\n10,Drama|Comedy,a sad clown\n11,Drama,big fish\n12,,\n"
    )
    cfg = DataConfig(
        dataset="file",
        path=str(ratings),
        items=str(items),
        columns={"user": "uid", "item": "iid", "rating": "stars", "timestamp": "when"},
        item_columns={"item": "id", "genres": "kinds", "text": "about"},
    )
    ds = load_dataset(cfg)
    assert ds.n_users == 2 and ds.n_items == 3 and len(ds.interactions) == 4
    assert ds.user_ids.tolist() == ["a", "b"] and ds.item_ids.tolist() == [10, 11, 12]
    assert ds.rating_scale == (1.0, 5.0)  # observed range when none is configured
    assert ds.interactions.timestamp.max() == 1577836800  # ISO date -> epoch seconds
    genres = ds.item_features
    assert genres.names == ("Comedy", "Drama")
    assert genres.matrix.toarray().tolist() == [[1, 1], [0, 1], [0, 0]]
    assert {"sad", "clown", "fish"} <= set(ds.item_tags.names)
    frame = ds.to_frame()
    assert frame["user"].tolist() == ["a", "a", "b", "b"]


def test_parquet_source(tmp_path):
    frame = pd.DataFrame({"user": [1, 1, 2], "item": [5, 6, 5], "rating": [3.0, 4.0, 5.0]})
    path = tmp_path / "x.parquet"
    frame.to_parquet(path)
    ds = load_dataset(DataConfig(dataset="file", path=str(path)))
    assert len(ds.interactions) == 3 and ds.interactions.timestamp is None
    assert ds.cleaning.source == str(path)


def test_checksum_changes_with_data_and_cleaning(tmp_path):
    path = _write(tmp_path, "r.csv", "user,item\n1,1\n1,2\n2,1\n")
    a = load_dataset(DataConfig(dataset="file", path=str(path)))
    b = load_dataset(DataConfig(dataset="file", path=str(path), min_item_interactions=2))
    assert a.checksum != b.checksum
    path.write_text("user,item\n1,1\n1,2\n2,2\n")
    assert load_dataset(DataConfig(dataset="file", path=str(path))).checksum != a.checksum


def _frame(rows, columns=("user", "item", "rating", "timestamp")):
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


def test_every_rule_counts_what_it_drops():
    rows = [
        ["1", "a", "4", "10"],  # ok
        [None, "a", "4", "10"],  # missing user
        ["2", " ", "4", "10"],  # missing item
        ["3", "b", None, "10"],  # missing rating
        ["3", "c", "five", "10"],  # non-numeric rating
        ["3", "d", "9", "10"],  # out of scale
        ["3", "e", "4", "soon"],  # unparsable time
        ["4", "a", "2", "5"],  # duplicate: older
        ["4", "a", "5", "50"],  # duplicate: latest, kept
        ["5", "b", "3", "20"],  # ok
    ]
    out, report = clean(_frame(rows), "x.csv", CleaningOptions(rating_scale=(1.0, 5.0)))
    counts = {s.rule: s.dropped for s in report.steps}
    assert counts == {
        "missing user id": 1,
        "missing item id": 1,
        "missing rating": 1,
        "non-numeric rating": 1,
        "rating outside the scale": 1,
        "unparsable timestamp": 1,
        "duplicate user-item pair (kept latest)": 1,
    }
    assert report.rows_in == 10 and report.rows_out == 3
    assert out.loc[out["user"] == 4, "rating"].tolist() == [5.0]  # ids are numbers now


def test_implicit_threshold_and_iterated_k_core():
    rows = [[u, i, 5, 0] for u, i in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 3)]]
    rows.append([1, 3, 1, 0])
    out, report = clean(
        _frame(rows),
        "x",
        CleaningOptions(implicit_threshold=4.0, min_user_interactions=2, min_item_interactions=2),
    )
    assert "rating" not in out  # implicit now
    assert report.dropped("below the implicit threshold") == 1
    # item 3 has one positive -> dropped -> user 3 has one left -> dropped -> item 1 still 2
    assert report.dropped("k-core (min per user / per item)") == 2
    assert sorted(map(tuple, out[["user", "item"]].to_numpy().tolist())) == [
        (1, 1),
        (1, 2),
        (2, 1),
        (2, 2),
    ]


def test_strict_mode_names_file_line_column_and_fix():
    rows = [["1", "a", "4", "10"], ["2", "b", "x", "10"], ["3", "c", "y", "10"]]
    with pytest.raises(DataError) as info:
        clean(_frame(rows), "r.csv", CleaningOptions(strict=True))
    msg = str(info.value)
    assert msg.startswith("r.csv: line 3, column `rating`: not a number ('x')")
    assert "2 such rows" in msg and "\n" not in msg


def test_everything_dropped_is_an_error():
    with pytest.raises(DataError, match="no interactions left after cleaning"):
        clean(_frame([[None, "a", "4", "1"]]), "r.csv", CleaningOptions())


def test_ids_are_normalised_before_duplicates_are_found():
    rows = [
        ["5", "a", "4", "10"],
        [" 5", "a", "3", "20"],
        ["5.0", "b", "4", "5"],
        [" 6 ", "b", "2", "1"],
    ]
    out, report = clean(_frame(rows), "x.csv", CleaningOptions())
    assert report.dropped("duplicate user-item pair (kept latest)") == 1  # 5/a twice
    assert sorted(out["user"].tolist()) == [5, 5, 6]
    assert out.loc[(out["user"] == 5) & (out["item"] == "a"), "rating"].tolist() == [3.0]


def test_a_leading_zero_keeps_ids_as_the_file_wrote_them():
    rows = [["007", "a", "4", "10"], ["7", "a", "3", "20"], ["12", "b", "4", "5"]]
    out, report = clean(_frame(rows), "x.csv", CleaningOptions())
    assert report.dropped("duplicate user-item pair (kept latest)") == 0
    assert sorted(out["user"].tolist()) == ["007", "12", "7"]


def test_millisecond_timestamps_are_read_as_such():
    rows = [["1", "a", "4", "1600000000000"], ["2", "b", "4", "1600000500000"]]
    out, report = clean(_frame(rows), "x.csv", CleaningOptions())
    assert out["timestamp"].tolist() == [1600000000, 1600000500]
    assert any(s.rule == "timestamp unit" for s in report.steps)


def test_a_k_core_over_nothing_left_is_a_clear_error():
    rows = [["1", "a", "2", "1"], ["2", "b", "1", "1"]]
    options = CleaningOptions(implicit_threshold=4.0, min_user_interactions=3)
    with pytest.raises(DataError, match="no interactions left after cleaning"):
        clean(_frame(rows), "x.csv", options)
