"""The search engine: a problem, an algorithm by name, stopping rules, a store, observers."""

from paretorec.optimize import tpe as _tpe  # noqa: F401  (registers `tpe`)
from paretorec.optimize.algorithms import ALGORITHMS
from paretorec.optimize.engine import Observer, RunOutcome, RunState, run
from paretorec.optimize.problem import Problem, Recipe
from paretorec.optimize.store import MemoryStore, TrialRecord, TrialStore

__all__ = [
    "ALGORITHMS",
    "MemoryStore",
    "Observer",
    "Problem",
    "Recipe",
    "RunOutcome",
    "RunState",
    "TrialRecord",
    "TrialStore",
    "run",
]
