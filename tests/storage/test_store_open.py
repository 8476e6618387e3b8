"""Two processes opening a new embedded store at the same moment (two `rag index` runs started
together): both open it. Without a lock, the second one's schema setup failed about one time in
five with "table collections already exists"; twenty rounds make a miss unlikely."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

from rag.core.settings import Settings
from rag.storage.chroma import Store

ROUNDS = 20


def _open(index_dir: str, barrier: Any) -> str:
    barrier.wait()
    try:
        store = Store(Settings(index_dir=index_dir, corpus_dir=index_dir), verify=False)
        return f"ok {store.count()}"
    except Exception as e:  # the failure is what this test reports
        return f"{type(e).__name__}: {e}"


def test_a_new_store_opened_by_two_processes_at_once(tmp_path: Path) -> None:
    ctx = mp.get_context("fork")  # chromadb is imported once, so both start together
    failures = []
    for n in range(ROUNDS):
        with ctx.Manager() as manager:
            barrier = manager.Barrier(2)
            with ctx.Pool(2) as pool:
                results = pool.starmap(_open, [(str(tmp_path / str(n)), barrier)] * 2)
        failures += [r for r in results if r != "ok 0"]
    assert not failures, failures
