"""Re-ranking model candidates with weighted objectives."""

from paretorec.rerank.pool import CandidatePool
from paretorec.rerank.reranker import Reranked, RerankWeights, rerank
from paretorec.rerank.similarity import ItemSimilarity

__all__ = ["CandidatePool", "ItemSimilarity", "RerankWeights", "Reranked", "rerank"]
