"""Re-ranking model candidates with weighted terms (diversity, novelty, calibration, long
tail, intent, coverage, and plug-ins).

A term is one file, a ``Term`` dataclass with declared parameters, plus one registration:
``@register_term`` on the class (a plug-in module), or a place in ``BUILT_IN`` below.
Registration order is the order of the terms in the built-in search space.
"""

from paretorec.rerank.calibration import Calibration
from paretorec.rerank.coverage import Coverage
from paretorec.rerank.diversity import Diversity
from paretorec.rerank.intent import Intent
from paretorec.rerank.longtail import LongTail
from paretorec.rerank.novelty import Novelty
from paretorec.rerank.pool import CandidatePool
from paretorec.rerank.reranker import POOL, Reranked, RerankSettings, costliest, rerank
from paretorec.rerank.term import TERMS, BonusTerm, PickTerm, Term, build_term, register_term

BUILT_IN = (Diversity, Novelty, Calibration, LongTail, Intent, Coverage)
for _cls in BUILT_IN:
    register_term(_cls)

__all__ = [
    "POOL",
    "TERMS",
    "BonusTerm",
    "Calibration",
    "CandidatePool",
    "Coverage",
    "Diversity",
    "Intent",
    "LongTail",
    "Novelty",
    "PickTerm",
    "RerankSettings",
    "Reranked",
    "Term",
    "build_term",
    "costliest",
    "register_term",
    "rerank",
]
