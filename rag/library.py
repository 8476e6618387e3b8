"""A user's own documents: uploaded, indexed, listed, opened and deleted — the logic the UI and
the API share (they only translate).

- **Add**: each upload is checked first (type: .pdf .md .markdown .txt .html .htm, and its
  content must be what the name says; size: `security.max_file_bytes` per file,
  `max_request_files` and `max_request_bytes` per request); one bad file refuses the whole request
  with a message naming every problem, and nothing is stored. Accepted files are stored under
  `uploads_dir` with a safe name (the uploaded name reduced to letters, digits, `.`, `_`, `-`;
  an upload with the name of a stored file replaces it) and indexed one file at a time, confined
  to the indexing roots like any API or UI index request, with progress per file. The result
  says, per file, added / updated / unchanged / failed (with the reader's reason; a new file
  that cannot be read is not kept), with the index report.
- **List**: the stored uploads with what the index holds of each (pages, sections, chunks).
- **Delete**: its chunks leave the index (under the index lock), then the file goes.
- **Open**: the file a stored document id comes from, if it lies under the indexing roots
  (`rag.paths.confine`); the UI serves it at `/document/{doc_id}`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from rag.errors import (
    NotFoundError,
    PathNotAllowedError,
    RagError,
    RequestTooLargeError,
    UnsupportedFileError,
)
from rag.paths import HTML_SUFFIXES, PDF_SUFFIXES, SUPPORTED, confine
from rag.settings import Settings
from rag.types import IndexReport

Upload = tuple[str, Path]  # (the name it was uploaded as, where its bytes are now)
Progress = Callable[[int, int, str], None]  # (files done, files in all, the file being indexed)

_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_STORED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,159}$")
MAX_NAME_CHARS = 100

MEDIA_TYPES = {
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".markdown": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
}


class DocumentInfo(BaseModel):
    """An uploaded document, as the index holds it."""

    id: str = Field(description="Its stored file name under the uploads folder.")
    title: str = ""
    bytes: int
    modified: float = Field(description="time.time() of the last upload.")
    pages: int = Field(default=0, description="PDF pages with text in the index.")
    sections: int = Field(default=0, description="Markdown/HTML sections in the index.")
    chunks: int = Field(default=0, description="Chunks in the index; 0: not indexed.")


class FileOutcome(BaseModel):
    """What became of one uploaded file."""

    name: str = Field(description="The name it was uploaded as.")
    id: str = Field(description="Its stored name (the document id for list and delete).")
    status: Literal["added", "updated", "unchanged", "failed"]
    reason: str = ""
    pages: int = 0
    chunks: int = 0


class UploadResult(BaseModel):
    files: list[FileOutcome]
    report: IndexReport


@dataclass
class _Held:
    """What the index holds of one file."""

    title: str = ""
    chunks: int = 0
    pages: set[int] = field(default_factory=set)
    sections: set[str] = field(default_factory=set)


def safe_name(name: str) -> str:
    """`name` without folders, reduced to letters, digits, `.`, `_` and `-`, its suffix in lower
    case ("../../Mon Papier (v2).PDF" → "Mon_Papier_v2.pdf")."""
    base = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    base = base.replace("\\", "/").rsplit("/", 1)[-1].strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:MAX_NAME_CHARS] or "document"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def sha256_file(path: Path) -> str:
    """The file's sha256, read in blocks (a large upload is never held in memory)."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _content_problem(path: Path, suffix: str) -> str:
    """Why the file's bytes are not what its name says; "" when they are."""
    with path.open("rb") as f:
        head = f.read(1024)
    if suffix in PDF_SUFFIXES:
        return "" if head.lstrip()[:5] == b"%PDF-" else "not a PDF file (no %PDF- header)"
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        return f"not UTF-8 text ({e.reason} at byte {e.start})"
    if b"\x00" in head:
        return "a binary file, not text"
    return ""


