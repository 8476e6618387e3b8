"""Hybrid retrieval: Chroma vector search fused with BM25 (distribution-based score fusion).

On this collection BM25 alone puts the right paper first for most specific questions (rare
terms, numbers, method names) and MiniLM alone does not; paraphrased questions are the reverse.
The fusion keeps what either ranks high (see `fuse` for the mode and weights chosen).

Two paths compute the same passages (same chunks, order and scores: tests/search/
test_lean_retrieval.py). The question's path (`_retrieve_lean`) calls Chroma twice (the vector
query for ids and distances, then one `get` of the k passages' rows), scores BM25 straight on
the lexical index's arrays and fuses plain (id, score) lists; the rows of passages shown
before under the same version stamp come from memory (`RowCache`), so a repeated passage costs
one Chroma call, the vector query. The llama-index path
(`_retrieve_llama`: `QueryFusionRetriever` over the vector index and `LexicalRetriever`) is the
reference it is tested against and the retriever interface for llama-index callers; it is not on
the question's path because there it only adds cost: dispatcher and callback wrappers around
each sub-retriever (~1 ms), 40 candidate nodes rebuilt from JSON through pydantic of which 5 are
used (~2 ms), and a Chroma read of the 20 BM25 candidates' texts, metadata and vectors (~3 ms):
together ~13 ms a question against a ~12 ms embedding (bench/results/retrieval.json).

The BM25 side is the persistent lexical index of rag/storage/lexical.py: loaded from disk at start,
and reloaded when the collection's version stamp changes (an index run here or in another process),
never rebuilt from scratch because the chunk count changed. The stamp is not read on every
question: a writer on this host also pushes it to a small file that a reader reads instead
(`LexicalVersions.signal`, ~10 µs), and the collection's stamp itself is read at most every
`retrieval.version_check_s` (a writer on another host, with a shared Chroma server). With the
embedded store, a stamp this process did not write also reopens the store (`Store.reopen`):
chromadb keeps the vectors in memory per process and would not see the other process's writes
(`rag index --watch` beside a server).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from chromadb.errors import InternalError

from rag.core.errors import StoreError
from rag.core.settings import Settings
from rag.core.types import Passage
from rag.ingest.guard import redact
from rag.ingest.sources import stored_label, stored_page
from rag.storage.chroma import Store
from rag.storage.embeddings import TextVectors, make_embedding, query_embedding
from rag.storage.lexical import PENDING_RECHECK_S, LexicalIndex, LexicalVersions, is_final

MODES = ("hybrid", "vector", "bm25")
TEXT_VECTORS = 20_000  # sentence vectors kept (~30 MB): the shipped collection has ~6,000
MID_WRITE_RETRIES = 3  # reads again after 0.2, 0.4, 0.6 s (Retriever.retrieve)
log = logging.getLogger(__name__)

Hit = tuple[str, float]  # (chunk id, score)
Row = tuple[str | None, Mapping[str, Any] | None, Any]  # a chunk's text, metadata, vector


class HybridRetriever:
    """Vector, BM25 or fused retrieval over the store, returning scored `Passage`s.

    `lean` (default True): the question's path of the module docstring; False: the same
    retrieval through llama-index's retrievers (the reference, `_retrieve_llama`)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.embed_model = query_embedding(settings.embedding)  # no llama-index (see there)
        # the passages' sentences, as answering weighs them (rag/storage/embeddings.py)
        self.embed_texts = TextVectors(self.embed_model.get_text_embedding_batch, TEXT_VECTORS)
        self.lean = True
        self._vector_index: Any = None  # llama-index's, built on the first `_retrieve_llama`
        self._vector_collection: Any = None
        self.versions = LexicalVersions(settings, store)
        # The stamp as the store was opened: another process's change after it means reopening.
        self._seen_version = self.versions.current() if settings.store.mode == "embedded" else ""
        self.lexical: LexicalIndex | None = None
        self._stamp: str | None = None  # the collection's stamp, as last read
        self._signal = self.versions.signal()  # the stamp this host's writers pushed, as last read
        self._checked_at = -math.inf  # when the version stamp was last read
        self._synced_at = -math.inf  # when an unversioned index was last brought up to date
        self._lock = threading.Lock()
        self.rows = RowCache(settings.retrieval.row_cache)

    @property
    def doc_freq(self) -> Counter[str]:
        """Chunks holding each content token, as of the lexical index in use."""
        return self.lexical.doc_freq if self.lexical is not None else Counter()

    @property
    def n_chunks(self) -> int:
        return self.lexical.n if self.lexical is not None else 0

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

    def _stamp_due(self, now: float) -> bool:
        """Whether to read the collection's stamp now: a writer on this host pushed another one
        (`LexicalVersions.signal`: a small file read, no store call), or
        `retrieval.version_check_s` passed since the last read (a writer elsewhere)."""
        signal = self.versions.signal()
        if signal != self._signal:
            self._signal = signal
            return True
        return now - self._checked_at >= self.settings.retrieval.version_check_s

    def _version(self, now: float) -> str | None:
        """The collection's stamp: read when due (`_stamp_due`), else the one last read. Called
        with the lock held."""
        if self._stamp_due(now):
            self._stamp = self.versions.current()
            self._checked_at = now
            self._follow(self._stamp)
        return self._stamp

    def fresh_lexical(self) -> LexicalIndex | None:
        """The lexical index of the collection as it is now (as of the stamp, `_version`): a new
        final version is loaded from disk, or brought up to date from the store and saved when
        no process has saved it yet."""
        with self._lock:
            now = time.monotonic()
            held = self.lexical
            version = self._version(now)
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
        if index.version != version:  # the stamp changed while the store was read: read it again
            self._checked_at = -math.inf
        return index

    def _unversioned(self, version: str | None, now: float) -> LexicalIndex:
        """A run is writing (`pending-…`), was killed mid-run (the next run resumes it), or the
        store predates version stamps: the index is brought up to date in memory only, again
        when the chunk count changes, read at most every PENDING_RECHECK_S."""
        held = self.lexical
        if held is not None and held.version == version:
            if now - self._synced_at < PENDING_RECHECK_S:
                return held
            self._synced_at = now
            if self.store.count() == held.n:
                return held
        self._synced_at = now
        return LexicalIndex.from_store(self.store, version, held or self.versions.newest())

    def _index_is_store(self, lexical: LexicalIndex) -> bool:
        """Whether `lexical` indexes exactly what the store holds, as of the last stamp read:
        then every BM25 hit is a chunk of the store, and is not looked up before fusion."""
        return is_final(lexical.version) and lexical.version == self._stamp

    def idf(self) -> Callable[[str], float]:
        """Inverse document frequency of a content token over the collection's chunks, as of
        the last `retrieve` (which checks the collection; no second read on a question's path)."""
        if self.lexical is None:
            self.fresh_lexical()
        df, n = self.doc_freq, max(1, self.n_chunks)
        return lambda token: math.log(1.0 + n / (1.0 + df.get(token, 0)))

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
            lexical = self.fresh_lexical()  # the stamp, when due (`_version`)
            if lexical is None or lexical.n == 0:
                return []
        else:
            with self._lock:  # the stamp, for a change made by another process
                self._version(time.monotonic())
        q_emb = self.embed_model.get_query_embedding(question)
        depth = max(k, self.settings.retrieval.candidates)
        if self.lean:
            return self._retrieve_lean(question, q_emb, k, mode, depth, lexical)
        return self._retrieve_llama(question, q_emb, k, mode, depth, lexical)

    # -- the question's path ---------------------------------------------------------------------

    def _retrieve_lean(
        self,
        question: str,
        q_emb: list[float],
        k: int,
        mode: str,
        depth: int,
        lexical: LexicalIndex | None,
    ) -> list[Passage]:
        """Ids and scores from both sides, fused, then the k passages' rows in one Chroma call.
        A BM25 hit the store no longer holds (deleted since the lexical index was built) is
        left out before fusion, as the llama-index path leaves it out: looked up first when the
        index may lag the store, found missing among the k rows otherwise."""
        collection = self.store.collection
        bm25 = lexical.search(question, depth) if lexical is not None else []
        vector = [] if mode == "bm25" else _vector_hits(collection, q_emb, depth)
        if bm25 and lexical is not None and not self._index_is_store(lexical):
            bm25 = _held(collection, bm25)
        rows: dict[str, Row] = {}
        cached = self.rows.of(self._stamp)
        for _ in range(3):
            ranked = self._rank(mode, bm25, vector)[:k]
            wanted = [c for c, _ in ranked if c not in rows]
            rows.update(cached.get(wanted))
            read = _rows(collection, [c for c in wanted if c not in rows])
            cached.put(read)
            rows.update(read)
            missing = {c for c, _ in ranked if c not in rows}
            if not missing:
                break
            bm25 = _held(collection, bm25)  # a chunk deleted under us: drop every such hit
            vector = [h for h in vector if h[0] not in missing]
        lexical_scores = dict(bm25)
        q = np.asarray(q_emb, dtype=np.float32)
        out = []
        for chunk_id, score in ranked:
            if chunk_id not in rows:
                continue
            text, flat, emb = rows[chunk_id]
            cos = float(np.dot(q, np.asarray(emb, dtype=np.float32))) if emb is not None else None
            meta = _node_metadata(flat)
            out.append(
                _passage(chunk_id, text or "", meta, score, cos, lexical_scores.get(chunk_id))
            )
        return out

    def _rank(self, mode: str, bm25: list[Hit], vector: list[Hit]) -> list[Hit]:
        if mode == "vector":
            return vector
        if mode == "bm25":
            return bm25
        w = self.settings.retrieval.bm25_weight
        return fuse([(bm25, w), (vector, 1.0 - w)])

    # -- the llama-index path (the reference; llama-index callers) -------------------------------

    def _retrieve_llama(
        self,
        question: str,
        q_emb: list[float],
        k: int,
        mode: str,
        depth: int,
        lexical: LexicalIndex | None,
    ) -> list[Passage]:
        from llama_index.core.schema import QueryBundle

        from rag.search.llama import LexicalRetriever, fusion_retriever, vector_index

        if self._vector_index is None or self.store.collection is not self._vector_collection:
            self._vector_collection = self.store.collection  # opened, or reopened
            embedding = make_embedding(self.settings.embedding)  # the same session
            self._vector_index = vector_index(self.store.collection, embedding)
        vector = self._vector_index.as_retriever(similarity_top_k=depth)
        bm25 = LexicalRetriever(lexical, self.store, depth) if lexical is not None else None
        if mode == "vector" or bm25 is None:
            retriever = vector
        elif mode == "bm25":
            retriever = bm25
        else:
            w = self.settings.retrieval.bm25_weight
            retriever = fusion_retriever([bm25, vector], [w, 1.0 - w], depth)
        results = retriever.retrieve(QueryBundle(question, embedding=q_emb))[:k]
        known = bm25.embeddings if bm25 else {}
        lexical_scores = bm25.scores if bm25 else {}
        ids = [r.node.node_id for r in results]
        embs = {**self.store.get_embeddings([i for i in ids if i not in known]), **known}
        q = np.asarray(q_emb, dtype=np.float32)
        out = []
        for r in results:
            emb = embs.get(r.node.node_id)
            cos = float(np.dot(q, np.asarray(emb, dtype=np.float32))) if emb is not None else None
            chunk_id = r.node.node_id
            out.append(
                _passage(
                    chunk_id,
                    r.node.get_content(),
                    r.node.metadata,
                    float(r.score or 0.0),
                    cos,
                    lexical_scores.get(chunk_id),
                )
            )
        return out


