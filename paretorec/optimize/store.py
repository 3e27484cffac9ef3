"""The durable trial log of a run: SQLite in the run directory, mirrored to CSV files.

Every generation's trials and its history row are committed in one transaction before the
next generation is asked for, so a killed run loses at most the generation in flight.
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
    x TEXT NOT NULL,
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
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def trials(self) -> list[TrialRecord]:
        rows = self._db.execute(
            "SELECT trial, generation, x, params, results, seconds, cached FROM trials "
            "ORDER BY trial"
        ).fetchall()
        return [
            TrialRecord(t, g, tuple(json.loads(x)), json.loads(p), json.loads(r), s, bool(c))
            for t, g, x, p, r, s, c in rows
        ]

    def params(self, trial: int) -> dict[str, Any] | None:
        """The decoded parameters of one trial, or None if it is not stored."""
        row = self._db.execute("SELECT params FROM trials WHERE trial = ?", (trial,)).fetchone()
        return None if row is None else json.loads(row[0])

    def history(self) -> list[tuple[int, int, float, int, float]]:
        return self._db.execute(
            "SELECT generation, evaluations, hypervolume, front_size, elapsed FROM history "
            "ORDER BY generation"
        ).fetchall()

    def commit_generation(
        self, records: list[TrialRecord], history: tuple[int, int, float, int, float]
    ) -> None:
        """Write a generation's new trials and its history row atomically."""
        with self._db:
            self._db.executemany(
                "INSERT INTO trials VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.trial,
                        r.generation,
                        json.dumps([float(v) for v in r.x]),
                        json.dumps(r.params, default=_json_default),
                        json.dumps(r.results),
                        r.seconds,
                        int(r.cached),
                    )
                    for r in records
                ],
            )
            self._db.execute("INSERT OR REPLACE INTO history VALUES (?, ?, ?, ?, ?)", history)


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot store {type(value).__name__} in a trial")
