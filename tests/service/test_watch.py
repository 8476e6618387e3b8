"""`rag index --watch`: a folder kept in step with a collection, with real processes only.

The watcher runs as `rag index --watch FOLDER` with an index folder of its own; a `rag serve`
runs beside it on the same index. Files are created, edited, renamed and deleted on disk, and
each change must be visible, within a deadline, both to this process (the Python API reading the
same store) and to the server, without restarting it. A broken PDF is reported and the watch
goes on; changes made while the watcher was stopped are caught when it starts again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import VENV_BIN, free_port, running

from rag.core.settings import PROJECT_DIR, Settings

pytestmark = pytest.mark.slow

DEADLINE_S = 30.0  # a change must show within this (2 shared cores; typically 2-4 s)
START_S = 180.0  # the watcher's start: imports, MiniLM, the first full sync
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts"


def _doc(title: str, body: str) -> str:
    return f"# {title}\n\n{body}\n"


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RAG_CORPUS_DIR": str(root / "docs"),
            "RAG_INDEX_DIR": str(root / "index"),
            "RAG_STATE_DB": str(root / "state.sqlite3"),
            "RAG_UPLOADS_DIR": str(root / "uploads"),
            "RAG_LLM__PARALLEL": "1",
            "RAG_LLM__RESTATE": "false",
            "RAG_WATCH__STEP_MS": "200",
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "200",  # one report line per change, unwrapped
        }
    )
    return env


class Watcher:
    """`rag index --watch` in its own process, its output in a log file."""

    def __init__(self, root: Path, name: str) -> None:
        self.log_path = root / f"{name}.log"
        self._log = self.log_path.open("wb")
        cmd = [str(VENV_BIN / "rag"), "index", "--watch", str(root / "docs")]
        self.proc = subprocess.Popen(
            cmd, stdout=self._log, stderr=subprocess.STDOUT, env=_env(root), cwd=PROJECT_DIR
        )
        self.wait_for("watching ", START_S)

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, needle: str, timeout: float = DEADLINE_S) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert self.proc.poll() is None, f"the watcher exited:\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"no {needle!r} within {timeout}s:\n{self.text()}"
            time.sleep(0.2)

    def stop(self) -> int:
        """Ctrl-C, as a user would; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        return int(self.proc.returncode)


def _eventually(check: Callable[[], Any], what: str, timeout: float = DEADLINE_S) -> float:
    """Poll `check` until it returns a true value; fail naming `what` after `timeout`. Returns
    the seconds it took."""
    start = time.monotonic()
    while True:
        got = check()
        if got:
            return time.monotonic() - start
        waited = time.monotonic() - start
        assert waited < timeout, f"{what}: not seen within {timeout}s (last: {got!r})"
        time.sleep(0.25)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A folder of two documents, watched, and a `rag serve` on the same index."""
    root = tmp_path_factory.mktemp("watch")
    docs = root / "docs"
    docs.mkdir()
    (docs / "alpha.md").write_text(
        _doc("Alpha", "The zorblax scheduler shortens queue waits by 37 percent."), "utf-8"
    )
    (docs / "beta.txt").write_text("Beta\n\nGlimmerfen caches keep hot rows in memory.\n")
    with ExitStack() as stack:
        watcher = Watcher(root, "watch-1")
        stack.callback(watcher.stop)
        port = free_port()
        env = {**_env(root), "RAG_API__HOST": "127.0.0.1", "RAG_API__PORT": str(port)}
        url = f"http://127.0.0.1:{port}"
        log = root / "serve.log"
        stack.enter_context(running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", log, env))
        settings = Settings(
            corpus_dir=docs, index_dir=root / "index", state_db=root / "state.sqlite3"
        )
        from rag.service.assistant import Assistant

        local = Assistant(settings, build_index=False, progress=False)  # reads the same store
        yield {"root": root, "docs": docs, "watcher": watcher, "url": url, "local": local}


def _served(url: str, word: str, mode: str = "bm25") -> list[dict[str, Any]]:
    """The server's passages for `word` that contain it."""
    r = httpx.post(f"{url}/v1/retrieve", json={"question": word, "k": 5, "mode": mode}, timeout=120)
    assert r.status_code == 200, r.text
    return [p for p in r.json()["passages"] if word in p["text"]]


