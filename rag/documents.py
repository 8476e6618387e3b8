"""Reading a collection: files and folders into llama-index `Document`s, one per paper or file.

Listing files (title line + abstract paragraph, see rag/listing.py) give one document per paper,
merged across files; any other .txt/.md/.pdf/.html file gives one document. A file that cannot be
read is reported with the reason and skipped; the rest is read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from llama_index.core import Document

from rag.listing import Paper, looks_like_listing, merge_duplicates, parse_listing
from rag.paths import HTML_SUFFIXES, PDF_SUFFIXES, TEXT_SUFFIXES, Limits, walk
from rag.types import FailedFile

# Only the title joins the text that is embedded and BM25-indexed; the rest is bookkeeping.
BOOKKEEPING_KEYS = [
    "doc_id",
    "source",
    "sources",
    "paths",
    "position",
    "doc_hash",
    "n_chunks",
    "kind",
]


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    ignored: list[FailedFile] = field(default_factory=list)  # left out by the walk, with why
    files: list[Path] = field(default_factory=list)


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def content_hash(title: str, text: str) -> str:
    return _sha(f"{title}\n{text}")[:20]


def _make_doc(
    doc_id: str, title: str, text: str, paths: list[Path], position: int, kind: str
) -> Document:
    meta = {
        "doc_id": doc_id,
        "title": title,
        "source": paths[0].name,
        "sources": json.dumps([p.name for p in paths]),
        "paths": json.dumps([str(p) for p in paths]),
        "position": position,
        "doc_hash": content_hash(title, text),
        "n_chunks": 0,
        "kind": kind,
    }
    return Document(
        text=text,
        id_=doc_id,
        metadata=meta,
        excluded_embed_metadata_keys=list(BOOKKEEPING_KEYS),
        excluded_llm_metadata_keys=[*BOOKKEEPING_KEYS, "title"],
        metadata_template="{value}",
        text_template="{metadata_str}\n{content}",
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"not UTF-8 text ({e.reason} at byte {e.start})") from e


def _read_pdf(path: Path) -> str:
    from llama_index.readers.file import PDFReader

    pages = PDFReader(return_full_document=True).load_data(path)
    return "\n\n".join(p.text for p in pages)


def _read_html(path: Path) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    body = soup.body or soup
    text = "\n".join(line.strip() for line in body.get_text("\n").splitlines() if line.strip())
    return title, text


def _title_of(text: str, path: Path) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200] if len(line) <= 200 else path.stem
    return path.stem


def _file_document(path: Path) -> tuple[list[Paper] | None, Document | None]:
    """A listing file gives papers; another file gives one document."""
    suffix = path.suffix.lower()
    title = ""
    if suffix in PDF_SUFFIXES:
        text = _read_pdf(path)
    elif suffix in HTML_SUFFIXES:
        title, text = _read_html(path)
    elif suffix in TEXT_SUFFIXES:
        text = _read_text(path)
        if looks_like_listing(text):
            return parse_listing(text, str(path)), None
    else:
        raise ValueError(f"unsupported file type {suffix or '(none)'}")
    text = text.strip()
    if not text:
        raise ValueError("no text could be extracted (empty, or a scanned PDF without text)")
    title = title or _title_of(text, path)
    doc_id = "file-" + _sha(str(path.resolve()))[:16]
    return None, _make_doc(doc_id, title, text, [path.resolve()], 0, "file")


def load_documents(
    paths: Sequence[Path], limits: Limits | None = None, roots: Sequence[Path] | None = None
) -> LoadResult:
    """Read every supported file under `paths` (see rag/paths.py for what a walk leaves out);
    papers listed in several files become one."""
    found = walk([Path(p) for p in paths], limits, roots)
    result = LoadResult(ignored=found.ignored)
    papers: list[Paper] = []
    for path in found.files:
        result.files.append(path)
        try:
            listed, doc = _file_document(path)
        except Exception as e:  # any reader failure: report the file, keep going
            result.failed.append(FailedFile(path=str(path), reason=failure_reason(e)))
            continue
        if listed is not None:
            for p in listed:
                p.sources = [str(path.resolve())]
            papers.extend(listed)
        elif doc is not None:
            result.documents.append(doc)
    result.documents.extend(_paper_documents(merge_duplicates(papers)))
    return result


def _paper_documents(papers: list[Paper]) -> list[Document]:
    docs: list[Document] = []
    seen: set[str] = set()
    for p in papers:
        doc_id = "paper-" + _sha(p.title.strip().lower())[:16]
        if doc_id in seen:  # same title, different abstract: a different paper
            doc_id = "paper-" + _sha(p.title.strip().lower() + p.abstract)[:16]
        seen.add(doc_id)
        paths = [Path(s) for s in p.sources]
        docs.append(_make_doc(doc_id, p.title, p.abstract, paths, p.positions[0], "paper"))
    return docs


def failure_reason(error: BaseException) -> str:
    """A reader's failure in a line: llama-index wraps some in tenacity's RetryError, whose text
    ("RetryError[<Future …>]") hides the cause, so the cause is named instead."""
    last_attempt = getattr(error, "last_attempt", None)
    if last_attempt is not None and last_attempt.exception() is not None:
        error = last_attempt.exception()
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
