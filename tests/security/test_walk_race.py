"""A subfolder swapped for a symlink to the outside while it is walked and read (issue 23, row 1).

Before: with a subfolder of ROOT swapped every few microseconds for a symlink to a folder outside
(`rag index --watch ROOT` sees a change there and indexes it), the walk listed the entry as a
folder, resolved it a moment later through the link, and walked the outside folder as if it were
the subfolder: every outside file came back under its outside path. The watcher's own path
(`FolderSync.apply` with the subfolder) resolved it the same way. A file found inside could also
be read a moment later through the link, its outside text stored under the inside name.

Here a thread does the swap in a tight loop while the walk, the loader and the indexer (through
the watcher's code) run again and again; nothing from outside may come back or reach the store.
"""

from __future__ import annotations

import ctypes
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.core.settings import Settings
from rag.ingest.documents import load_documents
from rag.ingest.paths import walk
from rag.service.assistant import Assistant
from rag.service.watch import FolderSync

MARKER = "zebrafinch-outside-marker"
INSIDE = 3  # files in the swapped subfolder; the outside folder has these names too, and more
OUTSIDE = 40
WALK_S = 3.0  # each test runs its loop this long (2 shared cores)


def _tree(tmp: Path) -> tuple[Path, Path, Path]:
    """ROOT/sub with a few inside notes, and an outside folder of notes carrying the marker."""
    root, outside = tmp / "root", tmp / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (root / "top.md").write_text("# Top\n\nA note at the top of the root.\n")
    for i in range(INSIDE):
        (root / "sub" / f"note-{i}.md").write_text(f"# Inside {i}\n\nAn inside note about {i}.\n")
    for i in range(OUTSIDE):
        (outside / f"note-{i}.md").write_text(f"# Outside {i}\n\nSecret {MARKER} number {i}.\n")
    return root.resolve(), root.resolve() / "sub", outside.resolve()


def _exchange(a: Path, b: Path) -> None:
    """Swap two names in one step (renameat2 RENAME_EXCHANGE): the subfolder is always either
    the folder or the symlink, never missing."""
    if _LIBC.renameat2(_AT_FDCWD, bytes(a), _AT_FDCWD, bytes(b), _RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(a))


_LIBC = ctypes.CDLL(None, use_errno=True)
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


@contextmanager
def _swapping(sub: Path, outside: Path) -> Iterator[list[int]]:
    """A thread swapping `sub` for a symlink to `outside` and back, as fast as it can."""
    link = sub.parent.parent / "link"
    link.symlink_to(outside)
    stop = threading.Event()
    count = [0]

    def run() -> None:
        while not stop.is_set():
            _exchange(sub, link)  # sub is the symlink now
            _exchange(sub, link)  # and the folder again
            count[0] += 1

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield count
    finally:
        stop.set()
        thread.join(timeout=5)
    assert sub.is_dir() and not sub.is_symlink()


def _outside_of(paths: list[str], root: Path, outside: Path) -> list[str]:
    return [p for p in paths if Path(p).is_relative_to(outside) or not Path(p).is_relative_to(root)]


def test_a_walk_never_returns_a_file_from_outside(tmp_path: Path) -> None:
    root, sub, outside = _tree(tmp_path)
    walks, inside_seen, escaped = 0, 0, []
    with _swapping(sub, outside) as swaps:
        deadline = time.monotonic() + WALK_S
        while time.monotonic() < deadline:
            for found in (walk([root]), walk([sub], roots=[root])):  # the CLI's, the watcher's
                files = [str(f) for f in found.files]
                escaped += _outside_of(files, root, outside)
                inside_seen += any(Path(f).parent == sub for f in files)
            walks += 2
    assert swaps[0] > 100 and walks > 100, (swaps, walks)
    assert inside_seen > 0  # the subfolder's own files still come back when it is a folder
    assert not escaped, f"{len(escaped)} outside files returned, e.g. {escaped[:3]}"


def test_a_file_is_read_from_where_the_walk_found_it(tmp_path: Path) -> None:
    root, sub, outside = _tree(tmp_path)
    loads, leaked = 0, []
    with _swapping(sub, outside):
        deadline = time.monotonic() + WALK_S
        while time.monotonic() < deadline:
            for doc in load_documents([root]).documents:
                if MARKER in doc.text:
                    leaked.append(doc.metadata["paths"])
                else:
                    leaked += _outside_of(json.loads(doc.metadata["paths"]), root, outside)
            loads += 1
    assert loads > 20, loads
    assert not leaked, f"{len(leaked)} outside documents read, e.g. {leaked[:3]}"


def test_the_watchers_index_runs_store_nothing_from_outside(tmp_path: Path) -> None:
    root, sub, outside = _tree(tmp_path)
    settings = Settings(
        corpus_dir=root, index_dir=tmp_path / "index", state_db=tmp_path / "state.sqlite3"
    )
    assistant = Assistant(settings, build_index=False, progress=False)
    sync = FolderSync(assistant, [root], on_change=lambda change: None)
    sync.initial()
    runs = 0
    with _swapping(sub, outside):
        deadline = time.monotonic() + 2 * WALK_S
        while time.monotonic() < deadline:
            sync.apply([str(sub)])  # what an event under ROOT/sub leads to
            runs += 1
    sync.apply([str(sub)])  # the folder as it is at the end
    rows = list(assistant.store.iter_rows(include=["metadatas", "documents"]))
    stored = [p for r in rows for p in json.loads(str(r["metadatas"]["paths"]))]
    assert runs > 5, runs
    assert not [r for r in rows if MARKER in (r["documents"] or "")], "outside text stored"
    assert not _outside_of(stored, root, outside), stored
    assert len(set(stored)) == INSIDE + 1  # the subfolder's notes and the top note