def _local(a: Any, word: str) -> list[Any]:
    """This process's passages for `word` that contain it (the Python API on the same store)."""
    return [p for p in a.retrieve(word, k=5, mode="bm25") if word in p.text]


def _sources(passages: list[Any]) -> set[str]:
    return {p["source"] if isinstance(p, dict) else p.source for p in passages}


def test_changes_reach_the_store_and_the_server_beside(setup: dict[str, Any]) -> None:
    docs, url, local = setup["docs"], setup["url"], setup["local"]
    watcher: Watcher = setup["watcher"]
    assert "+ added alpha.md (1 chunk)" in watcher.text()
    assert _sources(_served(url, "zorblax")) == {"alpha.md"}

    # Created: found by the server (BM25 and hybrid) and by this process.
    (docs / "gamma.md").write_text(_doc("Gamma", "Quuxotic batching merges small requests."))
    seconds = {}
    seconds["created"] = _eventually(
        lambda: _sources(_served(url, "Quuxotic")) == {"gamma.md"}, "created (server)"
    )
    assert _sources(_served(url, "Quuxotic", mode="hybrid")) == {"gamma.md"}
    assert _sources(_local(local, "Quuxotic")) == {"gamma.md"}
    watcher.wait_for("+ added gamma.md (1 chunk)")

    # Modified: the new text is found, the old one no longer.
    (docs / "gamma.md").write_text(_doc("Gamma", "Flibbertigibbet batching merges requests."))
    seconds["modified"] = _eventually(lambda: _served(url, "Flibbertigibbet"), "modified (server)")
    assert _served(url, "Quuxotic") == []
    assert _local(local, "Quuxotic") == []
    watcher.wait_for("~ updated gamma.md (1 chunk)")

    # Renamed: the passages come from the new name only (vector search first: it must see the
    # other process's writes on its own).
    (docs / "gamma.md").rename(docs / "delta.md")
    seconds["renamed"] = _eventually(
        lambda: _sources(_served(url, "Flibbertigibbet", mode="vector")) == {"delta.md"},
        "renamed (server)",
    )
    assert _sources(_served(url, "Flibbertigibbet")) == {"delta.md"}
    assert _sources(_local(local, "Flibbertigibbet")) == {"delta.md"}
    watcher.wait_for("> renamed gamma.md → delta.md (1 chunk)")

    # Deleted: gone from the store and the server, hybrid included.
    (docs / "delta.md").unlink()
    seconds["deleted"] = _eventually(
        lambda: _served(url, "Flibbertigibbet") == [], "deleted (server)"
    )
    assert _served(url, "Flibbertigibbet", mode="hybrid") == []
    assert _served(url, "Flibbertigibbet", mode="vector") == []
    assert _local(local, "Flibbertigibbet") == []
    watcher.wait_for("- removed delta.md")

    status = local.status()
    assert (status.documents, status.chunks) == (2, 2)  # alpha.md and beta.txt
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "watch_latency.json").write_text(
        json.dumps({"seconds_from_change_to_server_answer": seconds}, indent=2)
    )


