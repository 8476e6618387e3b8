"""The index's own files under attack: each failure is one clear line that says what to do.

Each attack runs the real `rag` command (a subprocess, real Chroma, real MiniLM) on a small
corpus and asserts exit code 1, exactly one `error:` line holding the whole message, and no
stack trace:

1. the index folder lies under a regular file (a file is in the way);
2. the index folder is read-only, fresh or already built (as root, where chmod stops nothing:
   a read-only bind mount, else the immutable attribute);
3. the disk fills up during `rag index` (a 1 MiB tmpfs; else a file size limit), then `rag
   status` on the full disk, then `rag index` resumes once there is room;
4. Chroma's SQLite file has a garbage header or is cut in half: `rag status`, `rag retrieve` and
   `rag index` all report it damaged, with the command that rebuilds it;
5. the SQLite file is truncated to 0 bytes, or the chroma folder is gone: reported damaged (the
   manifest records a build), never silently rebuilt from the corpus alone;
6. `rag index --rebuild` says what it re-reads (every folder indexed, a vanished one reported),
   moves the damaged store aside and rebuilds.
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from chromadb.errors import InternalError

from rag.core.errors import DamagedIndexError, StoreError
from rag.core.settings import Settings
from rag.storage.chroma import store_failure

REBUILD_HINT = "run `rag index --rebuild` to rebuild it from "
RESUME_HINT = "free some space and run `rag index` again (it resumes)."
DOCS = {
    "attention.md": "# Sparse attention\n\nSparse attention cuts the cost of long contexts by "
    "attending to a few tokens only.\n",
    "kv.txt": "KV cache quantization stores keys and values in 4 bits, saving memory while "
    "decoding long sequences.\n",
    "pruning.md": "# Pruning\n\nStructured pruning removes whole attention heads and speeds up "
    "inference on GPUs.\n",
}


# -- running `rag` ---------------------------------------------------------------------------------


def _env(tmp: Path, index_dir: Path, corpus: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RAG_INDEX_DIR": str(index_dir),
            "RAG_CORPUS_DIR": str(corpus),
            "RAG_STATE_DB": str(tmp / "state.sqlite3"),
            "RAG_CONFIG": str(tmp / "no-rag.toml"),
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "4000",  # rich wraps at 80 columns off a terminal; a line is a line here
        }
    )
    return env


def rag(
    env: dict[str, str], *args: str, preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=preexec,
    )


def one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The command failed with exit code 1 and one `error:` line holding every needle."""
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    lines = [line for line in re.split(r"[\r\n]+", done.stderr) if "error:" in line]
    assert len(lines) == 1, done.stderr[-3000:]
    line = lines[0][lines[0].index("error:") :]
    for needle in needles:
        assert needle in line, (needle, line)
    return line


# -- a small corpus and an index built from it -----------------------------------------------


@dataclass
class Built:
    corpus: Path
    extra: Path  # a second folder, indexed after the corpus
    gone: Path  # a third folder, indexed, then deleted
    index: Path  # the template index: tests damage copies of it


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("store-damage")
    corpus, extra, gone = tmp / "corpus", tmp / "extra", tmp / "gone"
    for folder in (corpus, extra, gone):
        folder.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text)
    (extra / "speculative.txt").write_text(
        "Speculative decoding drafts tokens with a small model and verifies them with the "
        "large one.\n"
    )
    (gone / "adapters.txt").write_text("Low-rank adapters fine-tune a frozen model cheaply.\n")
    index = tmp / "index"
    env = _env(tmp, index, corpus)
    for args in ((), (str(extra),), (str(gone),)):
        done = rag(env, "index", *args)
        assert done.returncode == 0, done.stderr[-3000:]
    shutil.rmtree(gone)
    return Built(corpus, extra, gone, index)


def copy_index(built: Built, tmp: Path) -> Path:
    index = tmp / "index"
    shutil.copytree(built.index, index)
    return index


def sqlite_of(index: Path) -> Path:
    return index / "chroma" / "chroma.sqlite3"