def merge_reports(reports: Sequence[IndexReport]) -> IndexReport:
    """One report for several index runs (the collection's size as of the last)."""
    out = IndexReport()
    for r in reports:
        out.added += r.added
        out.updated += r.updated
        out.removed += r.removed
        out.skipped += r.skipped
        out.failed += r.failed
        out.ignored += r.ignored
        out.flagged += r.flagged
        out.chunks_embedded += r.chunks_embedded
        out.seconds += r.seconds
        out.documents, out.chunks = r.documents, r.chunks
    return out


class Library:
    """The uploaded documents of one in-process `Assistant` (see the module docstring)."""

    def __init__(self, settings: Settings, assistant: Any) -> None:
        self.settings = settings
        self.assistant = assistant

    @property
    def folder(self) -> Path:
        return Path(self.settings.uploads_dir).expanduser().resolve()

    # -- add ---------------------------------------------------------------------------------

    def check(self, uploads: Sequence[Upload]) -> None:
        """Refuse the request, naming every problem, unless every file may be stored."""
        sec = self.settings.security
        if not uploads:
            raise UnsupportedFileError("No file was uploaded.")
        if len(uploads) > sec.max_request_files:
            raise RequestTooLargeError(
                f"{len(uploads)} files at once; the limit is {sec.max_request_files:,} "
                "(security.max_request_files)."
            )
        too_large, wrong = [], []
        total = 0
        kinds = " ".join(sorted(SUPPORTED))
        for name, path in uploads:
            size = path.stat().st_size
            total += size
            suffix = Path(safe_name(name)).suffix.lower()
            if size > sec.max_file_bytes:
                too_large.append(
                    f"{name}: too large ({size:,} bytes; the limit is {sec.max_file_bytes:,})"
                )
            elif suffix not in SUPPORTED:
                wrong.append(f"{name}: unsupported type {suffix or '(none)'} (supported: {kinds})")
            elif size == 0:
                wrong.append(f"{name}: empty file")
            else:
                problem = _content_problem(path, suffix)
                if problem:
                    wrong.append(f"{name}: {problem}")
        if total > sec.max_request_bytes and not too_large:
            too_large.append(
                f"{total:,} bytes in all; the limit is {sec.max_request_bytes:,} "
                "(security.max_request_bytes)"
            )
        if too_large:
            raise RequestTooLargeError("Not uploaded: " + "; ".join(too_large + wrong) + ".")
        if wrong:
            raise UnsupportedFileError("Not uploaded: " + "; ".join(wrong) + ".")

    def add(self, uploads: Sequence[Upload], on_progress: Progress | None = None) -> UploadResult:
        """Check, store and index `uploads`; see the module docstring."""
        self.check(uploads)
        folder = self.folder
        self._check_folder(folder)
        stored: dict[str, tuple[str, Path, str]] = {}  # stored name -> (name, path, status)
        for name, source in uploads:
            target = folder / safe_name(name)
            status = "added"
            if target.exists():
                status = "unchanged" if sha256_file(target) == sha256_file(source) else "updated"
            tmp = folder / f".incoming-{os.getpid()}-{target.name}"
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
            stored[target.name] = (name, target, status)  # a later file of the same name wins

        reports: list[IndexReport] = []
        total = len(stored)
        for i, (name, target, _) in enumerate(stored.values()):
            if on_progress is not None:
                on_progress(i, total, name)
            reports.append(self.assistant.index([target], confined=True))
        if on_progress is not None:
            on_progress(total, total, "")
        report = merge_reports(reports)

        reasons = {str(Path(f.path).resolve()): f.reason for f in report.failed + report.ignored}
        held = self._held()
        outcomes = []
        for stored_name, (name, target, status) in stored.items():
            reason = reasons.get(str(target))
            h = held.get(str(target), _Held())
            if reason is not None or h.chunks == 0:
                if status == "added":
                    target.unlink(missing_ok=True)  # a new file that cannot be read is not kept
                outcomes.append(
                    FileOutcome(
                        name=name,
                        id=stored_name,
                        status="failed",
                        reason=reason or "nothing could be indexed",
                    )
                )
                continue
            outcomes.append(
                FileOutcome(
                    name=name,
                    id=stored_name,
                    status=status,  # type: ignore[arg-type]
                    pages=len(h.pages),
                    chunks=h.chunks,
                )
            )
        return UploadResult(files=outcomes, report=report)

    def _check_folder(self, folder: Path) -> None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RagError(f"Cannot create the uploads folder {folder}: {e.strerror or e}") from e
        try:
            confine(folder, self.settings.index_roots())
        except PathNotAllowedError:
            raise RagError(
                f"The uploads folder {folder} is not among the indexing roots "
                "(security.index_roots): uploaded files could not be indexed."
            ) from None

    # -- list, delete, open ------------------------------------------------------------------

    def _held(self) -> dict[str, _Held]:
        """What the index holds of each file under the uploads folder, by real path."""
        folder = str(self.folder)
        held: dict[str, _Held] = {}
        for row in self.assistant.store.iter_rows(include=["metadatas"]):
            meta = row["metadatas"] or {}
            try:
                paths = json.loads(str(meta.get("paths") or "[]"))
            except ValueError:
                continue
            for p in paths:
                if not str(p).startswith(folder + os.sep):
                    continue
                h = held.setdefault(str(p), _Held())
                h.chunks += 1
                h.title = h.title or str(meta.get("title") or "")
                if isinstance(meta.get("page"), int):
                    h.pages.add(int(meta["page"]))
                if meta.get("section"):
                    h.sections.add(str(meta["section"]))
        return held

    def list(self) -> list[DocumentInfo]:
        """The stored uploads, the most recent first."""
        folder = self.folder
        if not folder.is_dir():
            return []
        held = self._held()
        out = []
        for path in folder.iterdir():
            if path.name.startswith(".") or not path.is_file() or path.is_symlink():
                continue
            if path.suffix.lower() not in SUPPORTED:
                continue
            st = path.stat()
            h = held.get(str(path), _Held())
            out.append(
                DocumentInfo(
                    id=path.name,
                    title=h.title,
                    bytes=st.st_size,
                    modified=st.st_mtime,
                    pages=len(h.pages),
                    sections=len(h.sections),
                    chunks=h.chunks,
                )
            )
        return sorted(out, key=lambda d: (-d.modified, d.id))

    def _stored_file(self, doc_id: str) -> Path:
        missing = NotFoundError(f"No uploaded document {doc_id[:200]!r}.")
        if not _STORED_NAME.match(doc_id or ""):
            raise missing
        try:
            path = confine(doc_id, [self.folder])
        except PathNotAllowedError:
            raise missing from None
        if not path.is_file() or path.parent != self.folder:
            raise missing
        return path

    def delete(self, doc_id: str) -> DocumentInfo:
        """Remove an upload's chunks from the index, then the file; returns what it was."""
        path = self._stored_file(doc_id)
        info = next((d for d in self.list() if d.id == path.name), None)
        self.assistant.forget([path])
        path.unlink(missing_ok=True)
        return info or DocumentInfo(id=path.name, bytes=0, modified=time.time())

    def open(self, doc_id: str) -> Path:
        """The file an indexed document comes from, confined to the indexing roots; NotFoundError
        for an unknown id or a file outside them (the same message)."""
        missing = NotFoundError(f"No indexed document {doc_id[:200]!r}.")
        if not _DOC_ID.match(doc_id or ""):
            raise missing
        got = self.assistant.store.collection.get(
            where={"doc_id": doc_id}, limit=1, include=["metadatas"]
        )
        metas = got.get("metadatas") or []
        if not metas:
            raise missing
        try:
            paths = json.loads(str((metas[0] or {}).get("paths") or "[]"))
        except ValueError:
            raise missing from None
        roots = self.settings.index_roots()
        for p in paths:
            try:
                path = confine(str(p), roots)
            except PathNotAllowedError:
                continue
            if path.is_file() and path.suffix.lower() in SUPPORTED:
                return path
        raise missing


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def is_html(path: Path) -> bool:
    return path.suffix.lower() in HTML_SUFFIXES
