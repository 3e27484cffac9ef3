"""The stores keep model fit records beside the trials: in memory, in SQLite, and not at all in
a store written before they did (read as none)."""

from __future__ import annotations

import sqlite3

import pytest

from paretorec.errors import DataError
from paretorec.optimize.store import MemoryStore, TrialStore

RECORDS = [
    {"stage": "validation", "model": {"model": "itemknn", "itemknn.k": 20}, "seconds": 0.5},
    {"stage": "test", "model": {"model": "popularity"}, "seconds": 0.1},
]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_fit_records_round_trip_in_order(tmp_path, kind):
    store = MemoryStore() if kind == "memory" else TrialStore(tmp_path / "t.sqlite")
    store.add_fits(1, True, RECORDS[:1])
    store.add_fits(1, False, [])
    store.add_fits(2, False, RECORDS)
    assert store.fits() == [(1, True, RECORDS[0]), (2, False, RECORDS[0]), (2, False, RECORDS[1])]
    store.close()
    if kind == "sqlite":
        again = TrialStore(tmp_path / "t.sqlite", readonly=True)
        assert [s for s, _, _ in again.fits()] == [1, 2, 2]


def test_a_store_from_before_fits_were_stored_reads_as_none(tmp_path):
    path = tmp_path / "old.sqlite"
    TrialStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE fits")
    assert TrialStore(path, readonly=True).fits() == []
    assert TrialStore(path).fits() == []  # opened to resume: the table is created, empty


def test_a_damaged_fit_record_names_itself(tmp_path):
    path = tmp_path / "t.sqlite"
    store = TrialStore(path)
    store.add_fits(1, False, RECORDS[:1])
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE fits SET record = 'not json'")
    with pytest.raises(DataError, match="fit record 1 is damaged"):
        TrialStore(path, readonly=True).fits()
