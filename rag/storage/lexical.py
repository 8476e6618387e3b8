"""The lexical (BM25) index: kept on disk beside the vector store, versioned with it.

What it holds. BM25 over the text each chunk was embedded from (its title and text): bm25s's
Lucene variant (k1 1.5, b 0.75) with English stopwords and the Snowball stemmer, which is exactly
what llama-index's `BM25Retriever` built in memory before, so the scores are the same; and the
document frequency of every content word (`rag.core.text.content_tokens`), which the answer
composer uses. Rows are in the store's own order, so ties break as a rebuild would break them.
The chunks' texts and metadata stay in Chroma: a search returns chunk ids and scores.

The version stamp. The collection's metadata carries `lexical_version`, written by every run that
changes the collection (`rag/ingest/indexer.py`): `pending-<id>` before its first write, then a new
`<id>` once the run is done and the lexical index of that content is saved as
`<lexical_dir>/<collection>.bm25/<id>/` (written to a temporary folder, then renamed: a reader sees
a whole index or none). A final stamp therefore names one content of the store, and the folder of
that name is its index. Each stamp is also written to `<lexical_dir>/<collection>.bm25/.stamp`
(`LexicalVersions.signal`): a retriever reads that small file on every question and the
collection's stamp only when the file changed or `retrieval.version_check_s` passed
(rag/search/retrieval.py). A retriever reads the stamp (one metadata read) and:
- holds that version already: nothing to do;
- finds its folder: loads it (memory-mapped: no rebuild);
- finds none (another host, a shared store without a shared folder): brings the index it holds,
  or the newest one saved, up to date with the store, then saves it under the stamp for the
  next process — unless the stamp changed meanwhile (a run started: what it read may be half
  old, half new);
- finds `pending-…` (a run is writing, or was killed mid-run: the next run resumes it) or no
  stamp (a store indexed before stamps existed): syncs in memory only, again whenever the
  chunk count changes (at most every `PENDING_RECHECK_S`), and saves nothing.

Incremental. Bringing an index up to date re-reads the store's metadata (ids and keys), keeps
the term counts of every chunk whose id and key are unchanged (`chunk_key`: a chunk's text is
fixed by its document's hash and the node stored beside it) and tokenizes only the other chunks,
then recomputes the BM25 matrix from the counts (vectorised numpy, bit for bit what bm25s's own
builder gives; that one loops in Python per document: 8.9 s against 1.3 s at 100k chunks).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from rag.core.settings import Settings
from rag.core.text import content_tokens
from rag.storage.chroma import Store
from rag.storage.segments import (
    K1,
    B,
    Segment,
    Strings,
    bm25_scores,
    concat_bytes,
    encode,
    idf_of,
    length_norms,
    stack,
    widen,
)

log = logging.getLogger(__name__)

# 2: TeX subscripts joined to their word before tokenizing ("H_2O" is "h2o"); 3: superscripts too;
# 4: term counts by term and row lengths instead of the score matrix, a base and a delta segment
FORMAT = 4
VERSION_KEY = "lexical_version"
PENDING = "pending-"
PENDING_RECHECK_S = 10.0
KEEP_VERSIONS = 1  # saved versions kept besides the current one (a replica may still load it)
STALE_TMP_S = 3600.0  # a temporary folder this old was left by a killed writer
SIGNAL = ".stamp"  # the last stamp written on this host (`LexicalVersions.signal`)

# bm25s's tokenization, as llama-index's BM25Retriever used it (language="english").
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
STOPWORDS = "english"
READ_PAGE = 5000
# An update keeps the saved base and writes a delta, until the rows it changed (added, removed)
# pass this share of the collection and this many rows: then the rows are merged into one base.
DELTA_FRACTION = 0.1
DELTA_MIN_ROWS = 5000

_stemmers = threading.local()


def _stemmer() -> Any:
    """A Snowball stemmer per thread (PyStemmer's objects keep a cache and are not shared)."""
    s = getattr(_stemmers, "stemmer", None)
    if s is None:
        import Stemmer

        s = _stemmers.stemmer = Stemmer.Stemmer("english")
    return s


# A sub- or superscript written as TeX in a title ("H_2O", "T_{2}", "E$^{2}$GAN") is the word
# a reader types ("H2O", "E2GAN").
_SUBSCRIPT = re.compile(r"(?<=[A-Za-z0-9])\$?[_^]\{?([A-Za-z0-9]+)\}?\$?")


def unmark(text: str) -> str:
    """The text with TeX sub- and superscripts joined to their word ("H_2O" -> "H2O")."""
    return _SUBSCRIPT.sub(r"\1", text) if ("_" in text or "^" in text) else text


def _saved_format(folder: Path) -> int | None:
    try:
        return int(json.loads((folder / "meta.json").read_text(encoding="utf-8"))["format"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def tokenize(texts: Sequence[str]) -> tuple[list[list[int]], dict[str, int]]:
    """bm25s's tokenization (as llama-index called it): ids per text, and the vocabulary."""
    import bm25s

    out = bm25s.tokenize(
        [unmark(t) for t in texts],
        stopwords=STOPWORDS,
        stemmer=_stemmer(),
        token_pattern=TOKEN_PATTERN,
        show_progress=False,
    )
    return out.ids, out.vocab


def query_tokens(question: str) -> list[str]:
    ids, vocab = tokenize([question])
    inverse = {i: t for t, i in vocab.items()}
    return [inverse[i] for i in ids[0]]


_split_words = re.compile(TOKEN_PATTERN).findall
_stopwords: frozenset[str] | None = None


def query_terms(question: str) -> list[str]:
    """`query_tokens` without bm25s's tokenizer around it (its vocabulary building, progress
    bars, per-call stopword set): lower-cased words of the same pattern, the same stopwords
    left out, the same stems, in order. About 20 µs instead of ~1 ms per question."""
    global _stopwords
    if _stopwords is None:
        from bm25s.stopwords import STOPWORDS_EN

        _stopwords = frozenset(STOPWORDS_EN)
    words = [w for w in _split_words(unmark(question).lower()) if w not in _stopwords]
    return list(_stemmer().stemWords(words)) if words else []


def is_final(version: str | None) -> bool:
    return bool(version) and not str(version).startswith(PENDING)


def new_version() -> str:
    return uuid.uuid4().hex


def pending_version() -> str:
    return PENDING + uuid.uuid4().hex


# -- what a chunk's text is, from its metadata ---------------------------------------------------


def chunk_key(meta: dict[str, Any] | None) -> str:
    """What fixes the text a chunk was indexed with: its document's hash and the node llama-index
    stored beside it (its span in the document, its metadata, how they join the text). Equal
    ids and keys, equal text: its term counts are reused. A chunk stored without that node gets a
    key of its own (read again every time)."""
    meta = meta or {}
    raw = str(meta.get("_node_content") or "")
    if not raw:
        return uuid.uuid4().hex[:24]
    data = f"{meta.get('doc_hash', '')}\x00{meta.get('title', '')}\x00{raw}".encode()
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def indexed_text(meta: dict[str, Any] | None, text: str | None) -> str:
    """The text a chunk was embedded from (and is BM25-indexed on): its title, then its text."""
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    node = metadata_dict_to_node(meta or {}, text=text or "")
    return str(node.get_content(metadata_mode=MetadataMode.EMBED))


@dataclass
class Scan:
    """One pass over the store's metadata: every chunk's id and key, and how many documents."""

    ids: list[str]
    keys: list[str]
    documents: int


def scan(store: Store) -> Scan:
    ids: list[str] = []
    keys: list[str] = []
    docs: set[str] = set()
    for row in store.iter_rows(include=["metadatas"], page=READ_PAGE):
        meta = row["metadatas"] or {}
        ids.append(row["id"])
        keys.append(chunk_key(meta))
        docs.add(str(meta.get("doc_id", "")))
    return Scan(ids, keys, len(docs))


# -- the index -----------------------------------------------------------------------------------


@dataclass
class _Counts:
    """Per chunk, the count of each token (a sparse chunks x vocabulary matrix); the vocabulary."""

    matrix: sparse.csr_matrix
    vocab: list[str]


def _counts_of(
    token_ids: list[list[int]], batch_vocab: dict[str, int], vocab: dict[str, int]
) -> sparse.csr_matrix:
    """Rows of token counts for `token_ids` (ids of `batch_vocab`), in the columns of `vocab`
    (extended with the batch's new tokens)."""
    to_global = np.zeros(len(batch_vocab) + 1, dtype=np.int64)
    for token, i in batch_vocab.items():
        to_global[i] = vocab.setdefault(token, len(vocab))
    lengths = np.fromiter((len(t) for t in token_ids), dtype=np.int64, count=len(token_ids))
    flat = np.fromiter(
        itertools.chain.from_iterable(token_ids), dtype=np.int64, count=int(lengths.sum())
    )
    rows = np.repeat(np.arange(len(token_ids), dtype=np.int64), lengths)
    m = sparse.csr_matrix(
        (np.ones(len(flat), dtype=np.int32), (rows, to_global[flat])),
        shape=(len(token_ids), len(vocab)),
    )
    m.sum_duplicates()
    return m


def _presence_of(tokens: list[set[str]], vocab: dict[str, int]) -> sparse.csr_matrix:
    lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
    cols = np.fromiter(
        (vocab.setdefault(t, len(vocab)) for ts in tokens for t in sorted(ts)),
        dtype=np.int64,
        count=int(lengths.sum()),
    )
    rows = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
    return sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.int8), (rows, cols)), shape=(len(tokens), len(vocab))
    )


