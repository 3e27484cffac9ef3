"""A progress bar for a run on a terminal (tqdm; silent when output is not a terminal)."""

from __future__ import annotations

from tqdm import tqdm

from paretorec.optimize.engine import Observer, RunOutcome, RunState
from paretorec.optimize.store import HistoryRow, TrialRecord


class ProgressBar(Observer):
    """One tick per evaluation (replayed ones included), the hypervolume after each
    generation."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None

    def started(self, state: RunState) -> None:
        self.bar = tqdm(total=state.search.budget, unit="eval", desc="tune", disable=None)

    def trial(self, state: RunState, record: TrialRecord, replayed: bool) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def generation(self, state: RunState, records: list[TrialRecord], row: HistoryRow) -> None:
        if self.bar is not None:
            self.bar.set_postfix(hv=f"{row[2]:.4f}")

    def finished(self, state: RunState, outcome: RunOutcome) -> None:
        if self.bar is not None:
            self.bar.close()
