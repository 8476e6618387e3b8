"""Folder sync: `rag index --watch PATH` keeps a collection in step with folders.

There is no second indexer here: every change goes through `Assistant.index` (incremental by
content hash, resumable, one file's failure is that file's alone) and `Assistant.forget`, under
the index lock, so a `rag serve` or `rag ui` beside it sees each finished run through the
lexical index's version stamp (rag/storage/lexical.py), and an upload through them waits its turn.

- **Start.** The watcher starts first, then the folders are indexed in full: whatever changed
  while nobody watched (files added, edited, deleted) is caught, and nothing that changes during
  that first run is missed (its events wait in the queue).
- **Events** come from `watchfiles` (inotify; polling where it does not work), debounced by it
  (`watch.debounce_ms`, `watch.step_ms`). What the events say happened is not trusted: a path
  that exists now is indexed (a file, or a folder moved in), one that does not is forgotten (a
  file, or every file of a folder moved away). A rename is both; an editor's save through a
  temporary file and a rename is one update. Events that arrive while a run is busy join the
  next run, so a burst of changes is one index run (and at most one `forget`).
- **Left out**: hidden files and folders, editors' temporary and swap files, the index's own
  folders, and types the indexer does not read (named once).
- **Papers listed in several files** (rag/ingest/listing.py) keep every file they come from: a
  changed or deleted listing's co-listed files are read again in the same run.
- **Reported** one line per file changed ("+ added a.md (3 chunks)", "~ updated", "- removed",
  "> renamed", "! failed" with the reader's reason). An error of the store or the lock is one
  line too; the changes stay pending and are tried again (`watch.retry_s`).
- **Stopping**: a first Ctrl-C (or SIGTERM) stops once the current run is done; a second one
  abandons it, which is safe: the indexer resumes a killed run on the next start.

What each run costs beyond the indexer's: what the store holds of the changed files, before and
after (for the per-file lines), read from the document table (rag/storage/doctable.py) while it
describes the store; without it (an index made before the table, a run killed midway, another
host's writes) from the store's metadata, every row, as long as one of the indexer's own reads.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal

from watchfiles import Change as FsChange
from watchfiles import DefaultFilter
from watchfiles import watch as watch_files

from rag.core.errors import PathNotFoundError, RagError
from rag.core.types import IndexReport
from rag.ingest.paths import SUPPORTED
from rag.storage.lexical import is_final

if TYPE_CHECKING:
    from rag.service.assistant import Assistant

Kind = Literal["added", "updated", "removed", "renamed", "failed", "ignored", "flagged", "error"]
MARKS: dict[str, str] = {
    "added": "+",
    "updated": "~",
    "removed": "-",
    "renamed": ">",
    "failed": "!",
    "ignored": "·",
    "flagged": "!",
    "error": "!",
}
# Editors' temporary files beyond watchfiles' own list (vim's write test "4913", downloads and
# copies in progress); hidden files are left out separately.
TEMP_PATTERNS = (r"^4913$", r"\.(tmp|temp|part|crdownload|partial)$", r"^#.*#$")
START_WAIT_S = 10.0  # how long the start waits for the watcher to be running


@dataclass(frozen=True)
class Change:
    """One line of the watch's report: what became of a file (or an error)."""

    kind: Kind
    path: str
    chunks: int = 0
    detail: str = ""  # a failure's reason, or a renamed file's old name

    def line(self) -> str:
        mark = MARKS[self.kind]
        if self.kind == "error":
            return f"{mark} error: {self.detail}"
        chunks = f"{self.chunks} chunk{'' if self.chunks == 1 else 's'}"
        if self.kind == "renamed":
            return f"{mark} renamed {self.detail} → {self.path} ({chunks})"
        if self.kind in ("failed", "ignored"):
            return f"{mark} {self.kind} {self.path}: {self.detail}"
        if self.kind == "flagged":
            return (
                f"{mark} excluded from answers (addresses the model) {self.path}: “{self.detail}”"
            )
        if self.kind == "removed":
            return f"{mark} removed {self.path}"
        return f"{mark} {self.kind} {self.path} ({chunks})"


