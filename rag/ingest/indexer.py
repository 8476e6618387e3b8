"""Incremental, resumable indexing into Chroma with llama-index's ingestion pipeline.

Change detection is written here rather than with llama-index's docstore strategies: those keep
the document hashes in a separate docstore file, so a build killed between the docstore write and
the vector-store write leaves the two disagreeing. Here the vector store is the only record: every
chunk carries its document's hash and chunk count, so after a crash a document whose chunks are
missing or stale is simply embedded again, and the store always ends consistent.

The lexical (BM25) index follows the same rule (rag/storage/lexical.py): a run that changes the
store stamps the collection `pending-…` before its first write, and at its end brings the saved
lexical index up to date with the store (only new chunks are tokenized), saves it under a new
version and stamps the collection with that version. A run killed midway leaves the stamp pending,
which no saved index matches; the next run ends with both matching again.

What the store holds is looked up in the document table (rag/storage/doctable.py: per document
its hash, chunk ids and files), not by reading every chunk's metadata: a run reads the rows of the
documents it loaded and of those listed under the folders it walked, and, when it changes the
store, brings the lexical index up to date from the saved one with only its own chunks read
(`LexicalVersions.build_changes`). The table is trusted only while it names the collection's
current final stamp; otherwise (an index made before the table, a run killed midway, a store
written from another host) the run reads the store's metadata as before and rebuilds the table.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core import Document
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.schema import BaseNode
from llama_index.vector_stores.chroma import ChromaVectorStore
from tqdm import tqdm

from rag.core import logs
from rag.core.errors import PathNotFoundError
from rag.core.locking import index_lock
from rag.core.settings import Settings
from rag.core.types import FailedFile, FlaggedSentence, IndexReport, IndexStatus
from rag.ingest.chunking import BoundedSentenceSplitter
from rag.ingest.documents import LoadResult, failure_reason, load_documents
from rag.ingest.guard import flagged_sentences
from rag.ingest.manifest import record_build, union_roots
from rag.ingest.paths import Limits, confine, walk
from rag.ingest.pdf import PdfLimits
from rag.storage.chroma import Store, describe
from rag.storage.doctable import DocEntry, DocTable, table_path
from rag.storage.embeddings import make_embedding
from rag.storage.lexical import LexicalIndex, LexicalVersions, Scan, is_final, pending_version, scan
from rag.storage.manifest import manifest_path, read_manifest, recorded_roots

DOCS_PER_BATCH = 32


log = logging.getLogger(__name__)

_Stored = DocEntry  # what the store holds of one document


@dataclass
class _Changes:
    """What one run changed: documents removed and written (the table's rows), chunks removed
    and added (the lexical index's rows)."""

    removed_docs: list[str] = field(default_factory=list)
    upserts: dict[str, DocEntry] = field(default_factory=dict)
    removed_chunks: list[str] = field(default_factory=list)
    added_chunks: list[str] = field(default_factory=list)

    def remove(self, doc_id: str, old: DocEntry) -> None:
        self.removed_docs.append(doc_id)
        self.upserts.pop(doc_id, None)
        self.removed_chunks.extend(old.chunk_ids)


def _chunk_id(index: int, doc: BaseNode) -> str:
    return f"{doc.node_id}:{index}"


class Indexer:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.lexical = LexicalVersions(settings, store)
        self.last_lexical: LexicalIndex | None = None  # the index the last run saved
        self.docs = DocTable(table_path(settings.index_dir, store.name))
        self.last_path = ""  # "table" or "scan": how the last run learnt what is stored (tests)

    @property
    def vector_store(self) -> ChromaVectorStore:
        """Over the store's collection as it is now (`Store.reopen` may have replaced it)."""
        return ChromaVectorStore(chroma_collection=self.store.collection)

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.settings)

    def splitter(self) -> BoundedSentenceSplitter:
        c = self.settings.chunking
        return BoundedSentenceSplitter(
            chunk_size=c.chunk_size,
            chunk_overlap=c.chunk_overlap,
            id_func=_chunk_id,
            time_limit_s=c.split_time_limit_s,
        )

    def _stored(self) -> dict[str, _Stored]:
        """Every document the store holds, from every chunk's metadata (one full read)."""
        stored: dict[str, _Stored] = defaultdict(_Stored)
        for row in self.store.iter_rows(include=["metadatas"]):
            meta = row["metadatas"] or {}
            s = stored[str(meta.get("doc_id", ""))]
            s.hashes.add(str(meta.get("doc_hash", "")))
            s.chunk_ids.append(row["id"])
            s.n_chunks = int(meta.get("n_chunks", 0) or 0)
            s.sources = str(meta.get("sources", ""))
            s.paths = json.loads(str(meta.get("paths", "[]")))
        return dict(stored)

    def _table_base(self) -> LexicalIndex | None:
        """The saved lexical index of the collection's current stamp, when that stamp is final
        and the document table describes the same content: then a run reads the table, not the
        store's metadata, and syncs the lexical index from this one. None: the full read."""
        current = self.lexical.current()
        if not is_final(current):
            return None
        if self.docs.version() != current:
            return None
        base = self.lexical.load(str(current))
        if base is None:
            log.info("lexical index %s not saved here: reading the store's metadata", current)
        return base

    def _finish_table(
        self,
        base: LexicalIndex | None,
        stored: dict[str, _Stored] | None,
        changes: _Changes,
        version: str | None,
    ) -> None:
        """Write the run's changes into the document table, marked with the stamp `version` the
        collection now carries (`stored`: the whole store as read at the start of a full-read
        run, then the table is rebuilt from it). Best effort: a table not written is rebuilt by
        the next run, never trusted."""
        if not is_final(version):
            return
        try:
            if base is not None:
                self.docs.apply(changes.upserts, changes.removed_docs, str(version))
                return
            if stored is None:
                return
            had = self.docs.version() is not None
            removed = set(changes.removed_docs)
            entries = {d: e for d, e in stored.items() if d not in removed}
            entries.update(changes.upserts)
            self.docs.replace_all(entries, str(version))
            if not had:
                log.info(
                    "document table %s built from the store (%d documents): later updates read "
                    "only the documents they touch",
                    self.docs.path,
                    len(entries),
                )
        except (OSError, sqlite3.Error) as e:
            log.warning("document table %s not written (%s): rebuilt next run", self.docs.path, e)
            self.docs.invalidate()

    def index(
        self,
        paths: Sequence[str | Path] | None = None,
        progress: bool = True,
        *,
        confined: bool = False,
        within: Sequence[str | Path] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> IndexReport:
        """Index `paths` (default: the corpus), one writer at a time.

        `confined=True` is for requests from the API or the UI: paths must lie under the
        indexing roots and the request caps apply (rag/ingest/paths.py). `within` keeps the walk
        inside those folders (or files) without the caps: the watcher's folders, so that a
        subfolder swapped for a symlink to the outside is not followed. `on_wait` hears once when
        another index run holds the lock and this one waits for it."""
        targets, roots = self._targets(paths, confined, within)
        start = time.perf_counter()
        # Files are read (parsed, a PDF within its limits) before the lock is taken: a slow file
        # never holds up another run. Once the lock is held, they are read again only if one was
        # written, replaced, added or removed meanwhile (another run may have indexed or
        # forgotten it), so the store never takes an older reading than the one it holds.
        loaded = self._load(targets, roots, confined)
        lock = Path(self.settings.index_dir) / f"{self.store.name}.lock"
        with index_lock(lock, self.settings.index_lock_timeout_s, on_wait):
            if self._stale(loaded, targets, roots, confined):
                loaded = self._load(targets, roots, confined)
            return self._index(loaded, targets, roots, progress, start)

    def _targets(
        self,
        paths: Sequence[str | Path] | None,
        confined: bool,
        within: Sequence[str | Path] | None = None,
    ) -> tuple[list[Path], list[Path] | None]:
        """The paths to walk, and the roots the walk must stay in (None: anywhere)."""
        if not paths and not Path(self.settings.corpus_dir).exists():
            name, own = self.store.name, self.settings.collections.get(self.store.name)
            if self.settings.default_collection and not (own and own.corpus_dir):
                raise PathNotFoundError(
                    f"The collection {name!r} has no corpus folder: name the files or folders "
                    f"to index (`rag index -c {name} PATH`), or set collections.{name}.corpus_dir."
                )
        given = list(paths or [self.settings.corpus_dir])
        if confined:
            allowed = self.settings.index_roots()
            return [confine(p, allowed) for p in given], allowed
        targets = []
        for p in given:
            try:
                targets.append(Path(p).resolve())
            except (OSError, RuntimeError):  # a symlink loop: the walk reports it
                targets.append(Path(p).absolute())
        return targets, None if within is None else [_resolved(w) for w in within]

    def _limits(self, confined: bool) -> Limits:
        sec = self.settings.security
        if not confined:
            return Limits(max_file_bytes=sec.max_file_bytes)
        return Limits(sec.max_request_files, sec.max_request_bytes, sec.max_file_bytes)

    def _pdf_limits(self) -> PdfLimits:
        sec = self.settings.security
        return PdfLimits(sec.max_pdf_page_chars, sec.max_pdf_chars, sec.pdf_time_limit_s)

    def _load(self, targets: list[Path], roots: list[Path] | None, confined: bool) -> LoadResult:
        # an upload's papers are its own documents (rag/ingest/documents.py, rag/ingest/library.py)
        separate = [Path(self.settings.uploads_dir)]
        limits = self._limits(confined)
        return load_documents(targets, limits, roots, separate, self._pdf_limits())

    def _stale(
        self, loaded: LoadResult, targets: list[Path], roots: list[Path] | None, confined: bool
    ) -> bool:
        """True when what `loaded` read is no longer what the files hold (see `index`)."""
        if loaded.changed():
            return True
        return walk(targets, self._limits(confined), roots).files != loaded.files

    def _index(
        self,
        loaded: LoadResult,
        targets: list[Path],
        roots: list[Path] | None,
        progress: bool,
        start: float,
    ) -> IndexReport:
        report = IndexReport(failed=loaded.failed, ignored=loaded.ignored)
        if roots is not None:  # a target that led outside (the walk named it) forgets nothing
            targets = [t for t in targets if any(t == r or r in t.parents for r in roots)]
        base = self._table_base()
        full: dict[str, _Stored] | None = None
        if base is not None:  # the documents read, and those listed under the targets only
            self.last_path = "table"
            wanted = [d.doc_id for d in loaded.documents]
            stored = self.docs.get([*wanted, *self.docs.under(targets)])
        else:
            self.last_path = "scan"
            stored = full = self._stored()
        changes = _Changes()

        to_embed: list[Document] = []
        meta_only: list[Document] = []
        for doc in loaded.documents:
            old = stored.get(doc.doc_id)
            if old is None:
                report.added += 1
                to_embed.append(doc)
            elif not old.complete or doc.metadata["doc_hash"] not in old.hashes:
                report.updated += 1
                to_embed.append(doc)
            elif old.sources != doc.metadata["sources"]:
                report.updated += 1  # same text, listed in other files: no new embedding
                meta_only.append(doc)
            else:
                report.skipped += 1
        # Checked once per new or changed text (retrieval checks again, rag/ingest/guard.py): an
        # unchanged collection re-indexes without reading every sentence again.
        report.flagged = flag_instructions(to_embed)

        new_ids = {d.doc_id for d in loaded.documents}
        # A file that could not be read, or was left out this time, loses nothing.
        kept_files = {_real(f.path) for f in [*loaded.failed, *loaded.ignored]}
        gone = [
            doc_id
            for doc_id, s in stored.items()
            if doc_id not in new_ids
            and _under(s.paths, targets)
            and not (set(s.paths) & kept_files)
        ]
        # Stamped pending before the first write; a new version once the lexical index is saved.
        changing = bool(gone or meta_only or to_embed) or not is_final(self.lexical.current())
        if changing:
            self._begin_change()
        self.store.delete_ids([cid for d in gone for cid in stored[d].chunk_ids])
        for d in gone:
            changes.remove(d, stored[d])
        report.removed = len(gone)

        self._update_metadata(meta_only, stored, changes)
        report.chunks_embedded = self._embed(to_embed, stored, progress, report, changes)
        if base is not None:
            if changing:
                self.last_lexical = self.lexical.build_changes(
                    base, changes.removed_chunks, changes.added_chunks
                )
                self._finish_table(base, None, changes, self.last_lexical.version)
            report.chunks = self.store.count()
            report.documents = self.docs.count() if report.chunks else 0
        else:
            scanned = scan(self.store)  # one pass: the keys the lexical sync needs, the documents
            if changing:
                self._end_change(scanned)
            self._finish_table(None, full, changes, self.lexical.current())
            report.chunks = self.store.count()
            report.documents = scanned.documents if report.chunks else 0
        report.seconds = time.perf_counter() - start
        self._write_manifest(report, roots=targets)
        return report

    def _begin_change(self) -> None:
        """Before a run's first write: no saved lexical index matches the collection any more."""
        self.lexical.stamp(pending_version())

    def _end_change(self, scanned: Scan | None = None) -> None:
        """After its last write: the lexical index of what the store holds, saved, then stamped."""
        self.last_lexical = self.lexical.build(scanned=scanned)

    def _split(
        self, docs: list[Document], stored: dict[str, _Stored], report: IndexReport
    ) -> list[BaseNode]:
        """Chunks of `docs`, one document at a time: a document that fails or runs too long is
        named in the report (it keeps whatever the store held of it) and the rest go on."""
        splitter = self.splitter()
        nodes: list[BaseNode] = []
        for doc in docs:
            try:
                nodes.extend(splitter.get_nodes_from_documents([doc]))
            except Exception as e:  # any splitter failure is this document's alone
                where = json.loads(str(doc.metadata.get("paths", "[]"))) or [doc.doc_id]
                report.failed.append(FailedFile(path=where[0], reason=failure_reason(e)))
                if doc.doc_id in stored:
                    report.updated -= 1
                else:
                    report.added -= 1
        return nodes

    def _embed(
        self,
        docs: list[Document],
        stored: dict[str, _Stored],
        progress: bool,
        report: IndexReport,
        changes: _Changes | None = None,
    ) -> int:
        """Split, embed and write `docs`, a batch at a time; returns the chunks written (and
        records them in `changes`)."""
        changes = changes if changes is not None else _Changes()
        if not docs:
            return 0
        pipeline = IngestionPipeline(transformations=[make_embedding(self.settings.embedding)])
        written = 0
        shown = logs.bars_wanted(progress)  # on a terminal only, not in a server's log
        with tqdm(total=len(docs), desc="Embedding", unit="doc", disable=not shown) as bar:
            for i in range(0, len(docs), DOCS_PER_BATCH):
                batch = docs[i : i + DOCS_PER_BATCH]
                chunks = self._split(batch, stored, report)
                nodes = list(pipeline.run(nodes=chunks, show_progress=False))
                self._set_chunk_counts(nodes)
                split_ids = {n.metadata["doc_id"] for n in nodes}
                # Old chunks go first: a crash after this leaves the document incomplete, and
                # the next run embeds it again (its n_chunks no longer matches what is stored).
                self.store.delete_ids(
                    [cid for d in split_ids for cid in stored.get(d, _Stored()).chunk_ids]
                )
                for j in range(0, len(nodes), self.store.batch_size()):
                    self.vector_store.add(nodes[j : j + self.store.batch_size()])
                self._record_written(nodes, split_ids, stored, changes)
                written += len(nodes)
                bar.update(len(batch))
        return written

    @staticmethod
    def _record_written(
        nodes: list[BaseNode], doc_ids: set[str], stored: dict[str, _Stored], changes: _Changes
    ) -> None:
        """The documents `doc_ids` now hold the chunks `nodes` (their old chunks are gone)."""
        for d in doc_ids:
            changes.removed_chunks.extend(stored.get(d, _Stored()).chunk_ids)
        for n in nodes:
            meta = n.metadata
            e = changes.upserts.get(meta["doc_id"])
            if e is None:
                e = changes.upserts[meta["doc_id"]] = DocEntry(
                    hashes={str(meta.get("doc_hash", ""))},
                    n_chunks=int(meta.get("n_chunks", 0) or 0),
                    sources=str(meta.get("sources", "")),
                    paths=json.loads(str(meta.get("paths", "[]"))),
                )
            e.chunk_ids.append(n.node_id)
            changes.added_chunks.append(n.node_id)

    @staticmethod
    def _set_chunk_counts(nodes: list[BaseNode]) -> None:
        counts: dict[str, int] = defaultdict(int)
        for n in nodes:
            counts[n.metadata["doc_id"]] += 1
        for n in nodes:
            n.metadata["n_chunks"] = counts[n.metadata["doc_id"]]

    def _update_metadata(
        self, docs: list[Document], stored: dict[str, _Stored], changes: _Changes | None = None
    ) -> None:
        for doc in docs:
            ids = stored[doc.doc_id].chunk_ids
            if changes is not None:  # same chunks, same text: listed in other files
                old = stored[doc.doc_id]
                changes.upserts[doc.doc_id] = DocEntry(
                    hashes=set(old.hashes),
                    chunk_ids=list(old.chunk_ids),
                    n_chunks=old.n_chunks,
                    sources=str(doc.metadata["sources"]),
                    paths=json.loads(str(doc.metadata.get("paths", "[]"))),
                )
            got = self.store.collection.get(ids=ids, include=["metadatas"])  # type: ignore[list-item]
            metas: list[Any] = []
            for m in got["metadatas"] or []:
                m = dict(m)
                for key in ("source", "sources", "paths", "position"):
                    m[key] = doc.metadata[key]
                metas.append(m)
            self.store.collection.update(ids=got["ids"], metadatas=metas)

    def _write_manifest(self, report: IndexReport, roots: Sequence[Path] | None = None) -> None:
        """Record the build; `roots` (the files and folders this run read) join those of the
        earlier builds, so that a rebuild knows everything it must read again."""
        record_build(self.settings, self.store, report, roots)

    def status(self) -> IndexStatus:
        manifest = read_manifest(self.manifest_path)
        self.store.verify()  # emptied under a running session: damaged, not "0 documents"
        chunks = self.store.count()
        docs = manifest.get("documents", 0) if manifest.get("chunks") == chunks else None
        if docs is None and chunks:
            current = self.lexical.current()  # the table, when it describes this content
            if is_final(current) and self.docs.version() == current:
                docs = self.docs.count()
        if docs is None:
            docs = len(self._stored()) if chunks else 0
        return IndexStatus(
            collection=self.store.name,
            documents=int(docs),
            chunks=chunks,
            last_build=manifest.get("last_build"),
            embedding_model=self.store.embedding,
            store=self.store.describe(),
        )

    def forget(self, paths: Sequence[str | Path]) -> int:
        """Remove from the store every document that comes only from the files `paths` (files
        being deleted: rag/ingest/library.py), under the index lock; returns the documents removed.
        A paper also listed in another file keeps its chunks."""
        files = {_real(str(p)) for p in paths}
        lock = Path(self.settings.index_dir) / f"{self.store.name}.lock"
        with index_lock(lock, self.settings.index_lock_timeout_s):
            base = self._table_base()
            full: dict[str, _Stored] | None = None
            if base is not None:
                self.last_path = "table"
                given = {str(p) for p in paths} | files
                stored = self.docs.get(self.docs.listed_in(given))
            else:
                self.last_path = "scan"
                stored = full = self._stored()
            gone = [
                d for d, s in stored.items() if s.paths and {_real(p) for p in s.paths} <= files
            ]
            changes = _Changes()
            for d in gone:
                changes.remove(d, stored[d])
            if gone:
                self._begin_change()
            self.store.delete_ids([cid for d in gone for cid in stored[d].chunk_ids])
            if gone and base is not None:
                self.last_lexical = self.lexical.build_changes(base, changes.removed_chunks, [])
            elif gone:
                self._end_change()
            if base is None or gone:
                self._finish_table(base, full, changes, self.lexical.current())
            chunks = self.store.count()
            if base is not None:
                documents = self.docs.count() if chunks else 0
            else:
                documents = len(stored) - len(gone) if chunks else 0
            self._write_manifest(IndexReport(removed=len(gone), documents=documents, chunks=chunks))
        return len(gone)


def flag_instructions(docs: Sequence[Document]) -> list[FlaggedSentence]:
    """Sentences that address the model or rule on every answer: listed in the report; the
    answer pipeline never uses them (rag/ingest/guard.py)."""
    flagged = []
    for doc in docs:
        for sentence in flagged_sentences(doc.text):  # the check retrieval's redact applies
            flagged.append(
                FlaggedSentence(
                    path=str(doc.metadata.get("source", "")),
                    title=str(doc.metadata.get("title", "")),
                    sentence=" ".join(sentence.split())[:300],
                )
            )
    return flagged


def _under(paths: list[str], roots: list[Path]) -> bool:
    """True when every file a document came from lies under one of `roots`."""
    if not paths:
        return False
    return all(any(Path(p) == r or r in Path(p).parents for r in roots) for p in paths)


def _real(path: str) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return path


def _resolved(path: str | Path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return Path(path).absolute()


# -- the rebuild, which reads the manifest's roots again ----------------------------------------


@dataclass
class RebuildPlan:
    """What `rag index --rebuild` does: the store it replaces, what it reads again, what it
    cannot (recorded, but gone: reported, not fatal) and where the old store went."""

    store: str
    roots: list[Path]
    missing: list[Path] = field(default_factory=list)
    recorded: bool = True  # False: no roots were recorded, so the corpus is read
    moved_to: Path | None = None

    def describe(self) -> str:
        what = "the folders it was built from" if self.recorded else "the corpus"
        lines = [f"Rebuilding {self.store} from {what}:"]
        lines += [f"  {p}" for p in self.roots]
        lines += [f"  {p} (no longer exists: skipped)" for p in self.missing]
        return "\n".join(lines)


def plan_rebuild(settings: Settings, paths: Sequence[str | Path] | None = None) -> RebuildPlan:
    """The rebuild's plan: `paths` when given, else every root the manifest records (the corpus
    when it records none). Nothing is touched."""
    if paths:
        wanted, recorded = [Path(p) for p in paths], True
    else:
        wanted = recorded_roots(settings)
        recorded = bool(wanted)
        wanted = wanted or [Path(settings.corpus_dir)]
    roots = [Path(union_roots([], [p])[0]) for p in wanted]
    here = [p for p in roots if p.exists()]
    gone = [p for p in roots if not p.exists()]
    return RebuildPlan(store=describe(settings), roots=here, missing=gone, recorded=recorded)
