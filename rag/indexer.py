"""Incremental, resumable indexing into Chroma with llama-index's ingestion pipeline.

Change detection is written here rather than with llama-index's docstore strategies: those keep
the document hashes in a separate docstore file, so a build killed between the docstore write and
the vector-store write leaves the two disagreeing. Here the vector store is the only record: every
chunk carries its document's hash and chunk count, so after a crash a document whose chunks are
missing or stale is simply embedded again, and the store always ends consistent.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llama_index.core import Document
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import BaseNode
from llama_index.vector_stores.chroma import ChromaVectorStore
from tqdm import tqdm

from rag.documents import load_documents
from rag.embeddings import make_embedding
from rag.guard import instruction_like
from rag.settings import Settings
from rag.store import Store
from rag.text import split_sentences
from rag.types import FlaggedSentence, IndexReport, IndexStatus

DOCS_PER_BATCH = 32


@dataclass
class _Stored:
    """What the store holds of one document."""

    hashes: set[str] = field(default_factory=set)
    chunk_ids: list[str] = field(default_factory=list)
    n_chunks: int = 0
    sources: str = ""
    paths: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.hashes) == 1 and len(self.chunk_ids) == self.n_chunks > 0


def _chunk_id(index: int, doc: BaseNode) -> str:
    return f"{doc.node_id}:{index}"


class Indexer:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.vector_store = ChromaVectorStore(chroma_collection=store.collection)

    @property
    def manifest_path(self) -> Path:
        return Path(self.settings.index_dir) / f"{self.store.name}.manifest.json"

    def splitter(self) -> SentenceSplitter:
        c = self.settings.chunking
        return SentenceSplitter(
            chunk_size=c.chunk_size, chunk_overlap=c.chunk_overlap, id_func=_chunk_id
        )

    def _stored(self) -> dict[str, _Stored]:
        stored: dict[str, _Stored] = defaultdict(_Stored)
        for row in self.store.iter_rows(include=["metadatas"]):
            meta = row["metadatas"] or {}
            s = stored[str(meta.get("doc_id", ""))]
            s.hashes.add(str(meta.get("doc_hash", "")))
            s.chunk_ids.append(row["id"])
            s.n_chunks = int(meta.get("n_chunks", 0) or 0)
            s.sources = str(meta.get("sources", ""))
            s.paths = json.loads(str(meta.get("paths", "[]")))
        return stored

    def index(
        self, paths: Sequence[str | Path] | None = None, progress: bool = True
    ) -> IndexReport:
        start = time.perf_counter()
        roots = [Path(p).resolve() for p in (paths or [self.settings.corpus_dir])]
        loaded = load_documents(roots)
        report = IndexReport(failed=loaded.failed, flagged=flag_instructions(loaded.documents))
        stored = self._stored()

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

        new_ids = {d.doc_id for d in loaded.documents}
        failed_files = {str(Path(f.path).resolve()) for f in loaded.failed}
        gone = [
            doc_id
            for doc_id, s in stored.items()
            if doc_id not in new_ids
            and _under(s.paths, roots)
            and not (set(s.paths) & failed_files)  # an unreadable file loses nothing
        ]
        self.store.delete_ids([cid for d in gone for cid in stored[d].chunk_ids])
        report.removed = len(gone)

        self._update_metadata(meta_only, stored)
        report.chunks_embedded = self._embed(to_embed, stored, progress)

        report.chunks = self.store.count()
        report.documents = len(self._stored()) if report.chunks else 0
        report.seconds = time.perf_counter() - start
        self._write_manifest(report)
        return report

    def _embed(self, docs: list[Document], stored: dict[str, _Stored], progress: bool) -> int:
        """Split, embed and write `docs`, a batch at a time; returns the chunks written."""
        if not docs:
            return 0
        pipeline = IngestionPipeline(
            transformations=[self.splitter(), make_embedding(self.settings.embedding)]
        )
        written = 0
        bar = tqdm(total=len(docs), desc="Embedding", unit="doc", disable=not progress)
        for i in range(0, len(docs), DOCS_PER_BATCH):
            batch = docs[i : i + DOCS_PER_BATCH]
            nodes = list(pipeline.run(documents=batch, show_progress=False))
            self._set_chunk_counts(nodes)
            # Old chunks go first: a crash after this leaves the document incomplete, and the
            # next run embeds it again (its n_chunks no longer matches what is stored).
            self.store.delete_ids(
                [cid for d in batch for cid in stored.get(d.doc_id, _Stored()).chunk_ids]
            )
            for j in range(0, len(nodes), self.store.batch_size()):
                self.vector_store.add(nodes[j : j + self.store.batch_size()])
            written += len(nodes)
            bar.update(len(batch))
        bar.close()
        return written

    @staticmethod
    def _set_chunk_counts(nodes: list[BaseNode]) -> None:
        counts: dict[str, int] = defaultdict(int)
        for n in nodes:
            counts[n.metadata["doc_id"]] += 1
        for n in nodes:
            n.metadata["n_chunks"] = counts[n.metadata["doc_id"]]

    def _update_metadata(self, docs: list[Document], stored: dict[str, _Stored]) -> None:
        for doc in docs:
            ids = stored[doc.doc_id].chunk_ids
            got = self.store.collection.get(ids=ids, include=["metadatas"])  # type: ignore[list-item]
            metas: list[Any] = []
            for m in got["metadatas"] or []:
                m = dict(m)
                for key in ("source", "sources", "paths", "position"):
                    m[key] = doc.metadata[key]
                metas.append(m)
            self.store.collection.update(ids=got["ids"], metadatas=metas)

    def _write_manifest(self, report: IndexReport) -> None:
        self.manifest_path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "last_build": datetime.now(UTC).isoformat(timespec="seconds"),
            "documents": report.documents,
            "chunks": report.chunks,
            "embedding_model": self.store.embedding,
        }
        tmp = self.manifest_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.manifest_path)

    def status(self) -> IndexStatus:
        manifest: dict[str, Any] = {}
        if self.manifest_path.exists():
            manifest = json.loads(self.manifest_path.read_text())
        chunks = self.store.count()
        docs = manifest.get("documents", 0) if manifest.get("chunks") == chunks else None
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


def flag_instructions(docs: Sequence[Document]) -> list[FlaggedSentence]:
    """Sentences that address the model or rule on every answer: listed in the report; the
    answer pipeline never uses them (rag/guard.py)."""
    flagged = []
    for doc in docs:
        for sentence in split_sentences(doc.text):
            if instruction_like(sentence):
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