class RowCache:
    """Passage rows already read, for one version stamp of the collection: a question whose
    passages were shown before builds them without a second Chroma call. A new stamp (any
    write, here or in another process, noticed as the lexical index notices it) empties it, so
    a row is never older than the lexical index it is ranked with; an unversioned collection (a
    run writing, or one that predates stamps) is never cached. Like the lexical index, it
    trusts the stamp: a chunk deleted with no stamp written (not by rag, which always writes
    one) may still be shown from here until the next stamp; `retrieval.row_cache = 0` reads
    every row. Least recently used rows leave
    first beyond `size`. (A dict by hand: functools' caches key on arguments, not on a stamp
    that expires them all at once.)"""

    def __init__(self, size: int) -> None:
        self.size = size
        self.version: str | None = None
        self._rows: OrderedDict[str, Row] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, version: str | None) -> RowCache:
        """This cache, emptied unless it holds rows of `version` (a final stamp)."""
        with self._lock:
            if version != self.version or not is_final(version):
                self._rows.clear()
                self.version = version
        return self

    def get(self, ids: list[str]) -> dict[str, Row]:
        if not self.size or not is_final(self.version):
            return {}
        with self._lock:
            found = {c: self._rows[c] for c in ids if c in self._rows}
            for c in found:
                self._rows.move_to_end(c)
        return found

    def put(self, rows: dict[str, Row]) -> None:
        if not self.size or not is_final(self.version):
            return
        with self._lock:
            for c, (text, meta, emb) in rows.items():
                # float32, as the cosine is computed: half the memory of Chroma's float64
                self._rows[c] = (text, meta, None if emb is None else np.asarray(emb, np.float32))
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._rows)