# -- 1. a file in the way ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["status"], ["retrieve", "q"], ["index"]])
def test_index_folder_under_a_file(built: Built, tmp_path: Path, command: list[str]) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    index = blocker / "index"
    done = rag(_env(tmp_path, index, built.corpus), *command)
    one_line_error(
        done,
        f"The index folder {index} cannot be used: {blocker} is a file",
        "(a file is in the way)",
    )
    assert blocker.read_text() == "not a folder"


# -- 2. a read-only index folder -------------------------------------------------------------------


def _writable(folder: Path) -> bool:
    probe = folder / ".write-probe"
    try:
        probe.write_text("x")
    except OSError:
        return False
    probe.unlink()
    return True


def _run(*cmd: str) -> bool:
    return subprocess.run(list(cmd), capture_output=True).returncode == 0


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` (and all in it) read-only. chmod does not stop root, so as root: a read-only
    bind mount of it, else the immutable attribute (chattr +i); the test is skipped only when
    neither works."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    if _run("mount", "--bind", str(folder), str(folder)):
        if _run("mount", "-o", "remount,bind,ro", str(folder)) and not _writable(folder):
            try:
                yield
            finally:
                _run("umount", str(folder))
            return
        _run("umount", str(folder))
    if shutil.which("chattr") and _run("chattr", "-R", "+i", str(folder)):
        if not _writable(folder):
            try:
                yield
            finally:
                _run("chattr", "-R", "-i", str(folder))
            return
        _run("chattr", "-R", "-i", str(folder))
    pytest.skip("running as root, and neither a read-only bind mount nor chattr +i works here")


READ_ONLY = "cannot be written ("
WRITABLE_HINT = "make it writable, or set index_dir (RAG_INDEX_DIR) to a writable folder."


@pytest.mark.parametrize("command", [["index"], ["status"]])
def test_read_only_fresh_index_folder(built: Built, tmp_path: Path, command: list[str]) -> None:
    index = tmp_path / "index"
    index.mkdir()
    with read_only(index):
        done = rag(_env(tmp_path, index, built.corpus), *command)
    one_line_error(done, f"The index folder {index} {READ_ONLY}", WRITABLE_HINT)


@pytest.mark.parametrize("command", [["index"], ["status"], ["retrieve", "q"]])
def test_read_only_built_index(built: Built, tmp_path: Path, command: list[str]) -> None:
    index = copy_index(built, tmp_path)
    before = sqlite_of(index).read_bytes()
    with read_only(index):
        done = rag(_env(tmp_path, index, built.corpus), *command)
    one_line_error(done, f"The index folder {index} {READ_ONLY}", WRITABLE_HINT)
    assert sqlite_of(index).read_bytes() == before


# -- 3. a full disk ------------------------------------------------------------------------------


@dataclass
class SmallDisk:
    kind: str  # "tmpfs": a 1 MiB file system; "rlimit": a file size limit on the command
    preexec: Callable[[], None] | None
    free: Callable[[], None]


def _limit_file_size() -> None:  # in the child, before exec
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (600_000, 600_000))


@contextmanager
def small_disk(folder: Path) -> Iterator[SmallDisk]:
    """A folder that fills up: a 1 MiB tmpfs mounted on it where mounting is allowed (ENOSPC),
    else a file size limit for the commands run under it (EFBIG)."""
    if _run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)):

        def grow() -> None:
            assert _run("mount", "-o", "remount,size=64m", str(folder))

        try:
            yield SmallDisk("tmpfs", None, grow)
        finally:
            _run("umount", str(folder))
        return
    disk = SmallDisk("rlimit", _limit_file_size, lambda: None)

    def lift() -> None:
        disk.preexec = None

    disk.free = lift
    yield disk


def _many_docs(folder: Path, n: int) -> None:
    rng = random.Random(7)
    words = ["sparse", "attention", "cache", "quantization", "pruning", "kernel", "GPU", "decoding"]
    folder.mkdir()
    for i in range(n):
        text = " ".join(rng.choice(words) for _ in range(150))
        (folder / f"paper-{i:03}.md").write_text(f"# Paper {i}\n\n{text}.\n")


def test_full_disk_during_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _many_docs(corpus, 64)
    disk = tmp_path / "disk"
    disk.mkdir()
    index = disk / "index"
    env = _env(tmp_path, index, corpus)
    with small_disk(disk) as small:
        done = rag(env, "index", preexec=small.preexec)
        line = one_line_error(done, f"index at {index}", RESUME_HINT)
        if small.kind == "tmpfs":
            assert line == f"error: No space left writing the index at {index}: {RESUME_HINT}"

        status = rag(env, "status", preexec=small.preexec)  # the disk is still full
        if status.returncode:
            one_line_error(status, RESUME_HINT)
        else:
            assert "Traceback" not in status.stderr
            assert json.loads(status.stdout)["chunks"] < 64

        small.free()
        resumed = rag(env, "index", preexec=small.preexec)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert "Traceback" not in resumed.stderr
        status = rag(env, "status", preexec=small.preexec)
        assert status.returncode == 0, status.stderr[-3000:]
        assert json.loads(status.stdout)["documents"] == 64


# -- 4. a damaged SQLite file --------------------------------------------------------------------


def _garbage_header(db: Path) -> None:
    data = bytearray(db.read_bytes())
    data[:100] = b"\xab" * 100
    db.write_bytes(bytes(data))


def _cut_in_half(db: Path) -> None:
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [_garbage_header, _cut_in_half], ids=["header", "half"])
@pytest.mark.parametrize("command", [["status"], ["retrieve", "q"], ["index"]])
def test_damaged_sqlite_is_reported(
    built: Built, tmp_path: Path, damage: Callable[[Path], None], command: list[str]
) -> None:
    index = copy_index(built, tmp_path)
    damage(sqlite_of(index))
    damaged = sqlite_of(index).read_bytes()
    done = rag(_env(tmp_path, index, built.corpus), *command)
    line = one_line_error(done, f"The index at {index} is damaged (chroma/chroma.sqlite3")
    assert f"): {REBUILD_HINT}" in line and str(built.corpus) in line
    assert sqlite_of(index).read_bytes() == damaged  # reported, not replaced


# -- 5. an emptied store is not silently rebuilt -------------------------------------------------


def _manifest(index: Path) -> dict[str, object]:
    return json.loads((index / "papers.manifest.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("command", [["status"], ["retrieve", "q"], ["index"]])
def test_zero_byte_sqlite_is_reported_not_rebuilt(
    built: Built, tmp_path: Path, command: list[str]
) -> None:
    index = copy_index(built, tmp_path)
    sqlite_of(index).write_bytes(b"")
    manifest = _manifest(index)
    done = rag(_env(tmp_path, index, built.corpus), *command)
    line = one_line_error(
        done,
        f"The index at {index} is damaged (chroma/chroma.sqlite3 is an empty file, but "
        f"{manifest['chunks']} chunks were indexed on {manifest['last_build']}): {REBUILD_HINT}",
    )
    assert str(built.corpus) in line
    assert sqlite_of(index).stat().st_size == 0  # not rebuilt from the corpus behind our back
    assert _manifest(index) == manifest


def test_vanished_chroma_folder_is_reported_not_rebuilt(built: Built, tmp_path: Path) -> None:
    index = copy_index(built, tmp_path)
    shutil.rmtree(index / "chroma")
    done = rag(_env(tmp_path, index, built.corpus), "retrieve", "q")  # used to build silently
    one_line_error(done, f"The index at {index} is damaged (it holds no chunks, but ", REBUILD_HINT)


def test_assistant_does_not_build_over_an_emptied_store(built: Built, tmp_path: Path) -> None:
    from rag.service.assistant import Assistant

    index = copy_index(built, tmp_path)
    sqlite_of(index).write_bytes(b"")
    settings = Settings(corpus_dir=built.corpus, index_dir=index, state_db=tmp_path / "s.db")
    with pytest.raises(DamagedIndexError, match="rag index --rebuild"):
        Assistant(settings, progress=False)  # build_index=True: it used to rebuild the corpus
    assert sqlite_of(index).stat().st_size == 0


# -- 6. the explicit rebuild ---------------------------------------------------------------------


def test_rebuild_rereads_every_folder_indexed(built: Built, tmp_path: Path) -> None:
    index = copy_index(built, tmp_path)
    sqlite_of(index).write_bytes(b"")
    env = _env(tmp_path, index, built.corpus)

    refused = rag(env, "status")
    line = one_line_error(refused, REBUILD_HINT)
    for folder in (built.corpus, built.extra, built.gone):
        assert str(folder) in line  # the message says what a rebuild will read

    done = rag(env, "index", "--rebuild")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    out = done.stdout
    assert f"Rebuilding embedded chroma at {index / 'chroma'} from the folders" in out
    assert f"  {built.corpus}\n" in out and f"  {built.extra}\n" in out
    assert f"  {built.gone} (no longer exists: skipped)" in out
    (aside,) = index.glob("chroma.damaged-*")
    assert f"The old store was moved to {aside}." in out
    assert (aside / "chroma.sqlite3").stat().st_size == 0  # kept as it was, nothing deleted

    status = rag(env, "status")
    assert status.returncode == 0, status.stderr[-3000:]
    assert json.loads(status.stdout)["documents"] == len(DOCS) + 1  # corpus and extra
    found = rag(env, "retrieve", "speculative decoding draft tokens", "--json")
    assert found.returncode == 0 and "speculative.txt" in found.stdout


def test_rebuild_with_nothing_left_to_read_changes_nothing(built: Built, tmp_path: Path) -> None:
    index = copy_index(built, tmp_path)
    _garbage_header(sqlite_of(index))
    manifest = _manifest(index)
    manifest["roots"] = [str(tmp_path / "vanished")]
    (index / "papers.manifest.json").write_text(json.dumps(manifest))
    done = rag(_env(tmp_path, index, built.corpus), "index", "--rebuild")
    one_line_error(done, "None of the files or folders to rebuild from exists any more")
    assert not list(index.glob("chroma.damaged-*")) and sqlite_of(index).exists()


# -- the mapping itself, for what chromadb and the OS raise ---------------------------------------


@pytest.mark.parametrize(
    ("error", "kind", "says"),
    [
        (InternalError("error returned from database: (code: 26) file is not a database"),
         DamagedIndexError, "is damaged (chroma/chroma.sqlite3: file is not a database)"),
        (InternalError("error returned from database: (code: 11) database disk image is "
                       "malformed"), DamagedIndexError, "database disk image is malformed"),
        (InternalError("Query error: Database error: error returned from database: (code: 13) "
                       "database or disk is full"), StoreError, "No space left writing"),
        (InternalError("error returned from database: (code: 8) attempt to write a readonly "
                       "database"), StoreError, "cannot be written (attempt to write a readonly"),
        (InternalError("Error in compaction: Failed to apply logs to the metadata segment"),
         StoreError, "the disk may be full; " + RESUME_HINT),
        (OSError(errno.ENOSPC, "No space left on device"), StoreError, "No space left writing"),
        (OSError(errno.EROFS, "Read-only file system"), StoreError, "cannot be written"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory"), StoreError, "a file is in the way"),
    ],
)  # fmt: skip
def test_store_failure_maps(
    tmp_path: Path, error: BaseException, kind: type[StoreError], says: str
) -> None:
    found = store_failure(error, Settings(index_dir=tmp_path, corpus_dir=tmp_path))
    assert type(found) is kind and says in str(found) and "\n" not in str(found)


def test_store_failure_leaves_other_errors_alone(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path)
    assert store_failure(ValueError("a bug"), settings) is None
    assert store_failure(InternalError("some other chroma failure"), settings) is None
    # Without settings (a store call that failed mid-session), an OSError about another
    # folder is not the index's.
    where = f"embedded chroma at {tmp_path / 'chroma'}"
    assert store_failure(PermissionError(errno.EACCES, "denied", "/etc/x"), where=where) is None
    inside = PermissionError(errno.EACCES, "denied", str(tmp_path / "papers.lock"))
    assert isinstance(store_failure(inside, where=where), StoreError)
