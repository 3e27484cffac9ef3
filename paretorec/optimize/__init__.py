"""The search: algorithms by name, the durable trial store and the run loop."""

from paretorec.optimize import tpe as _tpe  # noqa: F401  (registers `tpe`)
from paretorec.optimize.algorithms import ALGORITHMS
from paretorec.optimize.run import run_search
from paretorec.optimize.store import TrialRecord, TrialStore

__all__ = ["ALGORITHMS", "TrialRecord", "TrialStore", "run_search"]
