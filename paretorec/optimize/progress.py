"""Progress of a run for a person: a tqdm bar on a terminal, plain lines anywhere else (a log
file, CI), where a bar's carriage returns would be noise."""

from __future__ import annotations

import math
import sys
from typing import TextIO

from tqdm import tqdm

from paretorec.optimize.engine import Observer, RunOutcome, RunState
from paretorec.optimize.store import HistoryRow, TrialRecord

# At most about this many progress lines per run: a sequential search (one evaluation per
# generation) would otherwise print one line per evaluation.
MAX_LINES = 40


def elapsed_text(seconds: float) -> str:
    """``1h 02m``, ``3m 07s``, ``12.4s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def progress_line(state: RunState, row: HistoryRow) -> str:
    """One generation's progress: ``tune: generation 3/10, 60/200 evaluations, 1m 02s,
    hypervolume 0.004123, front 17 points``."""
    generation, evaluations, hv, front, seconds = row
    search = state.search
    replayed = min(state.previous, evaluations)
    again = f" ({replayed} replayed from the store)" if replayed else ""
    return (
        f"tune: generation {generation}/{search.generations}, {evaluations}/{search.budget} "
        f"evaluations{again}, {elapsed_text(seconds)}, hypervolume {hv:.4g}, "
        f"front {front} point{'s' if front != 1 else ''}"
    )


class ProgressBar(Observer):
    """One tick per evaluation (replayed ones included) and the hypervolume after each
    generation on a terminal; elsewhere a line per generation (every ``n``-th generation
    when there are more than ``MAX_LINES``, and always the last) on ``stream``.

    Args:
        stream: Where the lines go (default: stdout); a bar is drawn only when it is a
            terminal.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.bar: tqdm | None = None
        self.every = 1
        self.last: HistoryRow | None = None
        self.printed: HistoryRow | None = None

    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def started(self, state: RunState) -> None:
        if self._out().isatty():
            self.bar = tqdm(total=state.search.budget, unit="eval", desc="tune")
        self.every = max(1, math.ceil(state.search.generations / MAX_LINES))

    def trial(self, state: RunState, record: TrialRecord, replayed: bool) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def generation(self, state: RunState, records: list[TrialRecord], row: HistoryRow) -> None:
        self.last = row
        if self.bar is not None:
            self.bar.set_postfix(hv=f"{row[2]:.4g}")
        elif row[0] % self.every == 0 or row[0] == 1:
            self._print(state, row)

    def _print(self, state: RunState, row: HistoryRow) -> None:
        out = self._out()
        out.write(progress_line(state, row) + "\n")
        out.flush()  # a log shows it now, not when a buffer fills
        self.printed = row

    def finished(self, state: RunState, outcome: RunOutcome) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.last is not None and self.printed != self.last:
            self._print(state, self.last)
