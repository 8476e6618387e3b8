"""A collection's documents as a reader opens them: what is indexed (one entry per document: a
listed paper, a PDF page, a Markdown/HTML section, a text file) and one document's text, read
back from the store.

The MCP face serves these as resources (rag/mcp/server.py). The text is the chunks' text in
their order, with the guard's redaction (rag/ingest/guard.py): a sentence that tries to instruct
the assistant is never handed to a client, whichever face reads it. Chunks overlap when a long
document was split on sentences, so the text of such a document may repeat a sentence at a seam.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from rag.core.errors import RagError
from rag.ingest.guard import redact
from rag.ingest.sources import stored_label, stored_page
from rag.storage.chroma import Store


class DocumentNotFoundError(RagError):
    """No document of that id in the collection."""


class DocumentEntry(BaseModel):
    """One document of a collection, as a listing names it."""

    doc_id: str
    title: str
    label: str = ""  # the readable source name (a listing's name and date, a file's name)
    page: int | None = None
    section: str = ""
    chunks: int = 0


class DocumentText(DocumentEntry):
    """A document with its text."""

    text: str = ""


def _entry(doc_id: str, meta: dict[str, Any], chunks: int) -> DocumentEntry:
    return DocumentEntry(
        doc_id=doc_id,
        title=redact(str(meta.get("title", ""))),
        label=stored_label(meta),
        page=stored_page(meta),
        section=redact(str(meta.get("section") or "")),
        chunks=chunks,
    )


def list_documents(store: Store) -> list[DocumentEntry]:
    """Every document of the store's collection, by title (one read of the metadata: a few ms
    for the shipped collection, seconds at 100k chunks)."""
    first: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    for row in store.iter_rows(["metadatas"]):
        meta = dict(row.get("metadatas") or {})
        doc_id = str(meta.get("doc_id", ""))
        if not doc_id:
            continue
        first.setdefault(doc_id, meta)
        counts[doc_id] = counts.get(doc_id, 0) + 1
    entries = [_entry(d, m, counts[d]) for d, m in first.items()]
    return sorted(entries, key=lambda e: (e.title.casefold(), e.page or 0, e.doc_id))


def _chunk_order(chunk_id: str) -> int:
    """A chunk's place in its document: chunk ids end in ":<index>" (rag/ingest/indexer.py)."""
    tail = chunk_id.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def read_document(store: Store, doc_id: str) -> DocumentText:
    """The document `doc_id` with its text; DocumentNotFoundError when the collection has none."""
    got = store.collection.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
    rows = sorted(
        zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False),
        key=lambda r: _chunk_order(r[0]),
    )
    if not rows:
        raise DocumentNotFoundError(f"The collection holds no document {doc_id!r}.")
    entry = _entry(doc_id, dict(rows[0][2] or {}), len(rows))
    text = "\n\n".join(redact(str(t or "")) for _, t, _ in rows)
    return DocumentText(**entry.model_dump(), text=text)
