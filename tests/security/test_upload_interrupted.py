"""Uploads interrupted by `kill -9` (issue 23, row 10): an upload cut off midway is never listed
as complete, the earlier version of a re-upload comes back, and no staged copy is left.

Before: 1,536 of 5,000 pages were indexed and listed as complete, the temp file was left, and a
re-upload said "unchanged" while adding the other pages.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from attack_corpus import rag_env_for, write_corpus
from pdfs import filler_pages, make_pdf
from servers import running
from test_uploads import Server, _leftovers, _start

from rag.core.settings import Settings
from rag.ingest.library import Library
from rag.service.assistant import Assistant

pytestmark = pytest.mark.slow

PAGES = 120  # several batches of the indexer (DOCS_PER_BATCH): the kill lands between two


def test_row10_a_killed_upload_is_rolled_back_not_listed_complete(tmp_path: Path) -> None:
    root = tmp_path
    write_corpus(root / "corpus")
    (root / "uploads").mkdir()
    big = make_pdf(root / "big.pdf", filler_pages(PAGES)).read_bytes()
    cmd, url, env = _start(root)
    server = Server(url, root)
    with running(cmd, f"{url}/health", root / "serve.log", env) as proc:
        errors: list[BaseException] = []

        def send() -> None:
            try:
                server.upload(("big.pdf", big))
            except httpx.HTTPError as e:  # the server is killed under it
                errors.append(e)

        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # some of its pages are in the index, not all
            doc = server.documents().get("big.pdf")
            if doc is not None and doc["chunks"] > 0:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the upload was never seen being indexed")
        assert doc["pages"] < PAGES, "indexed before the kill: make the PDF longer"
        midway = doc
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        sender.join(timeout=30)
        assert errors, "the upload ended before the kill"

    with running(cmd, f"{url}/health", root / "serve-2.log", env):
        # Rolled back as the server starts: its half is not served before anyone lists.
        served = server.texts("Osprey compiler scheduler kernels fuses operators")
        assert not any(s == "big.pdf" for s, _ in served), served[:3]
        listed = server.documents()
        doc = listed.get("big.pdf")
        # Finished or removed, never half-indexed and listed as complete.
        assert doc is None or (doc["pages"] == PAGES and doc["complete"]), doc
        assert _leftovers(root / "uploads") == []  # the staged copy is cleaned up
        r = server.upload(("big.pdf", big))
        assert r.status_code == 200, r.text
        (outcome,) = r.json()["files"]
        assert outcome["status"] == ("added" if doc is None else "unchanged"), outcome
        assert outcome["pages"] == PAGES, outcome  # was: "unchanged" over a partial index
        assert server.documents()["big.pdf"]["complete"]
    assert midway.get("complete") is False, midway  # never listed as complete midway


def _chunks_of(root: Path, name: str) -> int:
    """Chunks the collection's Chroma file holds of the upload `name`, read from outside the
    process that writes it (read-only; 0 while it is locked or not there yet). Chroma's own
    table is read by hand: its client is not meant to open a store another process writes."""
    import sqlite3
    from contextlib import closing

    db = root / "index" / "chroma" / "chroma.sqlite3"
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.5)) as con:
            row = con.execute(
                "SELECT count(*) FROM embedding_metadata WHERE key = 'paths' "
                "AND string_value LIKE ?",
                (f"%/uploads/{name}%",),
            ).fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0])


UPLOAD_SCRIPT = """
import sys
from pathlib import Path
from rag.service.assistant import Assistant
from rag.ingest.library import Library
from rag.core.settings import Settings
settings = Settings()
library = Library(settings, Assistant(settings, build_index=False, progress=False))
for path in sys.argv[2:]:
    print(library.add([(sys.argv[1], Path(path))]).files[0].status, flush=True)
"""


def test_row10_a_killed_update_brings_back_the_earlier_version(tmp_path: Path) -> None:
    """The same kill during a re-upload (a process storing through the Library, killed by
    SIGKILL): the next Library over the folder puts the earlier version back, indexed."""
    root = tmp_path
    write_corpus(root / "corpus")
    env = rag_env_for(root)
    v1 = make_pdf(root / "v1.pdf", ["The Heron reader parsed 812 contracts per hour."] * 2)
    v2 = make_pdf(root / "v2.pdf", filler_pages(3 * PAGES, topic="the Wren scheduler"))
    target = root / "uploads" / "report.pdf"
    cmd = [sys.executable, "-c", UPLOAD_SCRIPT, "report.pdf", str(v1), str(v2)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "added"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _chunks_of(root, "report.pdf") <= 2:
            time.sleep(0.1)  # until the new version is partly indexed (the old one: 2 chunks)
        assert target.read_bytes() == v2.read_bytes()
        assert proc.poll() is None, "the re-upload ended before the kill: make it longer"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    settings = Settings(
        corpus_dir=root / "corpus",
        index_dir=root / "index",
        uploads_dir=root / "uploads",
        state_db=root / "data" / "state.sqlite3",
    )
    library = Library(settings, Assistant(settings, build_index=False, progress=False))
    assert target.read_bytes() == v1.read_bytes()  # was: the half-indexed new version
    (doc,) = library.list()
    assert (doc.id, doc.pages, doc.complete) == ("report.pdf", 2, True), doc
    rows = library.assistant.store.collection.get(
        where={"paths": f'["{target.resolve()}"]'}, include=["documents"]
    )
    texts = rows["documents"] or []
    assert len(texts) == 2 and all("812 contracts" in t for t in texts), texts
    assert _leftovers(root / "uploads") == []
