"""A user's own documents: uploaded, indexed, listed, opened and deleted — the logic the UI and
the API share (they only translate).

- **Add**: each upload is checked first (type: .pdf .md .markdown .txt .html .htm, and its
  content must be what the name says; size: `security.max_file_bytes` per file,
  `max_request_files` and `max_request_bytes` per request); one bad file refuses the whole request
  with a message naming every problem, and nothing is stored. Accepted files are stored under
  `uploads_dir` with a safe name (`safe_name`: the uploaded name's letters and digits of any
  script kept, with `.`, `_`, `-`; anything else becomes `_`) and indexed one file at a time,
  confined to the indexing roots like any API or UI index request, with progress per file.
  A re-upload of a name is an update of that file; two files of one request, or a file whose
  name only reduces to a stored file's name, get names of their own (`name-2.txt`), never merged.
  The result says, per file, added / updated / unchanged / failed (with the reader's reason; a
  new file that cannot be read is not kept; a re-upload that cannot be read keeps the earlier
  version, in the folder and in the index), with the index report.
- **One upload of a name at a time**: the replace and the indexing of one stored name run under
  a lock of that name (`flock`, so concurrent requests and processes queue up, and `kill -9`
  frees it). The staged copy, the earlier version and a journal are hidden files of the uploads
  folder (`.upload-<key>.*`: the same file system, never walked, never listed, gone once the
  upload ends); the name locks and the names files were uploaded as are kept beside the index
  (`<index_dir>/<collection>.uploads/`). The journal is written before the file is replaced and
  removed once its indexing is done; an upload interrupted midway (a killed server) is rolled
  back by `recover` (run before every add, list and delete): the earlier version comes back and
  is indexed again, or a new file is removed with what the index holds of it. Documents are
  never listed as complete while their upload is unfinished.
- **List**: the stored uploads with what the index holds of each (pages, sections, chunks).
- **Delete**: its chunks leave the index (under the index lock), then the file goes. Papers an
  upload lists are documents of their own (ids scoped by the file, rag/ingest/documents.py), so
  neither an upload nor its deletion touches the collection's other documents.
- **Open**: the file a stored document id comes from, if it lies under the indexing roots
  (`rag.ingest.paths.confine`); the UI serves it at `/document/{doc_id}`.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from rag.core.errors import (
    IndexBusyError,
    NotFoundError,
    PathNotAllowedError,
    RagError,
    RequestTooLargeError,
    UnsupportedFileError,
)
from rag.core.settings import Settings
from rag.core.types import IndexReport
from rag.ingest.paths import HTML_SUFFIXES, PDF_SUFFIXES, SUPPORTED, confine

log = logging.getLogger("rag.ingest.library")

Upload = tuple[str, Path]  # (the name it was uploaded as, where its bytes are now)
Progress = Callable[[int, int, str], None]  # (files done, files in all, the file being indexed)

_DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 180  # UTF-8 bytes of a stored name's stem (file systems allow 255 in all)
STAGED = ".upload-"  # the prefix of an upload's hidden files in the uploads folder
LOCK_POLL_S = 0.1

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
    complete: bool = Field(
        default=True, description="False while an upload of it is still being indexed."
    )


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


def uploaded_name(name: str) -> str:
    """The name a file was uploaded as, without folders (NFC: one spelling per name)."""
    base = unicodedata.normalize("NFC", name or "")
    return base.replace("\\", "/").rsplit("/", 1)[-1].strip()


def safe_name(name: str) -> str:
    """`name` without folders, safe to store: letters and digits of any script kept with `.`,
    `_` and `-`, any other run of characters (spaces, punctuation, separators, control
    characters) one `_`, no leading dot, its suffix in lower case ("../../Mon Papier (v2).PDF" →
    "Mon_Papier_v2.pdf", "отчёт за май.txt" → "отчёт_за_май.txt"). A stem over MAX_NAME_CHARS
    characters or MAX_NAME_BYTES bytes is cut and ends with a hash of the whole, so two long
    names stay two names."""
    base = uploaded_name(name)
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    whole = stem
    stem = re.sub(r"[^\w.-]+", "_", stem).strip("._-")  # \w: any script's letters and digits
    if len(stem) > MAX_NAME_CHARS or len(stem.encode()) > MAX_NAME_BYTES:
        # cut short enough that a numbered name ("-2", `_numbered`) is still a safe name
        tag = "-" + hashlib.sha1(whole.encode()).hexdigest()[:8]
        room = len(tag) + 8
        stem = stem[: MAX_NAME_CHARS - room]
        while len(stem.encode()) > MAX_NAME_BYTES - room:
            stem = stem[:-1]
        stem = stem.rstrip("._-") + tag
    stem = stem or "document"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def is_stored_name(name: str) -> bool:
    """True for a name `add` may have stored (`safe_name`, maybe numbered): what delete and the
    journals accept."""
    return (
        bool(re.fullmatch(r"[\w.-]+", name))
        and not name.startswith(".")
        and len(name.encode()) <= 240
        and unicodedata.is_normalized("NFC", name)
    )


def _numbered(stored: str, n: int) -> str:
    """The n-th name of its own for a file whose safe name is taken ("a.txt" → "a-2.txt")."""
    stem, dot, suffix = stored.rpartition(".")
    if not dot:
        return f"{stored}-{n}"
    return f"{stem}-{n}.{suffix}"


def _key(stored: str) -> str:
    """The stored name's key for its lock, journal and staged files (any script, fixed size)."""
    return hashlib.sha1(stored.encode()).hexdigest()[:20]


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
        self.recover()  # what a stopped server left unfinished (see the module docstring)

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
        self.recover()
        taken: dict[str, str] = {}  # stored name -> the sha256 this request stored there
        outcomes: list[FileOutcome] = []
        reports: list[IndexReport] = []
        total = len(uploads)
        for i, (name, source) in enumerate(uploads):
            if on_progress is not None:
                on_progress(i, total, name)
            outcome, runs = self._add_one(name, source, sha256_file(source), taken)
            outcomes.append(outcome)
            reports.extend(runs)
        if on_progress is not None:
            on_progress(total, total, "")
        report = merge_reports(reports)
        held = self._held()
        for o in outcomes:
            if o.status != "failed":
                h = held.get(str(folder / o.id), _Held())
                o.pages, o.chunks = len(h.pages), h.chunks
        return UploadResult(files=outcomes, report=report)

    def _add_one(
        self, name: str, source: Path, digest: str, taken: dict[str, str]
    ) -> tuple[FileOutcome, list[IndexReport]]:
        """Store and index one upload under its safe name, or a numbered one when that name
        holds another file (of this request, or uploaded under another name)."""
        folder, original, base = self.folder, uploaded_name(name), safe_name(name)
        for n in itertools.count(1):
            stored = base if n == 1 else _numbered(base, n)
            if stored in taken:
                if taken[stored] == digest:  # the same file twice in one request
                    return FileOutcome(name=name, id=stored, status="unchanged"), []
                continue
            with self._name_lock(stored):
                target = folder / stored
                if target.is_symlink() or (target.exists() and not target.is_file()):
                    continue  # not one of ours: never replaced
                status = "added"
                if target.exists():
                    same = sha256_file(target) == digest
                    recorded = self._recorded_name(stored)
                    if not same and recorded is not None and recorded != original:
                        continue  # another file's name: this one gets a name of its own
                    status = "unchanged" if same else "updated"
                taken[stored] = digest
                return self._store_and_index(name, original, source, target, status)
        raise AssertionError("unreachable")  # itertools.count never ends

    def _store_and_index(
        self, name: str, original: str, source: Path, target: Path, status: str
    ) -> tuple[FileOutcome, list[IndexReport]]:
        """Under the name's lock: stage the bytes, journal, replace, index; roll back when the
        new file cannot be indexed (the earlier version comes back, a new file goes)."""
        key = _key(target.name)
        journal, backup = self._staged(key, "journal"), self._staged(key, "old")
        if status != "unchanged":
            fd, staged_name = tempfile.mkstemp(
                dir=self.folder, prefix=f"{STAGED}{key}.", suffix=".new"
            )
            os.close(fd)
            staged = Path(staged_name)
            try:
                shutil.copyfile(source, staged)
                entry = {"id": target.name, "name": original, "kept": status == "updated"}
                _write_json(journal, entry)
                backup.unlink(missing_ok=True)
                if status == "updated":
                    os.link(target, backup)  # the earlier version, until the new one is indexed
                os.replace(staged, target)
            finally:
                staged.unlink(missing_ok=True)
            self._record_name(target.name, original)
        try:
            report = self.assistant.index([target], confined=True)
        except BaseException:
            if status != "unchanged":
                try:
                    self._roll_back(target.name)  # the caller hears the error; nothing is lost
                except Exception as e:  # its journal stays: the next `recover` finishes it
                    log.warning("rolling back the upload of %s failed: %s", target.name, e)
            raise
        problem = self._problem(report, target)
        if problem is None:
            journal.unlink(missing_ok=True)
            backup.unlink(missing_ok=True)
            return FileOutcome(name=name, id=target.name, status=status), [report]  # type: ignore[arg-type]
        reports = [report]
        if status == "updated":
            problem += "; the earlier version is kept"
        if status != "unchanged":
            restored = self._roll_back(target.name)
            reports.extend([restored] if restored is not None else [])
        return FileOutcome(name=name, id=target.name, status="failed", reason=problem), reports

    def _problem(self, report: IndexReport, target: Path) -> str | None:
        """Why `target` is not in the index after `report`'s run; None when it is."""
        for f in report.failed + report.ignored:
            try:
                if Path(f.path).resolve() == target:
                    return f.reason
            except (OSError, RuntimeError):
                continue
        got = self.assistant.store.collection.get(
            where={"paths": json.dumps([str(target)])}, limit=1, include=[]
        )
        return None if got.get("ids") else "nothing could be indexed"

    # -- interrupted uploads -----------------------------------------------------------------

    def _staged(self, key: str, kind: str) -> Path:
        """An upload's hidden file in the uploads folder: its journal or its earlier version."""
        return self.folder / f"{STAGED}{key}.{kind}"

    def _meta(self) -> Path:
        """Where the name locks and the uploaded names live (beside the index)."""
        meta = Path(self.settings.index_dir) / f"{self.settings.store.collection}.uploads"
        meta.mkdir(parents=True, exist_ok=True)
        return meta

    @contextmanager
    def _name_lock(self, stored: str, wait: bool = True) -> Iterator[bool]:
        """Hold the lock of one stored name for the block (yields True); `wait=False` yields
        False at once when someone holds it. Lock files stay: removing one races its users."""
        with self._key_lock(_key(stored), stored, wait) as got:
            yield got

    @contextmanager
    def _key_lock(self, key: str, stored: str, wait: bool = True) -> Iterator[bool]:
        path = self._meta() / f"{key}.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + self.settings.index_lock_timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not wait:
                        yield False
                        return
                    if time.monotonic() >= deadline:
                        raise IndexBusyError(
                            f"Another upload of {stored!r} is being stored and indexed and did "
                            f"not finish within {self.settings.index_lock_timeout_s:g} s "
                            "(index_lock_timeout_s). Try again when it is done."
                        ) from None
                    time.sleep(LOCK_POLL_S)
            yield True
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _recorded_name(self, stored: str) -> str | None:
        """The name `stored` was uploaded as (None: not recorded, an upload from before)."""
        try:
            return (self._meta() / f"{_key(stored)}.name").read_text(encoding="utf-8")
        except OSError:
            return None

    def _record_name(self, stored: str, original: str) -> None:
        _write_text(self._meta() / f"{_key(stored)}.name", original)

    def _roll_back(self, stored: str) -> IndexReport | None:
        """Undo an unfinished upload of `stored` (its journal says what it was), under its lock:
        the earlier version back and indexed again, or a new file and its chunks removed.
        Returns the index run that restored the earlier version, if any."""
        key = _key(stored)
        journal, backup = self._staged(key, "journal"), self._staged(key, "old")
        try:
            entry = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entry = {}
        target = self.folder / stored
        report = None
        if entry.get("kept") or (not entry and target.exists()):
            if backup.exists():
                os.replace(backup, target)
            if target.exists():  # the index back in step with the file it holds
                report = self.assistant.index([target], confined=True)
        else:
            self.assistant.forget([target])
            target.unlink(missing_ok=True)
            (self._meta() / f"{key}.name").unlink(missing_ok=True)
        journal.unlink(missing_ok=True)
        backup.unlink(missing_ok=True)
        return report

    def recover(self) -> list[str]:
        """Roll back the uploads a stopped process left unfinished (a journal whose name lock
        nobody holds) and remove leftover staged copies; returns the stored names rolled back.
        An upload still running here or in another process is left alone."""
        folder = self.folder
        if not folder.is_dir():
            return []
        done = []
        for journal in sorted(folder.glob(f"{STAGED}*.journal")):
            try:
                stored = str(json.loads(journal.read_text(encoding="utf-8"))["id"])
            except (OSError, ValueError, KeyError, TypeError):
                journal.unlink(missing_ok=True)  # torn before the file was touched
                continue
            if not is_stored_name(stored) or journal != self._staged(_key(stored), "journal"):
                journal.unlink(missing_ok=True)  # not one this code wrote
                continue
            with self._name_lock(stored, wait=False) as mine:
                if mine and journal.exists():
                    self._roll_back(stored)
                    done.append(stored)
        for leftover in folder.glob(f"{STAGED}*"):
            key = leftover.name[len(STAGED) :].split(".", 1)[0]
            if self._staged(key, "journal").exists() or not leftover.is_file():
                continue  # an upload still running (a stopped one was rolled back above)
            with self._key_lock(key, key, wait=False) as mine:
                if mine:
                    leftover.unlink(missing_ok=True)
        for old in folder.glob(".incoming-*"):  # staged copies of the code before this one
            if old.is_file() and not old.is_symlink():
                old.unlink(missing_ok=True)
        return done

    def _unfinished(self) -> set[str]:
        """The stored names whose upload is running now (their journal is there)."""
        return {
            j.name[len(STAGED) :].split(".", 1)[0] for j in self.folder.glob(f"{STAGED}*.journal")
        }

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
        self.recover()
        held = self._held()
        unfinished = self._unfinished()
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
                    complete=_key(path.name) not in unfinished,
                )
            )
        return sorted(out, key=lambda d: (-d.modified, d.id))

    def _stored_file(self, doc_id: str) -> Path:
        missing = NotFoundError(f"No uploaded document {doc_id[:200]!r}.")
        if not is_stored_name(doc_id or ""):
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
        with self._name_lock(path.name):  # not while an upload of that name is stored
            self.assistant.forget([path])
            path.unlink(missing_ok=True)
            (self._meta() / f"{_key(path.name)}.name").unlink(missing_ok=True)
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


def _write_text(path: Path, text: str) -> None:
    """Write `path` whole or not at all (a temporary file, flushed to disk, then renamed)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    _write_text(path, json.dumps(data, ensure_ascii=False))


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def is_html(path: Path) -> bool:
    return path.suffix.lower() in HTML_SUFFIXES
