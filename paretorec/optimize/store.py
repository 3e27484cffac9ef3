"""The trial log of a run: in memory, or durable in SQLite inside a run directory.

Both stores hold the same records and history rows, and the record of every model fit; the
engine reads a store's trials to replay a resumed run, and its fits to report all sessions'.
The SQLite store commits each trial on its own as soon as its evaluation finishes (write-ahead
log, so a commit is an append), so a killed run loses at most the evaluations still in flight.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from paretorec.errors import DataError

SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    trial INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    x BLOB NOT NULL,
    params TEXT NOT NULL,
    results TEXT NOT NULL,
    seconds REAL NOT NULL,
    cached INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    generation INTEGER PRIMARY KEY,
    evaluations INTEGER NOT NULL,
    hypervolume REAL NOT NULL,
    front_size INTEGER NOT NULL,
    elapsed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS fits (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    setup INTEGER NOT NULL,
    record TEXT NOT NULL
);
"""

HISTORY_COLUMNS = ("generation", "evaluations", "hypervolume", "front_size", "elapsed_seconds")
HistoryRow = tuple[int, int, float, int, float]
# one model fit: the session that made it (1, 2, ... as a run is resumed), whether it was
# setup (the baselines, fitted again by every session) and its record (FitRecord.to_dict)
FitRow = tuple[int, bool, dict[str, Any]]


@dataclass(frozen=True)
class TrialRecord:
    """One evaluated point.

    Attributes:
        trial: 0-based evaluation order.
        generation: 1-based generation that asked for it.
        x: The unit vector the algorithm proposed (after repair).
        params: The decoded active parameters, with their exact types.
        results: ``val_<name>`` / ``test_<name>`` values.
        seconds: Wall time of its evaluation.
        cached: Whether an identical point had been evaluated before in the same process.
    """

    trial: int
    generation: int
    x: tuple[float, ...]
    params: dict[str, Any]
    results: dict[str, float]
    seconds: float
    cached: bool

    def with_results(self, results: dict[str, float], seconds: float = 0.0) -> TrialRecord:
        """The same trial with more result columns (a later stage), its time added."""
        return replace(self, results={**self.results, **results}, seconds=self.seconds + seconds)


class MemoryStore:
    """Trials and history of a run kept in this process only."""

    def __init__(self) -> None:
        self._trials: dict[int, TrialRecord] = {}
        self._history: dict[int, HistoryRow] = {}
        self._fits: list[FitRow] = []

    def trials(self) -> list[TrialRecord]:
        return [self._trials[t] for t in sorted(self._trials)]

    def record(self, trial: int) -> TrialRecord | None:
        return self._trials.get(trial)

    def history(self) -> list[HistoryRow]:
        return [self._history[g] for g in sorted(self._history)]

    def add(self, record: TrialRecord) -> None:
        self._trials[record.trial] = record

    def update(self, record: TrialRecord) -> None:
        self._trials[record.trial] = record

    def commit_history(self, row: HistoryRow) -> None:
        self._history[row[0]] = row

    def fits(self) -> list[FitRow]:
        return list(self._fits)

    def add_fits(self, session: int, setup: bool, records: Sequence[dict[str, Any]]) -> None:
        self._fits.extend((session, setup, dict(r)) for r in records)

    def close(self) -> None:
        pass


