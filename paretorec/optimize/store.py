"""The durable trial log of a run: SQLite in the run directory, mirrored to CSV files.

Each trial is committed on its own as soon as its evaluation finishes (write-ahead log, so a
commit is an append), so a killed run loses at most the evaluations still in flight.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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
"""


@dataclass(frozen=True)
class TrialRecord:
    """One evaluated candidate.

    Attributes:
        trial: 0-based evaluation order.
        generation: 1-based generation that asked for it.
        x: The unit vector pymoo proposed (after repair).
        params: The decoded active parameters.
        results: ``val_<metric>`` / ``test_<metric>`` values.
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


class TrialStore:
    """Append-only trial and history tables in ``<run>/trials.sqlite``."""

    FILENAME = "trials.sqlite"

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / self.FILENAME
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def trials(self) -> list[TrialRecord]:
        rows = self._db.execute(
            "SELECT trial, generation, x, params, results, seconds, cached FROM trials "
            "ORDER BY trial"
        ).fetchall()
        return [
            TrialRecord(
                t, g, tuple(np.frombuffer(x).tolist()), json.loads(p), json.loads(r), s, bool(c)
            )
            for t, g, x, p, r, s, c in rows
        ]

    def record(self, trial: int) -> tuple[dict[str, Any], dict[str, float]] | None:
        """The exact decoded parameters and results of one trial, or None if not stored."""
        row = self._db.execute(
            "SELECT params, results FROM trials WHERE trial = ?", (trial,)
        ).fetchone()
        return None if row is None else (json.loads(row[0]), json.loads(row[1]))

    def history(self) -> list[tuple[int, int, float, int, float]]:
        return self._db.execute(
            "SELECT generation, evaluations, hypervolume, front_size, elapsed FROM history "
            "ORDER BY generation"
        ).fetchall()

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

    def update_results(self, trial: int, results: dict[str, float]) -> None:
        """Replace a trial's result columns (test scores added after the search)."""
        with self._db:
            self._db.execute(
                "UPDATE trials SET results = ? WHERE trial = ?", (json.dumps(results), trial)
            )

    def commit_history(self, row: tuple[int, int, float, int, float]) -> None:
        """Write (or rewrite, on resume) a generation's history row."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?, ?)", row)


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot store {type(value).__name__} in a trial")