def _compact(counts: sparse.csr_matrix, vocab: list[str]) -> tuple[sparse.csr_matrix, list[str]]:
    """Drop the tokens no chunk holds any more (left by deleted chunks)."""
    used = np.bincount(counts.indices, minlength=len(vocab)) > 0
    if used.all():
        return counts, vocab
    remap = np.cumsum(used) - 1
    m = sparse.csr_matrix(
        (counts.data, remap[counts.indices].astype(np.int32), counts.indptr),
        shape=(counts.shape[0], int(used.sum())),
    )
    return m, [t for t, u in zip(vocab, used, strict=True) if u]


class LexicalIndex:
    """BM25 over the chunks of one version of the collection, and its content-word statistics.

    Its rows are a base segment less the rows `removed` from it, then a delta segment of rows
    added since (rag/storage/segments.py): an update writes a new delta and keeps the base's
    files, until the changed rows outgrow `DELTA_FRACTION` of the collection (then one merged
    base is written: `from_changes`). The rows a search sees are in that order, which is the
    store's: kept rows where they were, new rows last."""

    def __init__(
        self,
        version: str | None,
        base: Segment,
        vocab: list[str],
        cvocab: list[str],
        *,
        removed: np.ndarray | None = None,
        delta: Segment | None = None,
        origin: str = "built",
    ) -> None:
        self.version = version
        self.base = base
        self.delta = delta if delta is not None else Segment.empty(len(vocab), len(cvocab))
        self.removed = np.unique(np.asarray(removed if removed is not None else [], np.int64))
        self.vocab, self.cvocab = vocab, cvocab
        self.origin = origin  # "built", "synced", "loaded" (from disk): for logs and tests
        self.timings: dict[str, Any] = {}  # how long building it took (from_store)
        self._vocab = {t: i for i, t in enumerate(vocab)}
        v, cv = len(vocab), len(cvocab)
        plain = not len(self.removed) and not self.delta.n
        if plain:
            self._live: np.ndarray | None = None  # every row of the base, in order
            self.ids, self.keys = base.ids, base.keys
            lengths = np.asarray(base.lengths)
        else:
            keep = np.ones(base.n, dtype=bool)
            keep[self.removed] = False
            kept = np.flatnonzero(keep)
            self._live = np.concatenate([kept, base.n + np.arange(self.delta.n)])
            self.ids = Strings(concat_bytes(np.asarray(base.ids.array)[kept], self.delta.ids.array))
            self.keys = Strings(
                concat_bytes(np.asarray(base.keys.array)[kept], self.delta.keys.array)
            )
            lengths = np.concatenate([np.asarray(base.lengths), np.asarray(self.delta.lengths)])
        # A whole base (nothing added or removed since it was made) is searched on its
        # precomputed scores, as bm25s searches; otherwise the counts are scored.
        self._precomputed = plain and base.scores is not None
        self._norms = np.zeros(0)  # the rows' length norms: only counts are scored with them
        if not self._precomputed:
            live_lengths = lengths if self._live is None else lengths[self._live]
            avg = float(np.array(live_lengths).mean()) if len(live_lengths) else 0.0
            self._norms = length_norms(lengths, avg) if avg else lengths * 0.0
        self._df = base.df(v) - base.rows_df(self.removed, v) + self.delta.df(v)
        cdf = (
            base.content_df(cv) - base.rows_content_df(self.removed, cv) + self.delta.content_df(cv)
        )
        self.doc_freq: Counter[str] = Counter(
            {t: int(c) for t, c in zip(cvocab, cdf, strict=True) if c}
        )
        self._id_bytes = np.asarray(self.ids.array)
        self._scores: dict[str, Any] | None = None
        self._bm25: Any = None

    @classmethod
    def of_rows(
        cls,
        version: str | None,
        ids: Sequence[str] | np.ndarray,
        keys: Sequence[str] | np.ndarray,
        counts: _Counts,
        content: _Counts,
        *,
        origin: str = "built",
    ) -> LexicalIndex:
        """An index of one base segment of these rows."""
        base = Segment.of(ids, keys, counts.matrix, content.matrix, scored=True)
        return cls(version, base, counts.vocab, content.vocab, origin=origin)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def scoring(self) -> str:
        """How a search scores: "precomputed" (a whole base) or "counts" (with a delta)."""
        return "precomputed" if self._precomputed else "counts"

    @property
    def changed_rows(self) -> int:
        """Rows of the delta and rows removed from the base: what a merge would fold in."""
        return int(self.delta.n + len(self.removed))

    @property
    def counts(self) -> _Counts:
        """Term counts of the rows, in order (a merge of the segments: O(rows))."""
        return _Counts(self._rows(self.base.counts, self.delta.counts, len(self.vocab)), self.vocab)

    @property
    def content(self) -> _Counts:
        m = self._rows(self.base.content, self.delta.content, len(self.cvocab))
        return _Counts(m, self.cvocab)

    def _rows(
        self, base: sparse.csr_matrix, delta: sparse.csr_matrix, width: int
    ) -> sparse.csr_matrix:
        if self._live is None:
            return widen(sparse.csr_matrix(base), width)
        kept = self._live[self._live < self.base.n]
        return stack([sparse.csr_matrix(base)[kept], delta], width, base.dtype)

    @property
    def scores(self) -> dict[str, Any]:
        """bm25s's precomputed score matrix of these rows (the reference path only)."""
        if self._scores is None:
            if self._precomputed:
                postings = self.base.postings
                self._scores = {
                    "data": self.base.scores,
                    "indices": postings.indices,
                    "indptr": postings.indptr,
                    "num_docs": self.n,
                }
            else:
                self._scores = bm25_scores(self.counts.matrix)
        return self._scores

    def _retriever(self) -> Any:
        if self._bm25 is None:
            import bm25s

            bm = bm25s.BM25(k1=K1, b=B, method="lucene")
            bm.scores = self.scores
            bm.vocab_dict = self._vocab
            bm.unique_token_ids_set = set(self._vocab.values())
            bm.nonoccurrence_array = None
            self._bm25 = bm
        return self._bm25

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        """The `k` best chunks for `question`: (chunk id, BM25 score), best first. A question
        with no indexed word finds nothing.

        Summed from the base's precomputed scores when it is the whole index, else scored from
        the counts with bm25s's arithmetic (rag/storage/segments.py); then selected as bm25s's
        numpy top-k selects (`argpartition`, `argsort`): the same scores, order and ties as
        `search_bm25s` (tests/search/test_lean_retrieval.py) and as a rebuild of the index
        (tests/ingest/test_doc_table.py). bm25s's `retrieve` around that costs ~1-2 ms a
        question (tokenizer objects, argument checks, progress bars); this costs the arithmetic
        only."""
        df = self._df
        terms = [self._vocab[t] for t in query_terms(question) if t in self._vocab]
        terms = [t for t in terms if df[t] > 0]
        k = min(k, self.n)
        if not terms or k <= 0:
            return []
        scores = np.zeros(self.base.n + self.delta.n, dtype=np.float32)
        for t in terms:  # summed term by term, as bm25s sums a query's columns
            if self._precomputed:
                self.base.add_precomputed(scores, t)
                continue
            idf = idf_of(self.n, int(df[t]))
            self.base.add_scores(scores, 0, t, self._norms, idf)
            self.delta.add_scores(scores, self.base.n, t, self._norms, idf)
        if self._live is not None:
            scores = scores[self._live]
        part = np.argpartition(scores, -k)[-k:]  # bm25s: `.take(range(-k, 0))`
        top = part[np.flip(np.argsort(np.take(scores, part)))]
        ids = [bytes(b).decode("utf-8") for b in self._id_bytes[top]]
        return list(zip(ids, scores[top].tolist(), strict=True))

    def search_bm25s(self, question: str, k: int) -> list[tuple[str, float]]:
        """`search` through bm25s's own `retrieve` (the reference the fast path is tested
        against, and what the llama-index retriever path uses)."""
        tokens = [t for t in query_tokens(question) if t in self._vocab]
        k = min(k, self.n)
        if not tokens or k <= 0:
            return []
        docs, scores = self._retriever().retrieve([tokens], k=k, show_progress=False)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True)]

    # -- built from the store, or brought up to date with it -------------------------------------

    @classmethod
    def from_store(
        cls,
        store: Store,
        version: str | None,
        base: LexicalIndex | None = None,
        scanned: Scan | None = None,
    ) -> LexicalIndex:
        """The index of what the store holds now: `base`'s counts are kept for every chunk
        whose key is unchanged; the other chunks are read and tokenized. Without a base, one
        pass reads every chunk's text. `scanned`: the store's ids and keys, read just now."""
        t0 = time.perf_counter()
        vocab = {t: i for i, t in enumerate(base.vocab)} if base else {}
        cvocab = {t: i for i, t in enumerate(base.cvocab)} if base else {}
        ids: list[str] = []
        keys: list[str] = []
        if base is None:
            new_counts, new_content = cls._scan_all(store, ids, keys, vocab, cvocab)
            keep_rows = [-1] * len(ids)
            fresh = list(range(len(ids)))
            t_read = time.perf_counter()
        else:
            scanned = scanned or scan(store)
            ids, keys = scanned.ids, scanned.keys
            old = {(i, k): r for r, (i, k) in enumerate(zip(base.ids, base.keys, strict=True))}
            keep_rows = [old.get((i, k), -1) for i, k in zip(ids, keys, strict=True)]
            fresh = [j for j, r in enumerate(keep_rows) if r < 0]
            t_scan = time.perf_counter()
            new_counts, new_content = cls._read_and_count(
                store, [ids[j] for j in fresh], vocab, cvocab
            )
            t_read = time.perf_counter()
        order = cls._order(keep_rows, fresh)
        old_counts = base.counts.matrix if base else None
        old_content = base.content.matrix if base else None
        counts = cls._merge(old_counts, keep_rows, new_counts, order, len(vocab), np.int32)
        content = cls._merge(old_content, keep_rows, new_content, order, len(cvocab), np.int8)
        c, v = _compact(counts, _vocab_list(vocab))
        cc, cv = _compact(content, _vocab_list(cvocab))
        origin = "synced" if base else "built"
        index = cls.of_rows(version, ids, keys, _Counts(c, v), _Counts(cc, cv), origin=origin)
        t_end = time.perf_counter()
        index.timings = {
            # A sync reads every row's metadata (scan), then the new chunks' texts; a build
            # from scratch reads everything in one pass (read_tokenize).
            "scan_s": round(t_scan - t0, 3) if base else None,
            "read_tokenize_s": round(t_read - (t_scan if base else t0), 3),
            "matrix_s": round(t_end - t_read, 3),
            "total_s": round(t_end - t0, 3),
            "tokenized": len(fresh),
            "reused": len(ids) - len(fresh),
        }
        log.info(
            "lexical index of %d chunks (%d tokenized, %d reused) in %.2f s",
            len(ids),
            len(fresh),
            len(ids) - len(fresh),
            t_end - t0,
        )
        return index

    @classmethod
    def from_changes(
        cls,
        store: Store,
        version: str | None,
        base: LexicalIndex,
        removed: Sequence[str],
        added: Sequence[str],
    ) -> LexicalIndex:
        """The index of the store after one run's changes, without reading the other chunks:
        `base` (the index of the store before the run) less the chunks `removed` (and any of
        `added`, which replace chunks of the same id), with `added` read, tokenized and appended
        last, where the store puts rows it writes (the order a rebuild reads them in:
        tests/ingest/test_doc_table.py). Only the chunks `added` are read from the store.

        The result keeps `base`'s base segment (its rows marked removed) and a new delta of the
        old delta's kept rows and the added ones: work in proportion to the change. Once the
        changed rows pass `DELTA_FRACTION` of the collection (and `DELTA_MIN_ROWS`), the rows
        are merged into one new base instead (O(rows), as a rebuild without the reading)."""
        t0 = time.perf_counter()
        vocab = dict(base._vocab)
        cvocab = {t: i for i, t in enumerate(base.cvocab)}
        added = list(dict.fromkeys(added))
        drop = list(dict.fromkeys([*removed, *added]))
        gone = np.array([d.encode("utf-8") for d in drop], dtype=bytes) if drop else None

        def dropped(seg: Segment) -> np.ndarray:
            if gone is None or not seg.n:
                return np.zeros(seg.n, dtype=bool)
            return np.isin(np.asarray(seg.ids.array), gone)

        base_gone = np.flatnonzero(dropped(base.base))
        delta_kept = np.flatnonzero(~dropped(base.delta))
        keys: list[str] = []
        new_counts, new_content = cls._read_and_count(store, added, vocab, cvocab, keys)
        t_read = time.perf_counter()
        v, cv = _vocab_list(vocab), _vocab_list(cvocab)
        delta = Segment.of(
            concat_bytes(np.asarray(base.delta.ids.array)[delta_kept], encode(added)),
            concat_bytes(np.asarray(base.delta.keys.array)[delta_kept], encode(keys)),
            stack([base.delta.counts[delta_kept], new_counts], len(v), np.int32),
            stack([base.delta.content[delta_kept], new_content], len(cv), np.int8),
        )
        removed_rows = np.union1d(base.removed, base_gone)
        index = cls(version, base.base, v, cv, removed=removed_rows, delta=delta, origin="synced")
        merged = index.changed_rows > max(DELTA_MIN_ROWS, DELTA_FRACTION * index.n)
        if merged:
            c, mv = _compact(index.counts.matrix, v)
            cc, mcv = _compact(index.content.matrix, cv)
            index = cls.of_rows(
                version,
                np.asarray(index.ids.array),
                np.asarray(index.keys.array),
                _Counts(c, mv),
                _Counts(cc, mcv),
                origin="synced",
            )
        t_end = time.perf_counter()
        index.timings = {
            "scan_s": 0.0,  # no scan of the store: the run says what it changed
            "read_tokenize_s": round(t_read - t0, 3),
            "matrix_s": round(t_end - t_read, 3),
            "total_s": round(t_end - t0, 3),
            "tokenized": len(added),
            "reused": index.n - len(added),
            "merged": merged,
            "delta_rows": index.delta.n,
            "removed_rows": len(index.removed),
        }
        log.info(
            "lexical index of %d chunks (%d tokenized, %d removed; %s) in %.2f s",
            index.n,
            len(added),
            base.n + len(added) - index.n,
            "merged into one base" if merged else f"a delta of {index.delta.n} rows",
            t_end - t0,
        )
        return index

    @classmethod
    def _scan_all(
        cls,
        store: Store,
        ids: list[str],
        keys: list[str],
        vocab: dict[str, int],
        cvocab: dict[str, int],
    ) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Every row of the store, read once: ids and keys appended, texts counted."""
        counts: list[sparse.csr_matrix] = []
        content: list[sparse.csr_matrix] = []
        page: list[dict[str, Any]] = []
        rows = store.iter_rows(include=["documents", "metadatas"], page=READ_PAGE)
        for row in itertools.chain(rows, [None]):
            if row is not None:
                page.append(row)
            if page and (row is None or len(page) == READ_PAGE):
                for r in page:
                    ids.append(r["id"])
                    keys.append(chunk_key(r["metadatas"]))
                texts = [indexed_text(dict(r["metadatas"] or {}), r["documents"]) for r in page]
                token_ids, batch_vocab = tokenize(texts)
                counts.append(_counts_of(token_ids, batch_vocab, vocab))
                content.append(_presence_of([content_tokens(t) for t in texts], cvocab))
                page = []
                del texts, token_ids, batch_vocab
                release_memory()
        return (
            stack(counts, len(vocab), np.int32, consume=True),
            stack(content, len(cvocab), np.int8, consume=True),
        )

    @staticmethod
    def _read_and_count(
        store: Store,
        ids: list[str],
        vocab: dict[str, int],
        cvocab: dict[str, int],
        keys: list[str] | None = None,
    ) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        """Term counts and content-word presence of the chunks `ids`, read from the store (and
        their keys appended to `keys`, when given)."""
        counts: list[sparse.csr_matrix] = []
        content: list[sparse.csr_matrix] = []
        for i in range(0, len(ids), READ_PAGE):
            page = ids[i : i + READ_PAGE]
            got = store.collection.get(ids=page, include=["documents", "metadatas"])  # type: ignore[list-item]
            docs, metas = got["documents"] or [], got["metadatas"] or []
            by_id = {
                c: (d, dict(m or {})) for c, d, m in zip(got["ids"], docs, metas, strict=False)
            }
            texts = [indexed_text(by_id[c][1], by_id[c][0]) if c in by_id else "" for c in page]
            if keys is not None:
                keys.extend(chunk_key(by_id[c][1] if c in by_id else None) for c in page)
            token_ids, batch_vocab = tokenize(texts)
            counts.append(_counts_of(token_ids, batch_vocab, vocab))
            content.append(_presence_of([content_tokens(t) for t in texts], cvocab))
        return stack(counts, len(vocab), np.int32), stack(content, len(cvocab), np.int8)

    @staticmethod
    def _order(keep_rows: list[int], fresh: list[int]) -> np.ndarray:
        """Where each row of the store comes from in [kept rows..., fresh rows...]."""
        order = np.empty(len(keep_rows), dtype=np.int64)
        kept = [j for j, r in enumerate(keep_rows) if r >= 0]
        order[kept] = np.arange(len(kept))
        order[fresh] = len(kept) + np.arange(len(fresh))
        return order

    @staticmethod
    def _merge(
        old: sparse.csr_matrix | None,
        keep_rows: list[int],
        new: sparse.csr_matrix,
        order: np.ndarray,
        width: int,
        dtype: Any,
    ) -> sparse.csr_matrix:
        kept = np.asarray([r for r in keep_rows if r >= 0], dtype=np.int64)
        parts = [new]
        if old is not None and len(kept):
            parts = [sparse.csr_matrix(old)[kept], new]
        stacked = stack(parts, width, dtype)
        if not len(order) or np.array_equal(order, np.arange(len(order))):
            return stacked  # already in order (a build from scratch): no copy
        return sparse.csr_matrix(stacked[order])

    # -- on disk ---------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write this index as `folder`, atomically: a temporary folder beside it, renamed. When
        `folder` exists already (another process saved the same version), this one is dropped.
        A base segment saved before (the one an update kept) is hard-linked, not written."""
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.parent / f".tmp-{folder.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            bw, bcw = self.base.width, self.base.cwidth
            how = self.base.save(tmp, "base", self.vocab[:bw], self.cvocab[:bcw])
            self.delta.save(tmp, "delta", None, None)
            np.save(tmp / "removed.npy", self.removed)
            _write_json(tmp / "vocab_extra.json", self.vocab[bw:])
            _write_json(tmp / "content_vocab_extra.json", self.cvocab[bcw:])
            meta = {
                "format": FORMAT,
                "version": self.version,
                "chunks": self.n,
                "segments": {
                    "base": self.base.n,
                    "delta": self.delta.n,
                    "removed": len(self.removed),
                },
                "bm25": {"method": "lucene", "k1": K1, "b": B, "stopwords": STOPWORDS},
                "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            _write_json(tmp / "meta.json", meta)  # last: a folder without it is incomplete
            _fsync_dir(tmp)
            if folder.exists() and _saved_format(folder) != FORMAT:
                # damaged (a file lost by hand?) or written by an older release (another
                # tokenization): never loaded, replaced
                _remove(folder)
            try:
                tmp.rename(folder)
            except OSError:
                if not (folder / "meta.json").exists():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # saved meanwhile by another process
                return
            _fsync_dir(folder.parent)
            self.base.folder, self.base.prefix = folder, "base"  # what the next save links
            self.timings["base_files"] = how
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, folder: Path, version: str | None = None) -> LexicalIndex | None:
        """The index saved as `folder` (of `version`, if given); None when there is none, or it
        is of another version or format, or cannot be read."""
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or (
                version is not None and meta.get("version") != version
            ):
                return None
            base = Segment.load(folder, "base")
            delta = Segment.load(folder, "delta")
            vocab = base.vocab_file(folder, "vocab") + _read_json(folder / "vocab_extra.json")
            cvocab = base.vocab_file(folder, "content_vocab") + _read_json(
                folder / "content_vocab_extra.json"
            )
            removed = np.load(folder / "removed.npy", allow_pickle=False)
            if delta.width > len(vocab) or delta.cwidth > len(cvocab):
                return None
            index = cls(
                meta.get("version"),
                base,
                vocab,
                cvocab,
                removed=removed,
                delta=delta,
                origin="loaded",
            )
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        return index if index.n == meta.get("chunks") else None