def fuse(weighted: list[tuple[list[Hit], float]]) -> list[Hit]:
    """Distribution-based score fusion, as llama-index's `QueryFusionRetriever` computes it
    (FUSION_MODES.DIST_BASED_SCORE, one query): each list's scores scaled to [0, 1] between its
    mean ± 3 standard deviations, times its weight, summed per chunk; best first, ties in the
    order the lists found them. Same float operations in the same order, so the same scores.
    (llama-index merges two hits by their node's content hash, this by chunk id: they differ
    only for two chunks of identical text and metadata.)

    Why not reciprocal rank fusion: RRF treats BM25's confident first hit like any first hit,
    and on eval/dev.jsonl lost BM25's right answer on 7% of questions (hit@1 0.916 vs 0.986);
    weighted 0.6/0.4 (`retrieval.bm25_weight`) the fusion beats both (hit@1 0.993, recall@5
    0.993)."""
    fused: dict[str, float] = {}
    for hits, weight in weighted:
        if not hits:
            continue
        scores = [s for _, s in hits]
        mean = sum(scores) / len(scores)
        std = (sum((x - mean) ** 2 for x in scores) / len(scores)) ** 0.5
        low, high = mean - 3 * std, mean + 3 * std
        for chunk_id, score in hits:
            scaled = (score - low) / (high - low) if high != low else float(high > 0)
            scaled = scaled * weight
            fused[chunk_id] = fused[chunk_id] + scaled if chunk_id in fused else scaled
    return sorted(fused.items(), key=lambda hit: hit[1], reverse=True)


