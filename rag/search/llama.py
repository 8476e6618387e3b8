"""The retrieval of rag/search/retrieval.py through llama-index's retrievers.

Not on a question's path (see rag/search/retrieval.py for why): the reference the lean path is
tested against, and the retriever interface for callers that compose llama-index retrievers.
Imported only when used: llama-index takes seconds to import (bench/results/cold_start.json).
"""

from __future__ import annotations

from typing import Any

from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.storage.chroma import Store
from rag.storage.lexical import LexicalIndex


def vector_index(collection: Any, embed_model: BaseEmbedding) -> VectorStoreIndex:
    return VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=collection), embed_model=embed_model
    )


def fusion_retriever(
    retrievers: list[BaseRetriever], weights: list[float], top_k: int
) -> QueryFusionRetriever:
    """Distribution-based score fusion (rag.search.retrieval.fuse says why)."""
    return QueryFusionRetriever(
        retrievers,
        mode=FUSION_MODES.DIST_BASED_SCORE,
        retriever_weights=weights,
        similarity_top_k=top_k,
        num_queries=1,  # no LLM query expansion: the question is searched as asked
        use_async=False,
        llm=MockLLM(),  # never called with num_queries=1; avoids resolving a default LLM
    )


class LexicalRetriever(BaseRetriever):
    """The lexical index as a llama-index retriever: BM25 hits (through bm25s's own `retrieve`),
    their nodes read from the store (a chunk deleted since the index was built is left out), with
    their vectors (`embeddings`, for the passages' cosine similarity: read in the same call)."""

    def __init__(self, index: LexicalIndex, store: Store, similarity_top_k: int) -> None:
        super().__init__()
        self.index = index
        self.store = store
        self.similarity_top_k = similarity_top_k
        self.embeddings: dict[str, Any] = {}
        self.scores: dict[str, float] = {}  # chunk id -> its BM25 score, of the last search

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.index.search_bm25s(query_bundle.query_str, self.similarity_top_k)
        if not hits:
            return []
        got = self.store.collection.get(
            ids=[chunk_id for chunk_id, _ in hits],
            include=["documents", "metadatas", "embeddings"],  # type: ignore[list-item]
        )
        docs = got["documents"] or []
        metas = got["metadatas"] or []
        embs = got.get("embeddings")
        if embs is not None:
            self.embeddings = dict(zip(got["ids"], embs, strict=False))
        rows = {i: (d, m) for i, d, m in zip(got["ids"], docs, metas, strict=False)}
        out = []
        self.scores = {chunk_id: float(score) for chunk_id, score in hits if chunk_id in rows}
        for chunk_id, score in hits:
            if chunk_id in rows:
                text, meta = rows[chunk_id]
                node = metadata_dict_to_node(dict(meta or {}), text=text)
                out.append(NodeWithScore(node=node, score=score))
        return out