class TrialStore:
    """Append-only trial and history tables in an SQLite file.

    Args:
        path: The SQLite file (created unless ``readonly``).
        readonly: Open an existing store for reading only.

    Raises:
        DataError: the file is not a readable trial store (damaged, or something else).
    """

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.tables: set[str] = set()
        try:
            self._empty = False
            if readonly:  # reading a run never changes its files
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
                tables = self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                ).fetchall()
                self.tables = {str(t[0]) for t in tables}
                self._empty = "trials" not in self.tables  # created, nothing stored yet
                return
            self._db = sqlite3.connect(self.path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise DataError(
                f"{self.path}: not a readable trial store ({exc}); it was left as it is "
                f"(trials.csv beside it keeps the trials as of the last generation)"
            ) from None

    def close(self) -> None:
        self._db.close()

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        if self._empty:
            return []
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise DataError(
                f"{self.path}: cannot read the trial store ({exc}); it was left as it is "
                f"(trials.csv beside it keeps the trials as of the last generation)"
            ) from None

    def trials(self) -> list[TrialRecord]:
        rows = self._query(
            "SELECT trial, generation, x, params, results, seconds, cached FROM trials "
            "ORDER BY trial"
        )
        return [self._record(row) for row in rows]

    def record(self, trial: int) -> TrialRecord | None:
        """One trial with its exact decoded parameters and results, or None if not stored."""
        rows = self._query(
            "SELECT trial, generation, x, params, results, seconds, cached FROM trials "
            "WHERE trial = ?",
            (trial,),
        )
        return self._record(rows[0]) if rows else None

    def _record(self, row: tuple) -> TrialRecord:
        """A stored row decoded; a row that does not decode names its trial (the rows before
        it are intact) and leaves the file as it is."""
        t, g, x, p, r, s, c = row
        try:
            params, results = json.loads(p), json.loads(r)
            vector = tuple(np.frombuffer(x).tolist())
            if not (isinstance(params, dict) and isinstance(results, dict)):
                raise ValueError("params and results must be JSON objects")
            return TrialRecord(int(t), int(g), vector, params, results, float(s), bool(c))
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"{self.path}: trial {t} is damaged ({type(exc).__name__}: {str(exc)[:80]}); "
                "the trials before it read, the file was left as it is, and trials.csv beside "
                "it keeps the trials as of the last generation"
            ) from None

    def history(self) -> list[HistoryRow]:
        rows = self._query(
            "SELECT generation, evaluations, hypervolume, front_size, elapsed FROM history "
            "ORDER BY generation"
        )
        for row in rows:  # SQLite keeps whatever type was written; plots need numbers
            if not all(isinstance(v, int | float) for v in row):
                raise DataError(
                    f"{self.path}: history row of generation {row[0]!r} is damaged (not "
                    "numbers); the file was left as it is (history.csv beside it keeps a copy)"
                )
        return rows  # type: ignore[return-value]

    def add(self, record: TrialRecord) -> None:
        """Commit one trial."""
        with self._db:
            self._db.execute(
                "INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.trial,
                    record.generation,
                    np.asarray(record.x, dtype=np.float64).tobytes(),  # exact, and no formatting
                    json.dumps(record.params, default=_json_default),
                    json.dumps(record.results),
                    record.seconds,
                    int(record.cached),
                ),
            )

    def update(self, record: TrialRecord) -> None:
        """Replace a trial's results and time (a stage scored after the search)."""
        with self._db:
            self._db.execute(
                "UPDATE trials SET results = ?, seconds = ? WHERE trial = ?",
                (json.dumps(record.results), record.seconds, record.trial),
            )

    def commit_history(self, row: HistoryRow) -> None:
        """Write (or rewrite, on resume) a generation's history row."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?, ?)", row)

    def fits(self) -> list[FitRow]:
        """Every model fit recorded, in the order they were made (none in a store written
        before fits were stored)."""
        if self.tables and "fits" not in self.tables:  # read-only, an older store
            return []
        rows = self._query("SELECT id, session, setup, record FROM fits ORDER BY id")
        out = []
        for i, session, setup, text in rows:
            try:
                record = json.loads(text)
                if not isinstance(record, dict):
                    raise ValueError("a fit record must be a JSON object")
            except (TypeError, ValueError) as exc:
                raise DataError(
                    f"{self.path}: fit record {i} is damaged ({type(exc).__name__}); the file "
                    "was left as it is"
                ) from None
            out.append((int(session), bool(setup), record))
        return out

    def add_fits(self, session: int, setup: bool, records: Sequence[dict[str, Any]]) -> None:
        """Commit fit records (with the trial they came with: a killed session keeps them)."""
        if not records:
            return
        with self._db:
            self._db.executemany(
                "INSERT INTO fits (session, setup, record) VALUES (?, ?, ?)",
                [(session, int(setup), json.dumps(r, default=_json_default)) for r in records],
            )


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot store {type(value).__name__} in a trial")