def test_a_broken_file_is_reported_and_the_watch_goes_on(setup: dict[str, Any]) -> None:
    docs, url = setup["docs"], setup["url"]
    watcher: Watcher = setup["watcher"]
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    (docs / ".hidden.md").write_text(_doc("Hidden", "Snorklewhite is a secret word."))
    (docs / "notes.csv").write_text("snorklewhite,1\n")
    watcher.wait_for("! failed broken.pdf: ")
    watcher.wait_for("· ignored notes.csv: unsupported type .csv")

    (docs / "epsilon.md").write_text(_doc("Epsilon", "Wobbleframe pruning drops idle heads."))
    _eventually(lambda: _sources(_served(url, "Wobbleframe")) == {"epsilon.md"}, "after broken")
    watcher.wait_for("+ added epsilon.md (1 chunk)")
    assert _served(url, "Snorklewhite") == []  # hidden files are not documents

    # A burst (three files written at once) is one index run of 3 files (no progress bar is
    # drawn: the watcher's output is a file, not a terminal).
    for i, word in enumerate(["Plinkety", "Plonkety", "Plunkety"]):
        (docs / f"burst{i}.md").write_text(_doc(f"Burst {i}", f"{word} kernels fuse loads."))
    for i in range(3):
        watcher.wait_for(f"+ added burst{i}.md (1 chunk)")
    assert "= added 3, updated 0" in watcher.text()
    assert "%|" not in watcher.text()
    assert _sources(_served(url, "Plunkety")) == {"burst2.md"}
    assert watcher.proc.poll() is None
    assert "Traceback" not in watcher.text()


def test_ctrl_c_stops_cleanly_and_a_restart_catches_what_changed_meanwhile(
    setup: dict[str, Any],
) -> None:
    root, docs, url, local = setup["root"], setup["docs"], setup["url"], setup["local"]
    watcher: Watcher = setup["watcher"]
    assert watcher.stop() == 0
    assert "stopped" in watcher.text() and "Traceback" not in watcher.text()

    # While nobody watches: one file deleted, one edited, one added.
    (docs / "alpha.md").unlink()
    (docs / "beta.txt").write_text("Beta\n\nGlimmerfen caches now spill cold rows to disk.\n")
    (docs / "zeta.md").write_text(_doc("Zeta", "Thrumbleweed sparsity skips zero blocks."))
    time.sleep(1)
    assert _served(url, "zorblax")  # nothing happens without the watcher

    again = Watcher(root, "watch-2")
    try:
        text = again.text()
        assert "- removed alpha.md" in text
        assert "~ updated beta.txt (1 chunk)" in text
        assert "+ added zeta.md (1 chunk)" in text
        assert _served(url, "zorblax") == []
        assert _sources(_served(url, "Thrumbleweed")) == {"zeta.md"}
        assert _sources(_local(local, "spill")) == {"beta.txt"}
        # And it goes on watching.
        (docs / "zeta.md").unlink()
        _eventually(lambda: _served(url, "Thrumbleweed") == [], "deleted after the restart")
    finally:
        assert again.stop() == 0