@dataclass
class _Held:
    """What the store holds of one file."""

    chunks: int = 0
    hashes: set[str] = field(default_factory=set)
    docs: set[str] = field(default_factory=set)


@dataclass
class _Snapshot:
    files: dict[str, _Held] = field(default_factory=dict)  # by real path
    doc_paths: dict[str, set[str]] = field(default_factory=dict)  # doc id -> its files

    def co_listed(self, path: str) -> set[str]:
        """The other files that list a document of `path` (a paper in several listings)."""
        held = self.files.get(path)
        if held is None:
            return set()
        return {p for d in held.docs for p in self.doc_paths.get(d, set())} - {path}


def _snapshot(assistant: Assistant, scope: Iterable[str] | None = None) -> _Snapshot:
    """What the store holds of the files under `scope` and of every file that shares a document
    with them (of every file, when None): from the document table when it describes the store's
    current content, else from the store's metadata, every row."""
    if scope is not None:
        snap = _from_table(assistant, list(scope))
        if snap is not None:
            return snap
    snap = _Snapshot()
    for row in assistant.store.iter_rows(include=["metadatas"]):
        meta = row["metadatas"] or {}
        try:
            paths = [str(p) for p in json.loads(str(meta.get("paths") or "[]"))]
        except ValueError:
            continue
        doc_id = str(meta.get("doc_id", ""))
        snap.doc_paths.setdefault(doc_id, set()).update(paths)
        for p in paths:
            held = snap.files.setdefault(p, _Held())
            held.chunks += 1
            held.hashes.add(str(meta.get("doc_hash", "")))
            held.docs.add(doc_id)
    return snap


def _from_table(assistant: Assistant, scope: list[str]) -> _Snapshot | None:
    """`_snapshot` read from the document table (rag/storage/doctable.py): the documents listed
    under `scope`, then every document of the files they are listed in, so that each file of the
    snapshot is whole. None when the table does not describe the store as it is now (then the
    caller reads the store). A run's cost then grows with the files it touches, not with the
    collection (at 100k chunks each full read took ~20 s)."""
    indexer = assistant.indexer
    current = indexer.lexical.current()
    if not is_final(current) or indexer.docs.version() != current:
        return None
    table = indexer.docs
    entries = table.get(table.under(scope))
    files = {p for e in entries.values() for p in e.paths}
    entries.update(table.get(table.listed_in(files) - set(entries)))
    snap = _Snapshot()
    for doc_id, entry in entries.items():
        snap.doc_paths.setdefault(doc_id, set()).update(entry.paths)
        for p in entry.paths:
            held = snap.files.setdefault(p, _Held())
            held.chunks += len(entry.chunk_ids)
            held.hashes |= entry.hashes
            held.docs.add(doc_id)
    return snap


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _real(path: str | Path) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return str(Path(path).absolute())


class WatchFilter(DefaultFilter):
    """watchfiles' default filter (VCS folders, swap and backup files), plus hidden files and
    folders under the watched roots, more temporary files, and the index's own folders (a
    watched folder that holds the index must not react to its own writes)."""

    def __init__(self, roots: Sequence[str], own: Sequence[str]) -> None:
        patterns = (*DefaultFilter.ignore_entity_patterns, *TEMP_PATTERNS)
        super().__init__(ignore_entity_patterns=patterns)
        self.roots = list(roots)
        self.own = list(own)

    def __call__(self, change: FsChange, path: str) -> bool:
        if not super().__call__(change, path) or _under(path, self.own):
            return False
        root = next((r for r in self.roots if _under(path, [r])), None)
        rel = Path(path).relative_to(root).parts if root is not None else Path(path).parts[-1:]
        return not any(part.startswith(".") for part in rel)