def _vocab_list(vocab: dict[str, int]) -> list[str]:
    out = [""] * len(vocab)
    for t, i in vocab.items():
        out[i] = t
    return out


def release_memory() -> None:
    """Hand the heap's freed memory back to the system (glibc's `malloc_trim`; nothing
    elsewhere). Why by hand: reading and tokenizing a page of rows leaves hundreds of MB freed but
    held by the allocator (fragments between the rows' many small objects), which a full read
    of the store piles up page after page: at 100k chunks 600 MB of RSS for 100 MB of counts."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL("libc.so.6")
            _libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _libc = False
    if _libc:
        _libc.malloc_trim(0)


_libc: Any = None


def _read_json(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{path} is not a list")
    return [str(t) for t in data]


def _write_json(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- the saved versions, and the stamp in the collection ----------------------------------------


class LexicalVersions:
    """The collection's lexical version stamp and the folder of saved lexical indexes."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store

    @property
    def folder(self) -> Path:
        base = self.settings.lexical_dir or self.settings.index_dir
        return Path(base) / f"{self.store.name}.bm25"

    def current(self) -> str | None:
        """The stamp the collection carries now (one metadata read)."""
        value = self.store.fresh_metadata().get(VERSION_KEY)
        return str(value) if value else None

    def stamp(self, version: str) -> None:
        """Stamp the collection, then tell this host's readers (`signal`)."""
        self.store.update_metadata({VERSION_KEY: version})
        self._push(version)

    @property
    def signal_path(self) -> Path:
        return self.folder / SIGNAL

    def _push(self, version: str) -> None:
        """Write the stamp beside the saved indexes too, whole or not at all (a temporary file,
        renamed): a reader on this host notices a change by reading this small file, without
        a store call. Best effort: the collection's stamp stays the record, which readers also
        read every `retrieval.version_check_s`."""
        path = self.signal_path
        tmp = path.with_name(f"{SIGNAL}.{os.getpid()}.{uuid.uuid4().hex[:8]}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(version, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as e:
            log.debug("version signal %s not written: %s", path, e)
            with contextlib.suppress(OSError):
                tmp.unlink()

    def signal(self) -> str | None:
        """The last stamp a writer on this host pushed (`_push`), or None (~10 µs: a small
        file read, no store call)."""
        try:
            with open(self.signal_path, encoding="utf-8") as f:
                return f.read()
        except OSError:
            return None

    def path(self, version: str) -> Path:
        return self.folder / version

    def load(self, version: str) -> LexicalIndex | None:
        return LexicalIndex.load(self.path(version), version)

    def newest(self) -> LexicalIndex | None:
        """The most recently saved index of any version: a base to bring up to date."""
        for path in self._saved():
            index = LexicalIndex.load(path)
            if index is not None:
                return index
        return None

    def _saved(self) -> list[Path]:
        try:
            found = [p for p in self.folder.iterdir() if not p.name.startswith(".")]
        except OSError:
            return []
        return sorted(found, key=_mtime, reverse=True)

    def save(self, index: LexicalIndex) -> None:
        assert is_final(index.version)
        index.save(self.path(str(index.version)))
        self.prune(keep=str(index.version))

    def prune(self, keep: str) -> None:
        """Remove saved versions beyond the newest few, and temporary folders of killed runs."""
        for old in [p for p in self._saved() if p.name != keep][KEEP_VERSIONS:]:
            _remove(old)
        try:
            tmps = [p for p in self.folder.iterdir() if p.name.startswith(".tmp-")]
        except OSError:
            return
        for tmp in tmps:
            if time.time() - _mtime(tmp) > STALE_TMP_S:
                shutil.rmtree(tmp, ignore_errors=True)

    def obtain(self, version: str, base: LexicalIndex | None = None) -> LexicalIndex:
        """The index of the final `version`: loaded when it is saved here; else brought up to
        date with the store (from `base`, or the newest saved index) and saved for the other
        processes, unless the stamp changed while the store was read (a run started: what was
        read may be half old, half new), when it is returned without a version."""
        index = self.load(version)
        if index is not None:
            log.debug("lexical index %s loaded from %s", version, self.path(version))
            return index
        index = LexicalIndex.from_store(self.store, version, base or self.newest())
        if self.current() != version:
            index.version = None
            return index
        try:
            self.save(index)
            log.info("lexical index %s rebuilt from the store and saved", version)
        except OSError as e:
            log.warning("lexical index %s rebuilt but not saved (%s)", version, e)
        return index

    def build_changes(
        self, base: LexicalIndex, removed: Sequence[str], added: Sequence[str]
    ) -> LexicalIndex:
        """`build` for a run that knows what it changed (rag/ingest/indexer.py, with the document
        table): `base` is the saved index of the stamp the run started from; only the chunks
        `added` are read from the store (`LexicalIndex.from_changes`). Saved, then stamped."""
        version = new_version()
        index = LexicalIndex.from_changes(self.store, version, base, removed, added)
        t0 = time.perf_counter()
        self.save(index)
        self.stamp(version)
        index.timings["save_s"] = round(time.perf_counter() - t0, 3)
        return index

    def build(self, base: LexicalIndex | None = None, scanned: Scan | None = None) -> LexicalIndex:
        """Bring an index up to date with the store and stamp it final (the end of an index
        run): saved first, stamped after, so a final stamp always has its folder."""
        version = new_version()
        index = LexicalIndex.from_store(self.store, version, base or self.newest(), scanned)
        t0 = time.perf_counter()
        self.save(index)
        self.stamp(version)
        index.timings["save_s"] = round(time.perf_counter() - t0, 3)
        return index


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _remove(folder: Path) -> None:
    """Delete `folder`: renamed out of the way first, so that no reader sees it half deleted."""
    aside = folder.parent / f".tmp-removed-{folder.name}-{uuid.uuid4().hex[:8]}"
    try:
        folder.rename(aside)
    except OSError:
        return
    shutil.rmtree(aside, ignore_errors=True)
