"""Bounded work per PDF (issue 23, row 5), with the real reader, store and embedding model.

Before: a 12 KB PDF whose 40 pages share one 2 MB content stream was read whole, page after page
(1.7 M characters and ~10 s of pypdf a page here), under the index lock: minutes of indexing,
thousands of chunks, and every other index run or upload waiting for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from pdfs import KESTREL_PAGES, KESTREL_TITLE, make_pdf, shared_stream_pdf

from rag.core.settings import SecuritySettings, Settings
from rag.core.types import IndexReport
from rag.service.assistant import Assistant

T = TypeVar("T")


def _within(seconds: float, run: Callable[[], T]) -> T:
    """`run()`'s result, or a failure once it has taken `seconds` (it is left running, in a
    daemon thread: the reader it waits on cannot be interrupted)."""
    out: dict[str, object] = {}

    def target() -> None:
        try:
            out["value"] = run()
        except BaseException as e:  # re-raised in the test's thread
            out["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds:g} s")
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["value"]  # type: ignore[return-value]


def _assistant(tmp: Path, **security: float) -> Assistant:
    settings = Settings(
        corpus_dir=tmp / "corpus",
        index_dir=tmp / "index",
        state_db=tmp / "data" / "state.sqlite3",
        uploads_dir=tmp / "uploads",
        security=SecuritySettings(**security),
    )
    return Assistant(settings, build_index=False, progress=False)


def _reasons(report: IndexReport) -> dict[str, str]:
    return {Path(f.path).name: f.reason for f in report.failed}


def _texts(a: Assistant, source: str) -> list[str]:
    got = a.store.collection.get(where={"source": source}, include=["documents"])
    return list(got["documents"] or [])


def test_a_pdf_with_one_huge_stream_on_every_page_is_skipped_within_seconds(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    hostile = shared_stream_pdf(docs / "hostile.pdf")
    assert hostile.stat().st_size < 20_000
    make_pdf(docs / "kestrel.pdf", KESTREL_PAGES, title=KESTREL_TITLE)
    a = _assistant(tmp_path)  # the default limits

    start = time.monotonic()
    report = _within(30, lambda: a.index([docs]))
    seconds = time.monotonic() - start

    reason = _reasons(report).get("hostile.pdf", "")
    assert "PdfTooLargeError" in reason and "security.max_pdf_page_chars" in reason, report
    assert _texts(a, "hostile.pdf") == []
    assert report.added == len(KESTREL_PAGES)  # a normal PDF beside it: every page indexed
    assert len(_texts(a, "kestrel.pdf")) == len(KESTREL_PAGES)
    print(f"hostile PDF refused, kestrel indexed: {seconds:.1f} s, {report.chunks} chunks")


def test_a_slow_pdf_stops_at_its_time_limit_and_never_holds_up_another_run(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "docs"
    shared_stream_pdf(docs / "slow.pdf")
    note = docs / "note.md"
    note.write_text("# Kernel note\n\nThe first version says the cache holds 16 entries.\n")
    warm = tmp_path / "warm" / "warm.md"
    warm.parent.mkdir()
    warm.write_text("# Warm\n\nThe embedding model is loaded by this run.\n")
    # Output bounds out of reach: only the time limit can stop this reading.
    a = _assistant(tmp_path, max_pdf_page_chars=10**9, max_pdf_chars=10**10, pdf_time_limit_s=8)
    a.index([warm])

    slow: dict[str, IndexReport] = {}
    first = threading.Thread(target=lambda: slow.update(r=a.index([docs])), daemon=True)
    first.start()
    time.sleep(1.0)  # the first run has read note.md and is reading slow.pdf
    note.write_text("# Kernel note\n\nThe second version says the cache holds 32 entries.\n")
    start = time.monotonic()
    quick = _within(6, lambda: a.index([note]))  # was: waited for the whole PDF
    waited = time.monotonic() - start
    assert quick.added == 1 and _texts(a, "note.md") and "32 entries" in _texts(a, "note.md")[0]
    assert first.is_alive(), "the first run ended before the second: nothing was shown"

    first.join(60)
    assert not first.is_alive(), "the slow PDF was not stopped at its time limit"
    reason = _reasons(slow["r"]).get("slow.pdf", "")
    assert "PdfTimeoutError" in reason and "over 8 s" in reason, slow["r"]
    assert _texts(a, "slow.pdf") == []
    # The first run read note.md before the second changed it: it read it again once it held
    # the lock, and left the store with the newer text.
    assert ["32 entries" in t for t in _texts(a, "note.md")] == [True]
    print(f"second run done in {waited:.1f} s while the first read the slow PDF")
