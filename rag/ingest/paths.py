"""Which files an index run may read, and the walk that finds them.

Two callers, two rules:

- the CLI is the operator: it may index any file or folder it names;
- the API and the UI index on behalf of someone else, so every path is confined to the indexing
  roots (`Settings.index_roots()`): relative paths resolve against a root (never the process's
  working directory), symlinks that leave a root, hidden files and special files are refused,
  and a forbidden path gets exactly the same answer as a missing one, so nobody can probe the
  disk through it. A request also has caps on files and bytes.

For both, a folder walk never follows a symlink out of the folder it walks, never loops, and
names everything it leaves out (unsupported type, symlink loop, special file, too large).
`os.walk`/`Path.rglob` would either follow links without bound or drop them silently, hence
this small walk of our own.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from rag.core.errors import PathNotAllowedError, PathNotFoundError, RequestTooLargeError
from rag.core.types import FailedFile

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux


@dataclass(frozen=True)
class Limits:
    """Caps on one index run; `None` is no cap (the CLI's runs)."""

    max_files: int | None = None
    max_bytes: int | None = None
    max_file_bytes: int | None = None


@dataclass
class Walk:
    files: list[Path] = field(default_factory=list)
    ignored: list[FailedFile] = field(default_factory=list)
    total_bytes: int = 0

    def ignore(self, path: Path, reason: str) -> None:
        self.ignored.append(FailedFile(path=str(path), reason=reason))


def _within(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def _not_allowed(given: str, roots: Sequence[Path]) -> PathNotAllowedError:
    """One message for missing, forbidden and malformed paths alike."""
    shown = given if len(given) <= 200 else given[:200] + "…"
    names = ", ".join(str(r) for r in roots)
    return PathNotAllowedError(
        f"Not an indexable file or folder: {shown!r}. Only files under the indexing roots "
        f"({names}) can be indexed from here; name them relative to a root."
    )


def confine(given: str | Path, roots: Sequence[Path]) -> Path:
    """`given` resolved inside one of `roots`, or PathNotAllowedError (whatever the reason)."""
    text = str(given)
    if not text or "\x00" in text or len(text) > MAX_PATH_CHARS:
        raise _not_allowed(text.replace("\x00", "\\0"), roots)
    candidates = [Path(text)] if Path(text).is_absolute() else [r / text for r in roots]
    for candidate in candidates:
        try:
            real = candidate.resolve(strict=True)
            mode = real.stat().st_mode
        except (OSError, RuntimeError):  # missing, unreadable, a symlink loop
            continue
        root = next((r for r in roots if real == r or real.is_relative_to(r)), None)
        if root is None:
            continue
        if any(part.startswith(".") for part in real.relative_to(root).parts):
            continue
        if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
            return real
    raise _not_allowed(text, roots)


def walk(
    paths: Sequence[Path], limits: Limits | None = None, roots: Sequence[Path] | None = None
) -> Walk:
    """The supported files under `paths` (their real paths), sorted, and what was left out with
    its reason.

    A folder's walk stays inside that folder (or inside `roots` when given); a file named
    directly is read whatever its name (when inside `roots`, if given). Each folder is checked
    where it really is once it is open (`real_path_of`), not before: a folder swapped for a
    symlink between the check and the open cannot take the walk elsewhere.
    """
    limits = limits or Limits()
    out = Walk()
    for given in paths:
        path = Path(given)
        try:
            fd = _open_folder(path)
        except NotADirectoryError:
            _add_given_file(path, roots, limits, out)
            continue
        except FileNotFoundError:
            raise PathNotFoundError(f"No such file or folder: {path}") from None
        except OSError as e:
            out.ignore(path, f"cannot be read: {_os_reason(e)}")
            continue
        try:
            top = real_path_of(fd, path)
        finally:
            os.close(fd)
        _walk_folder(path, top, list(roots) if roots else [top], limits, out)
    out.files = sorted(dict.fromkeys(out.files))
    return out


def real_path_of(fd: int, opened_as: Path) -> Path:
    """Where the open file or folder `fd` really is, as the kernel knows it (no symlinks): unlike
    a path checked before it is opened, a descriptor cannot be redirected by a swap.

    Without /proc (not Linux), `opened_as`'s real path, if that is still the file opened."""
    try:
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        real = Path(os.path.realpath(opened_as))
        if not os.path.samestat(os.fstat(fd), os.stat(real)):
            raise PathChangedError(opened_as) from None
        return real


class PathChangedError(OSError):
    """A file no longer leads where the walk found it (a folder on its path was replaced)."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            errno.ESTALE,
            "changed while being read: the path no longer leads to the file found in the folder "
            "(a folder on its way was replaced); read again on the next run",
            str(path),
        )


def open_found(path: Path) -> BinaryIO:
    """The file `path` (a real path, as `walk` returns it) open for reading, or PathChangedError
    if what opened is not that file any more: the walk checked the path, so reading through it
    must not land elsewhere when a folder on it was swapped for a symlink meanwhile."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO must not block
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP:  # the file itself replaced by a symlink
            raise PathChangedError(path) from None
        raise
    try:
        if real_path_of(fd, path) != Path(path) or not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PathChangedError(path)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _open_folder(path: Path) -> int:
    # O_NONBLOCK: a FIFO named here must not block the walk (O_DIRECTORY refuses it anyway).
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK | os.O_CLOEXEC)


def _add_given_file(path: Path, roots: Sequence[Path] | None, limits: Limits, out: Walk) -> None:
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise PathNotFoundError(f"No such file or folder: {path}") from None
    except (OSError, RuntimeError) as e:
        out.ignore(path, f"cannot be read: {_os_reason(e)}")
        return
    if roots and not _within(real, roots):
        out.ignore(path, f"leads to {real}, outside the folders being indexed")
        return
    _add_file(path, real, limits, out)


def _walk_folder(shown: Path, top: Path, boundary: list[Path], limits: Limits, out: Walk) -> None:
    """Every folder is opened, then checked where it really is (`real_path_of`); its entries are
    listed from that descriptor and named from that real path. A file's path found this way lies
    inside the boundary; `open_found` makes sure that it still leads there when it is read."""
    visited: set[Path] = set()
    stack = [(shown, top)]  # (the path as found, the path to open)
    while stack:
        shown, target = stack.pop()
        try:
            fd = _open_folder(target)
        except OSError as e:
            out.ignore(shown, f"cannot be read: {_os_reason(e)}")
            continue
        try:
            folder = real_path_of(fd, target)
            if not _within(folder, boundary):
                out.ignore(shown, f"symlink to {folder}, outside the folder being indexed")
            elif folder in visited:
                out.ignore(shown, f"symlink loop: {folder} was already read")
            else:
                visited.add(folder)
                stack += _read_folder(fd, shown, folder, boundary, limits, out)
        except OSError as e:
            out.ignore(shown, f"cannot be read: {_os_reason(e)}")
        finally:
            os.close(fd)


def _read_folder(
    fd: int, shown: Path, folder: Path, boundary: list[Path], limits: Limits, out: Walk
) -> list[tuple[Path, Path]]:
    """Add the files of the open folder `fd` (really at `folder`); return its subfolders."""
    subfolders: list[tuple[Path, Path]] = []
    with os.scandir(fd) as listing:
        entries = sorted(listing, key=lambda e: e.name, reverse=True)
    for entry in entries:
        if entry.name.startswith("."):
            continue  # hidden files and folders (.git, .DS_Store): not documents
        path, inner = shown / entry.name, folder / entry.name
        try:
            st = os.stat(entry.name, dir_fd=fd, follow_symlinks=False)
        except OSError as e:
            out.ignore(path, f"cannot be read: {_os_reason(e)}")
            continue
        if stat.S_ISDIR(st.st_mode):
            subfolders.append((path, inner))
            continue
        if not stat.S_ISLNK(st.st_mode):
            _add_file(path, inner, limits, out, st)
            continue
        try:
            real = inner.resolve(strict=True)
        except (OSError, RuntimeError) as e:
            out.ignore(path, f"broken or looping symlink ({_os_reason(e)})")
            continue
        if not _within(real, boundary):
            out.ignore(path, f"symlink to {real}, outside the folder being indexed")
        elif real.is_dir():
            subfolders.append((path, real))  # checked again where it really is once open
        else:
            _add_file(path, real, limits, out)
    return subfolders


def _add_file(
    path: Path, real: Path, limits: Limits, out: Walk, st: os.stat_result | None = None
) -> None:
    try:
        st = st or real.stat()
    except OSError as e:
        out.ignore(path, f"cannot be read: {_os_reason(e)}")
        return
    if not stat.S_ISREG(st.st_mode):
        out.ignore(path, "not a regular file (a device, pipe or socket)")
        return
    if real.suffix.lower() not in SUPPORTED:
        kinds = " ".join(sorted(SUPPORTED))
        out.ignore(path, f"unsupported type {real.suffix or '(none)'} (supported: {kinds})")
        return
    if limits.max_file_bytes is not None and st.st_size > limits.max_file_bytes:
        out.ignore(
            path,
            f"too large ({st.st_size:,} bytes; the limit is {limits.max_file_bytes:,}, "
            "security.max_file_bytes)",
        )
        return
    out.files.append(real)
    out.total_bytes += st.st_size
    if limits.max_files is not None and len(out.files) > limits.max_files:
        raise RequestTooLargeError(
            f"The request names more than {limits.max_files:,} files "
            "(security.max_request_files): index fewer at a time."
        )
    if limits.max_bytes is not None and out.total_bytes > limits.max_bytes:
        raise RequestTooLargeError(
            f"The request names more than {limits.max_bytes:,} bytes of files "
            "(security.max_request_bytes): index fewer at a time."
        )


def _os_reason(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    return " ".join(str(e).split()) or type(e).__name__
