"""One writer per index: a second `rag index` (or API index request) waits for the first.

An advisory `flock` on a file beside the index: the kernel drops it when its holder exits, even
by `kill -9`, so a crash never leaves the index locked. The file also names the holder's pid for
the waiting message. With a Chroma server, the lock guards writers on this machine only.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.core.errors import IndexBusyError

POLL_S = 0.25


@contextmanager
def index_lock(
    path: Path, timeout_s: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the lock at `path` for the block; wait up to `timeout_s` for another holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, timeout_s, on_wait)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(fd: int, path: Path, timeout_s: float, on_wait: Callable[[str], None] | None) -> None:
    deadline = time.monotonic() + timeout_s
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = _holder(path)
        if time.monotonic() >= deadline:
            raise IndexBusyError(
                f"Another index run (pid {holder}) is writing to this index and did not finish "
                f"within {timeout_s:g} s (index_lock_timeout_s). Try again when it is done."
            )
        if on_wait is not None and not told:
            on_wait(f"another index run (pid {holder}) is writing to this index; waiting for it…")
            told = True
        time.sleep(POLL_S)


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


@contextmanager
def held(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` at `path` for a short block, waiting as long as it takes: for
    steps that take a moment but must not run in two processes at once (a new embedded Chroma
    store's first open runs its schema migrations, and two at once fail with "table … already
    exists")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