def _vector_hits(collection: Any, q_emb: list[float], depth: int) -> list[Hit]:
    """The nearest chunks: ids and llama-index's similarity (exp(-distance)), no rows read."""
    got = collection.query(query_embeddings=[q_emb], n_results=depth, include=["distances"])
    ids, distances = got["ids"][0], (got["distances"] or [[]])[0]
    return [(c, math.exp(-d)) for c, d in zip(ids, distances, strict=True)]


def _held(collection: Any, hits: list[Hit]) -> list[Hit]:
    """The hits whose chunk the store holds (ids only: no row read). None to check (a vector-only
    search, whose hit another process deleted, retries with no lexical hits): none held, without
    asking Chroma, which refuses an empty list of ids."""
    if not hits:
        return []
    got = collection.get(ids=[c for c, _ in hits], include=[])
    there = set(got["ids"])
    return [h for h in hits if h[0] in there]


def _rows(collection: Any, ids: list[str]) -> dict[str, Row]:
    """Text, metadata and vector of the chunks `ids` the store holds: one Chroma call."""
    if not ids:
        return {}
    got = collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
    docs = got["documents"] or [None] * len(got["ids"])
    metas = got["metadatas"] or [None] * len(got["ids"])
    embs = got.get("embeddings")
    if embs is None:
        embs = [None] * len(got["ids"])
    return {c: (d, m, e) for c, d, m, e in zip(got["ids"], docs, metas, embs, strict=False)}


def _node_metadata(flat: Mapping[str, Any] | None) -> dict[str, Any]:
    """A chunk's metadata as its llama-index node holds it (what the llama-index path reads):
    the node stored in `_node_content`, without building the node; the flat metadata, less
    llama-index's own keys, when it was stored without one."""
    flat = flat or {}
    raw = flat.get("_node_content")
    if isinstance(raw, str) and raw:
        meta = json.loads(raw).get("metadata")
        if isinstance(meta, dict):
            return meta
    return {k: v for k, v in flat.items() if not k.startswith("_")}


def _passage(
    chunk_id: str,
    text: str,
    meta: Mapping[str, Any],
    score: float,
    cos: float | None,
    bm25_score: float | None,
) -> Passage:
    """`bm25_score`: the chunk's BM25 score when BM25 ranked it among its candidates (in
    hybrid mode, the score the fusion weighed; a chunk only the vector side found has none)."""
    return Passage(
        # a sentence that instructs the model leaves here as a marked removal:
        # no lead, snippet, prompt, API passage or UI card can quote it
        text=redact(text),
        score=score,
        title=redact(str(meta.get("title", ""))),
        source=str(meta.get("source", "")),
        sources=_json_list(meta.get("sources")),
        doc_id=str(meta.get("doc_id", "")),
        chunk_id=chunk_id,
        vector_score=cos,
        bm25_score=bm25_score,
        page=stored_page(dict(meta)),
        section=redact(str(meta.get("section") or "")),
        label=stored_label(dict(meta)),
    )


def _json_list(value: Any) -> list[str]:
    try:
        out = json.loads(value) if isinstance(value, str) else []
    except ValueError:
        out = []
    return [str(v) for v in out] if isinstance(out, list) else []
