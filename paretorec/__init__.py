"""paretorec: multi-objective tuning of recommenders, from interactions to an exported point.

The Python API::

    import paretorec
    config = paretorec.load_config("experiments/ml100k.toml")
    result = paretorec.tune(config)                  # in memory; out="runs/x" writes a run
    selection = result.select("knee")                # or "utopia", weights=[2, 1, 1], ...
    selection.export("chosen.json")
    rec = paretorec.recommender(paretorec.load_operating_point("chosen.json"))
    rec.recommend(k=10)                              # DataFrame: user, item, rank, score
"""

from paretorec import report
from paretorec._version import __version__
from paretorec.config import (
    DataConfig,
    EvaluationConfig,
    ExperimentConfig,
    ObjectiveConfig,
    SearchConfig,
    SplitConfig,
    load_config,
)
from paretorec.errors import (
    ConfigError,
    DataError,
    DataWarning,
    ParetoRecError,
    UnknownNameError,
)
from paretorec.export import OperatingPoint, Recommender, recommender
from paretorec.export import load_point as load_operating_point
from paretorec.plugins import REGISTRIES
from paretorec.result import Result, Selection
from paretorec.tuning import check, tune

__all__ = [
    "REGISTRIES",
    "ConfigError",
    "DataConfig",
    "DataError",
    "DataWarning",
    "EvaluationConfig",
    "ExperimentConfig",
    "ObjectiveConfig",
    "OperatingPoint",
    "ParetoRecError",
    "Recommender",
    "Result",
    "SearchConfig",
    "Selection",
    "SplitConfig",
    "UnknownNameError",
    "__version__",
    "check",
    "load_config",
    "load_operating_point",
    "recommender",
    "report",
    "tune",
]
