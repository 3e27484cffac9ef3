"""The recommender study: a config bound to data, as the problem the search engine solves.

``plan`` checks a config without data; ``Pipeline`` turns a candidate into lists and metric
values with every cache a search reuses; ``Study`` is the engine's problem.
"""

from paretorec.study.candidate import Candidate
from paretorec.study.pipeline import Pipeline, RankedLists
from paretorec.study.plan import Plan, default_space, plan
from paretorec.study.study import Study, StudyRecipe

__all__ = [
    "Candidate",
    "Pipeline",
    "Plan",
    "RankedLists",
    "Study",
    "StudyRecipe",
    "default_space",
    "plan",
]
