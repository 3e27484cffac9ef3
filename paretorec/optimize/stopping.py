"""When a search stops: a small set of rules, checked before each generation.

The run stops at whichever rule fires first:

- ``Generations(n)``: after n generations;
- ``Evaluations(n)``: after exactly n evaluations (the last generation is cut short);
- ``WallTime(seconds)``: once the search has spent that long evaluating (summed over
  sessions of a resumed run);
- ``Stagnation(n)``: after n generations in a row without a hypervolume gain.

Rules that depend on the clock or on the search's progress never cut a replay short: the
stored generations of a resumed run are its past, not this session's choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from paretorec.config import SearchConfig

HV_TOLERANCE = 1e-9  # a hypervolume gain below this does not reset the stagnation count


@dataclass(frozen=True)
class Progress:
    """Where the run is, as the rules see it before the next generation."""

    generations: int
    evaluations: int
    elapsed: float  # seconds of evaluation, this and earlier sessions
    stale: int  # generations in a row without a hypervolume gain
    replaying: bool  # the next generation is stored already (a resumed run)


class StopRule(Protocol):
    def reason(self, progress: Progress) -> str | None:
        """Why the run stops now, or None to go on."""
        ...


@dataclass(frozen=True)
class Generations:
    limit: int

    def reason(self, progress: Progress) -> str | None:
        return f"{self.limit} generations" if progress.generations >= self.limit else None


@dataclass(frozen=True)
class Evaluations:
    limit: int

    def reason(self, progress: Progress) -> str | None:
        return f"{self.limit} evaluations" if progress.evaluations >= self.limit else None

    def remaining(self, progress: Progress) -> int:
        return self.limit - progress.evaluations


@dataclass(frozen=True)
class WallTime:
    seconds: float

    def reason(self, progress: Progress) -> str | None:
        if progress.replaying or progress.elapsed < self.seconds:
            return None
        return f"{self.seconds:g} s of evaluation"


@dataclass(frozen=True)
class Stagnation:
    generations: int

    def reason(self, progress: Progress) -> str | None:
        if progress.replaying or progress.stale < self.generations:
            return None
        return f"{self.generations} generations without a hypervolume gain"


def rules(search: SearchConfig) -> list[StopRule]:
    """The rules a search config asks for (the evaluation budget always applies)."""
    out: list[StopRule] = [Generations(search.generations), Evaluations(search.budget)]
    if search.max_seconds is not None:
        out.append(WallTime(search.max_seconds))
    if search.stagnation is not None:
        out.append(Stagnation(search.stagnation))
    return out