def test_a_paper_listed_in_two_files_keeps_both(tmp_path: Path) -> None:
    """In process, with the stop event: listing files (rag/ingest/listing.py) that share a paper.
    The paper keeps both files through an edit of one, and the other's after it is deleted."""
    import json as json_
    import threading

    from rag.ingest.listing import clean_lines
    from rag.service.assistant import Assistant
    from rag.service.watch import Change, watch

    lines = clean_lines((PROJECT_DIR / "corpus" / "001_6a9130a22abd98d5.txt").read_text())
    papers = [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]

    def listing(path: Path, picks: list[int]) -> None:
        body = "\n\n".join(f"{papers[i][0]}\n\n{papers[i][1]}" for i in picks)
        path.write_text("Daily Papers\n\n" + body + "\n", encoding="utf-8")

    def files_of(i: int) -> list[str]:
        got = a.store.collection.get(where={"title": papers[i][0]}, include=["metadatas"])
        metas = got["metadatas"] or []
        return sorted(Path(p).name for m in metas for p in json_.loads(str(m["paths"])))

    docs = tmp_path / "docs"
    docs.mkdir()
    listing(docs / "a.txt", [0, 1, 2])
    listing(docs / "b.txt", [2, 3])
    settings = Settings(corpus_dir=docs, index_dir=tmp_path / "index", state_db=tmp_path / "s.db")
    a = Assistant(settings, build_index=False, progress=False)
    lines_seen: list[str] = []
    stop, ready = threading.Event(), threading.Event()
    kwargs: dict[str, Any] = {"stop": stop, "on_ready": lambda r: ready.set()}
    kwargs["on_change"] = lambda c: lines_seen.append(Change.line(c))
    thread = threading.Thread(target=watch, args=(a, [docs]), kwargs=kwargs, daemon=True)
    thread.start()
    try:
        assert ready.wait(120)
        assert files_of(2) == ["a.txt", "b.txt"]

        listing(docs / "a.txt", [0, 1, 2, 4])  # a.txt gains a paper; the shared one stays
        _eventually(lambda: files_of(4) == ["a.txt"], "a paper added to a listing")
        assert files_of(2) == ["a.txt", "b.txt"]

        (docs / "a.txt").unlink()  # its own papers go; the shared one stays, from b.txt
        _eventually(lambda: files_of(0) == [], "a deleted listing's papers")
        assert files_of(2) == ["b.txt"]
        _eventually(lambda: "- removed a.txt" in lines_seen, "its line")  # after the store
        assert "~ updated a.txt (4 chunks)" in lines_seen
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive()


def test_a_change_is_told_from_the_document_table_without_reading_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: once the document table describes the store, a run's per-file lines come from
    the table's rows of the files it touched (and of the files sharing a paper with them), the
    same as a full read of the store's metadata gives for those files, and no full read is
    made."""
    from rag.ingest.listing import clean_lines
    from rag.service.assistant import Assistant
    from rag.service.watch import FolderSync, _snapshot

    lines = clean_lines((PROJECT_DIR / "corpus" / "001_6a9130a22abd98d5.txt").read_text())
    papers = [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]

    def listing(path: Path, picks: list[int]) -> None:
        body = "\n\n".join(f"{papers[i][0]}\n\n{papers[i][1]}" for i in picks)
        path.write_text("Daily Papers\n\n" + body + "\n", encoding="utf-8")

    docs = (tmp_path / "docs").resolve()
    docs.mkdir()
    a_txt, b_txt, c_txt = docs / "a.txt", docs / "b.txt", docs / "c.txt"
    listing(a_txt, [0, 1, 2])
    listing(b_txt, [2, 3])
    listing(docs / "d.txt", [6, 7])
    settings = Settings(corpus_dir=docs, index_dir=tmp_path / "index", state_db=tmp_path / "s.db")
    a = Assistant(settings, build_index=False, progress=False)
    seen: list[str] = []
    sync = FolderSync(a, [docs], on_change=lambda c: seen.append(c.line()))
    sync.initial()
    assert sorted(seen) == [
        "+ added a.txt (3 chunks)",
        "+ added b.txt (2 chunks)",
        "+ added d.txt (2 chunks)",
    ]

    full = _snapshot(a)
    part = _snapshot(a, [str(a_txt)])  # a.txt, and b.txt through the paper they share
    assert set(part.files) == {str(a_txt), str(b_txt)}
    assert part.files == {f: full.files[f] for f in part.files}
    assert part.co_listed(str(a_txt)) == full.co_listed(str(a_txt)) == {str(b_txt)}

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the store's metadata was read in full")

    monkeypatch.setattr(a.store, "iter_rows", forbidden)
    for change, path, expected in (
        (lambda: listing(a_txt, [0, 1, 2, 4]), a_txt, "~ updated a.txt (4 chunks)"),
        (a_txt.unlink, a_txt, "- removed a.txt"),  # b.txt keeps the shared paper: no line
        (lambda: listing(c_txt, [5]), c_txt, "+ added c.txt (1 chunk)"),
    ):
        seen.clear()
        change()
        sync.apply([str(path)])
        assert seen == [expected]