class FolderSync:
    """Applies changed paths to the collection of `assistant` and says what became of each file."""

    def __init__(
        self,
        assistant: Assistant,
        roots: Sequence[str | Path],
        on_change: Callable[[Change], None],
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.assistant = assistant
        self.roots = [_real(r) for r in roots]
        self.on_change = on_change
        self.on_wait = on_wait
        self._told_ignored: set[str] = set()
        self._told_flagged: set[tuple[str, str]] = set()

    def initial(self) -> IndexReport | None:
        """Index the roots in full: files changed or deleted while nobody watched are caught."""
        return self._run(set(self.roots), set(), watched=self.roots)

    def apply(self, paths: Iterable[str]) -> IndexReport | None:
        """Bring the collection in step with `paths` as they are now (see the module docstring)."""
        present, absent = set(), set()
        for p in {_real(p) if os.path.lexists(p) else str(p) for p in paths}:
            if os.path.lexists(p) and not _under(p, self.roots):  # a symlink out of the folder
                self._ignored(p, "a symlink to a file outside the folder being watched")
            elif os.path.isdir(p):
                present.add(p)
            elif os.path.isfile(p):
                if Path(p).suffix.lower() in SUPPORTED:
                    present.add(p)
                else:
                    kinds = " ".join(sorted(SUPPORTED))
                    self._ignored(p, f"unsupported type {Path(p).suffix or '(none)'} ({kinds})")
            elif not os.path.lexists(p):
                absent.add(p)
        if not present and not absent:
            return None
        return self._run(present, absent, watched=sorted(present | absent))

    def _run(
        self, present: set[str], absent: set[str], watched: Sequence[str]
    ) -> IndexReport | None:
        before = _snapshot(self.assistant, present | absent)
        gone = {f for f in before.files if _under(f, absent)}
        # Files that list a paper with a changed or deleted file are read again with it, so the
        # paper keeps every file it comes from.
        co_listed: set[str] = set()
        for f in {f for f in before.files if _under(f, present)} | gone:
            co_listed |= {p for p in before.co_listed(f) if os.path.isfile(p) and p not in gone}
        present |= co_listed
        report = self._index(present, co_listed) if present else None
        if gone:
            self.assistant.forget(sorted(gone))
        scope = [*watched, *present]
        after = _snapshot(self.assistant, [*scope, *absent])
        self._tell(before, after, scope, report)
        return report

    def _index(self, present: set[str], co_listed: set[str]) -> IndexReport:
        # The walk stays inside the watched folders (and the co-listed files named here), however
        # a path resolves by the time it is read: a subfolder swapped for a symlink to the outside
        # between the check in `apply` and the walk is not followed (rag/ingest/paths.py).
        within = [*self.roots, *sorted(co_listed)]
        try:
            return self.assistant.index(sorted(present), within=within, on_wait=self.on_wait)
        except PathNotFoundError:  # one vanished since: its deletion event is on its way
            still = sorted(p for p in present if os.path.lexists(p))
            return self.assistant.index(still, within=within, on_wait=self.on_wait)

    def _tell(
        self, before: _Snapshot, after: _Snapshot, scope: Sequence[str], report: IndexReport | None
    ) -> None:
        failed = {_real(f.path): f.reason for f in report.failed} if report else {}
        files = sorted({f for f in [*before.files, *after.files] if _under(f, scope)})
        changes: list[Change] = []
        for f in files:
            old, new = before.files.get(f), after.files.get(f)
            name = self._name(f)
            if f in failed:
                continue
            if old is None and new is not None:
                changes.append(Change("added", name, new.chunks))
            elif old is not None and new is None:
                changes.append(Change("removed", name))
            elif old and new and (old.hashes != new.hashes or old.chunks != new.chunks):
                changes.append(Change("updated", name, new.chunks))
        for path, reason in sorted(failed.items()):
            changes.append(Change("failed", self._name(path), detail=reason))
        for change in _pair_renames(changes, before, after, self._name):
            self.on_change(change)
        for left_out in report.ignored if report else []:
            self._ignored(_real(left_out.path), left_out.reason)
        for s in report.flagged if report else []:  # told once a session, as files are re-read
            if (s.path, s.sentence) not in self._told_flagged:
                self._told_flagged.add((s.path, s.sentence))
                self.on_change(Change("flagged", s.title or s.path, detail=s.sentence))

    def _ignored(self, path: str, reason: str) -> None:
        if path not in self._told_ignored:
            self._told_ignored.add(path)
            self.on_change(Change("ignored", self._name(path), detail=reason))

    def _name(self, path: str) -> str:
        """`path` as the user knows it: relative to the watched folder that holds it."""
        for r in self.roots:
            if _under(path, [r]) and path != r:
                return str(Path(path).relative_to(r))
        return path


def _pair_renames(
    changes: list[Change], before: _Snapshot, after: _Snapshot, name: Callable[[str], str]
) -> list[Change]:
    """A removed file and an added one with the same content are one rename."""
    by_name = {name(f): f for f in [*before.files, *after.files]}
    removed = [c for c in changes if c.kind == "removed"]
    out, paired = [], set()
    for c in changes:
        if c.kind != "added":
            continue
        hashes = after.files[by_name[c.path]].hashes
        old = next(
            (
                r
                for r in removed
                if r.path not in paired and before.files[by_name[r.path]].hashes == hashes
            ),
            None,
        )
        if old is not None:
            paired.add(old.path)
            out.append(Change("renamed", c.path, c.chunks, detail=old.path))
    renamed = {c.path for c in out} | paired
    return [c for c in changes if c.path not in renamed or c.kind == "failed"] + out


def watch(
    assistant: Assistant,
    paths: Sequence[str | Path],
    *,
    on_change: Callable[[Change], None] = lambda c: print(c.line(), flush=True),
    on_ready: Callable[[IndexReport | None], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    on_run: Callable[[IndexReport], None] | None = None,
) -> None:
    """Keep the collection of `assistant` in step with `paths` (folders or files) until `stop`
    is set: the initial full sync (`on_ready` hears its report), then every change as it comes
    (`on_run` hears each later run's report: a burst of changes is one run). Errors of a run are
    reported as a Change of kind "error" and its paths tried again."""
    settings = assistant.settings.watch
    roots = [_real(Path(p).expanduser()) for p in paths]
    for r in roots:
        if not os.path.exists(r):
            raise PathNotFoundError(f"No such file or folder: {r}")
    stop = stop or threading.Event()
    sync = FolderSync(assistant, roots, on_change, on_wait)
    events: queue.Queue[set[str]] = queue.Queue()
    started = threading.Event()
    own = [_real(assistant.settings.index_dir)]
    if assistant.settings.lexical_dir is not None:
        own.append(_real(assistant.settings.lexical_dir))

    def listen() -> None:
        for batch in watch_files(
            *roots,
            watch_filter=WatchFilter(roots, own),
            debounce=settings.debounce_ms,
            step=settings.step_ms,
            stop_event=stop,
            rust_timeout=200,
            yield_on_timeout=True,  # the first (empty) yield says the watcher is running
            raise_interrupt=False,
        ):
            started.set()
            if batch:
                events.put({path for _, path in batch})
        started.set()

    listener = threading.Thread(target=listen, name="rag-watch", daemon=True)
    listener.start()
    started.wait(START_WAIT_S)
    pending: set[str] = set()
    report = _attempt(sync.initial, on_change)
    if report is False:
        pending |= set(roots)
    if on_ready is not None:
        on_ready(report or None)
    while not stop.is_set():
        try:
            pending |= events.get(timeout=settings.retry_s if pending else 0.5)
        except queue.Empty:
            if not pending:
                continue
        while not events.empty():  # everything that came during the last run: one run
            pending |= events.get_nowait()
        batch, pending = pending, set()
        done = _attempt(partial(sync.apply, batch), on_change)
        if done is False:
            pending |= batch
        elif done is not None and on_run is not None:
            on_run(done)
    listener.join(timeout=2)


def _attempt(run: Callable[[], IndexReport | None], on_change: Callable[[Change], None]) -> Any:
    """`run()`, or False after reporting its failure in one line: an expected error (the lock
    held too long, the store unreachable) or any other (the watch must go on)."""
    try:
        return run()
    except RagError as e:
        on_change(Change("error", "", detail=str(e)))
    except Exception as e:  # reported in one line; the next change retries it
        on_change(Change("error", "", detail=f"{type(e).__name__}: {e}"))
    return False


@contextmanager
def stop_on_signals(stop: threading.Event, on_first: Callable[[], None]) -> Iterator[None]:
    """Ctrl-C or SIGTERM sets `stop` (the run in progress ends first; `on_first` hears it); a
    second one raises KeyboardInterrupt, abandoning the run (safe: the indexer resumes it)."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        on_first()

    old = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
