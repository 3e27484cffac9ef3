"""Re-ranking model candidates with weighted objectives."""

from paretorec.rerank.reranker import RerankWeights, rerank
from paretorec.rerank.similarity import ItemSimilarity

__all__ = ["ItemSimilarity", "RerankWeights", "rerank"]
