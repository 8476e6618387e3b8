"""Hybrid retrieval: Chroma vector search fused with BM25 (llama-index's fusion retriever).

On this collection BM25 alone puts the right paper first for most specific questions (rare
terms, numbers, method names) and MiniLM alone does not; paraphrased questions are the reverse.
The fusion keeps what either ranks high (see `_retriever` for the mode and weights chosen).

The BM25 side is the persistent lexical index of rag/storage/lexical.py: loaded from disk at start,
and reloaded when the collection's version stamp changes (an index run here or in another process),
never rebuilt from scratch because the chunk count changed. With the embedded store, a stamp this
process did not write also reopens the store (`Store.reopen`): chromadb keeps the vectors in memory
per process and would not see the other process's writes (`rag index --watch` beside a server).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from chromadb.errors import InternalError
from llama_index.core import VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
from llama_index.core.retrievers.fusion_retriever import FUSION_MODES
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from llama_index.vector_stores.chroma import ChromaVectorStore

from rag.core.errors import StoreError
from rag.core.settings import Settings
from rag.core.types import Passage
from rag.ingest.guard import redact
from rag.ingest.sources import stored_label, stored_page
from rag.storage.chroma import Store
from rag.storage.embeddings import make_embedding
from rag.storage.lexical import PENDING_RECHECK_S, LexicalIndex, LexicalVersions, is_final

MODES = ("hybrid", "vector", "bm25")
MID_WRITE_RETRIES = 3  # reads again after 0.2, 0.4, 0.6 s (Retriever.retrieve)
log = logging.getLogger(__name__)


class HybridRetriever:
    """Vector, BM25 or fused retrieval over the store, returning scored `Passage`s."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.embed_model = make_embedding(settings.embedding)
        self._vector_index = self._vector_index_of(store.collection)
        self.versions = LexicalVersions(settings, store)
        # The stamp as the store was opened: another process's change after it means reopening.
        self._seen_version = self.versions.current() if settings.store.mode == "embedded" else ""
        self.lexical: LexicalIndex | None = None
        self._checked_at = -math.inf  # when the version stamp was last read
        self._synced_at = -math.inf  # when an unversioned index was last brought up to date
        self._lock = threading.Lock()

    @property
    def doc_freq(self) -> Counter[str]:
        """Chunks holding each content token, as of the lexical index in use."""
        return self.lexical.doc_freq if self.lexical is not None else Counter()

    @property
    def n_chunks(self) -> int:
        return self.lexical.n if self.lexical is not None else 0

    def _vector_index_of(self, collection: Any) -> VectorStoreIndex:
        self._vector_collection = collection
        return VectorStoreIndex.from_vector_store(
            ChromaVectorStore(chroma_collection=collection), embed_model=self.embed_model
        )

    def _follow(self, version: str | None) -> None:
        """A stamp this process did not write, in an embedded store: another process wrote to
        it, so the store is opened afresh to see its vectors (`Store.reopen`)."""
        seen, self._seen_version = self._seen_version, version
        if self.settings.store.mode != "embedded" or version == seen:
            return
        if not self.store.wrote(version):
            self.store.reopen()

    def invalidate(self) -> None:
        """Read the version stamp again on the next request (the collection changed here)."""
        with self._lock:
            self._checked_at = self._synced_at = -math.inf

    def fresh_lexical(self) -> LexicalIndex | None:
        """The lexical index of the collection as it is now: the stamp is read (at most every
        `retrieval.version_check_s`); a new final version is loaded from disk, or brought up to
        date from the store and saved when no process has saved it yet."""
        with self._lock:
            now = time.monotonic()
            held = self.lexical
            if (
                held is not None
                and now - self._checked_at < self.settings.retrieval.version_check_s
            ):
                return held
            version = self.versions.current()
            self._follow(version)
            self._checked_at = now
            if held is not None and held.version == version and is_final(version):
                return held
            if is_final(version):
                self.lexical = self._final(str(version), now)
            else:
                self.lexical = self._unversioned(version, now)
            return self.lexical

    def _final(self, version: str, now: float) -> LexicalIndex:
        index = self.versions.obtain(version, base=self.lexical)
        if index.origin != "loaded":
            self._synced_at = now
        return index

    def _unversioned(self, version: str | None, now: float) -> LexicalIndex:
        """A run is writing (`pending-…`), was killed mid-run (the next run resumes it), or the
        store predates version stamps: the index is brought up to date in memory only, again
        when the chunk count changes, at most every PENDING_RECHECK_S."""
        held = self.lexical
        if (
            held is not None
            and held.version == version
            and (now - self._synced_at < PENDING_RECHECK_S or self.store.count() == held.n)
        ):
            return held
        self._synced_at = now
        return LexicalIndex.from_store(self.store, version, held or self.versions.newest())

    def idf(self) -> Callable[[str], float]:
        """Inverse document frequency of a content token over the collection's chunks, as of
        the last `retrieve` (which checks the collection; no second read on a question's path)."""
        if self.lexical is None:
            self.fresh_lexical()
        df, n = self.doc_freq, max(1, self.n_chunks)
        return lambda token: math.log(1.0 + n / (1.0 + df.get(token, 0)))

    def _retriever(
        self, mode: str, top_k: int, bm25: LexicalRetriever | None
    ) -> BaseRetriever | None:
        vector = self._vector_index.as_retriever(similarity_top_k=top_k)
        if mode == "vector" or bm25 is None:
            return vector
        if mode == "bm25":
            return bm25
        # Distribution-based score fusion (each retriever's scores standardised, then weighted)
        # rather than reciprocal rank fusion: RRF treats BM25's confident first hit like any
        # first hit, and on eval/dev.jsonl lost BM25's right answer on 7% of questions (hit@1
        # 0.916 vs 0.986); weighted 0.6/0.4 the fusion beats both (hit@1 0.993, recall@5 0.993).
        w = self.settings.retrieval.bm25_weight
        return QueryFusionRetriever(
            [bm25, vector],
            mode=FUSION_MODES.DIST_BASED_SCORE,
            retriever_weights=[w, 1.0 - w],
            similarity_top_k=top_k,
            num_queries=1,  # no LLM query expansion: the question is searched as asked
            use_async=False,
            llm=MockLLM(),  # never called with num_queries=1; avoids resolving a default LLM
        )

    def retrieve(self, question: str, k: int = 5, mode: str | None = None) -> list[Passage]:
        mode = mode or self.settings.retrieval.mode
        if mode not in MODES:
            raise ValueError(f"retrieval mode must be one of {', '.join(MODES)}, not {mode!r}")
        for attempt in range(MID_WRITE_RETRIES + 1):
            try:
                return self._retrieve(question, k, mode)
            except InternalError as e:
                # An embedded store read while another process (`rag index`, `--watch`) is
                # writing it: the chunk's record is there, its vector not yet ("Error finding
                # id"). Chroma gives no cross-process read lock, so: reopen, wait, read again.
                if self.settings.store.mode != "embedded" or "finding id" not in str(e):
                    raise
                if attempt == MID_WRITE_RETRIES:
                    raise StoreError(
                        "The index is being written by another process right now; "
                        "ask again in a moment."
                    ) from e
                log.info("store read during another process's write; reading again")
                time.sleep(0.2 * (attempt + 1))
                with self._lock:
                    self.store.reopen()
                    self._checked_at = self._synced_at = -math.inf
        raise AssertionError("unreachable")

    def _retrieve(self, question: str, k: int, mode: str) -> list[Passage]:
        # No count on a question's path (it grows with the store: 8-26 ms at 100k chunks):
        # an empty collection gives no vector hits, and the lexical index knows its size.
        lexical = None
        if mode != "vector":
            lexical = self.fresh_lexical()  # one metadata read: the version stamp
            if lexical is None or lexical.n == 0:
                return []
        elif self.settings.store.mode == "embedded":
            with self._lock:  # the stamp, for a change made by another process
                self._follow(self.versions.current())
        if self.store.collection is not self._vector_collection:  # reopened
            self._vector_index = self._vector_index_of(self.store.collection)
        q_emb = self.embed_model.get_query_embedding(question)
        depth = max(k, self.settings.retrieval.candidates)
        bm25 = LexicalRetriever(lexical, self.store, depth) if lexical is not None else None
        retriever = self._retriever(mode, depth, bm25)
        if retriever is None:
            return []
        results = retriever.retrieve(QueryBundle(question, embedding=q_emb))[:k]
        return self._to_passages(results, q_emb, mode, bm25.embeddings if bm25 else {})

    def _to_passages(
        self,
        results: list[NodeWithScore],
        q_emb: list[float],
        mode: str,
        known: dict[str, Any] | None = None,
    ) -> list[Passage]:
        """`known`: vectors already read with the BM25 hits (no second read for those)."""
        known = known or {}
        ids = [r.node.node_id for r in results]
        embs = {**self.store.get_embeddings([i for i in ids if i not in known]), **known}
        q = np.asarray(q_emb, dtype=np.float32)
        passages = []
        for r in results:
            meta: dict[str, Any] = r.node.metadata
            emb = embs.get(r.node.node_id)
            cos = float(np.dot(q, np.asarray(emb, dtype=np.float32))) if emb is not None else None
            passages.append(
                Passage(
                    # a sentence that instructs the model leaves here as a marked removal:
                    # no lead, snippet, prompt, API passage or UI card can quote it
                    text=redact(r.node.get_content()),
                    score=float(r.score or 0.0),
                    title=redact(str(meta.get("title", ""))),
                    source=str(meta.get("source", "")),
                    sources=_json_list(meta.get("sources")),
                    doc_id=str(meta.get("doc_id", "")),
                    chunk_id=r.node.node_id,
                    vector_score=cos,
                    bm25_score=float(r.score or 0.0) if mode == "bm25" else None,
                    page=stored_page(meta),
                    section=redact(str(meta.get("section") or "")),
                    label=stored_label(meta),
                )
            )
        return passages


class LexicalRetriever(BaseRetriever):
    """The lexical index as a llama-index retriever: BM25 hits, their nodes read from the store
    (a chunk deleted since the index was built is left out), with their vectors (`embeddings`,
    for the passages' cosine similarity: read in the same call)."""

    def __init__(self, index: LexicalIndex, store: Store, similarity_top_k: int) -> None:
        super().__init__()
        self.index = index
        self.store = store
        self.similarity_top_k = similarity_top_k
        self.embeddings: dict[str, Any] = {}

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.index.search(query_bundle.query_str, self.similarity_top_k)
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
        for chunk_id, score in hits:
            if chunk_id in rows:
                text, meta = rows[chunk_id]
                node = metadata_dict_to_node(dict(meta or {}), text=text)
                out.append(NodeWithScore(node=node, score=score))
        return out


def _json_list(value: Any) -> list[str]:
    import json

    try:
        out = json.loads(value) if isinstance(value, str) else []
    except ValueError:
        out = []
    return [str(v) for v in out] if isinstance(out, list) else []
