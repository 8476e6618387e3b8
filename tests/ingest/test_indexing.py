"""Incremental, resumable indexing into a real Chroma store with the real MiniLM model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.core.settings import PROJECT_DIR, Settings
from rag.ingest.listing import clean_lines
from rag.service.assistant import Assistant
from rag.storage.lexical import PENDING, VERSION_KEY, LexicalVersions, is_final

CORPUS = PROJECT_DIR / "corpus"


def _small_listing(path: Path, start: int, n: int) -> None:
    """A listing file of `n` papers taken from the shipped corpus."""
    lines = clean_lines((CORPUS / "001_6a9130a22abd98d5.txt").read_text(encoding="utf-8"))
    path.write_text("Daily Papers\n\n" + "\n\n".join(lines[2 * start : 2 * (start + n)]) + "\n")


def _assistant(tmp: Path, corpus: Path) -> Assistant:
    s = Settings(corpus_dir=corpus, index_dir=tmp / "index")
    return Assistant(s, build_index=False, progress=False)


def test_second_index_of_shipped_corpus_embeds_nothing(assistant: Assistant) -> None:
    report = assistant.index()
    assert report.chunks_embedded == 0
    assert report.added == report.updated == report.removed == 0
    assert report.skipped == report.documents == 685
    status = assistant.status()
    assert status.documents == 685 and status.chunks >= 685 and status.last_build


def test_changed_file_reembeds_only_its_document(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _small_listing(corpus / "a.txt", 0, 5)
    _small_listing(corpus / "b.txt", 5, 5)
    (corpus / "notes.md").write_text("# Notes on sparsity\n\nStructured sparsity speeds up GPUs.\n")
    a = _assistant(tmp_path, corpus)
    first = a.index()
    assert (first.added, first.chunks_embedded, first.documents) == (11, 11, 11)

    text = (corpus / "a.txt").read_text()
    lines = text.split("\n\n")
    lines[2] = lines[2] + " We also report a 12.5x speedup on edge devices."
    (corpus / "a.txt").write_text("\n\n".join(lines))
    second = a.index()
    assert (second.updated, second.added, second.removed) == (1, 0, 0)
    assert second.chunks_embedded == 1 and second.skipped == 10
    assert any("12.5x" in p.text for p in a.retrieve("12.5x speedup on edge devices", k=3))

    (corpus / "b.txt").unlink()
    third = a.index()
    assert third.removed == 5 and third.chunks_embedded == 0
    assert a.status().documents == 6


def test_unreadable_file_is_reported_and_loses_nothing(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _small_listing(corpus / "a.txt", 0, 3)
    a = _assistant(tmp_path, corpus)
    a.index()
    (corpus / "bad.pdf").write_bytes(b"%PDF-1.7 garbage")
    report = a.index()
    assert [Path(f.path).name for f in report.failed] == ["bad.pdf"]
    assert report.skipped == 3 and report.documents == 3


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    a = _assistant(tmp_path, tmp_path)
    with pytest.raises(FileNotFoundError, match="No such file or folder"):
        a.index([tmp_path / "nope"])


def test_interrupted_build_resumes_and_ends_consistent(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _small_listing(corpus / "a.txt", 0, 100)
    env = dict(os.environ, RAG_CORPUS_DIR=str(corpus), RAG_INDEX_DIR=str(tmp_path / "index"))
    env["RAG_PROGRESS"] = "always"  # the bar tells how far it got (stderr is a pipe here)
    cmd = [sys.executable, "-m", "rag.cli", "index"]
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True, bufsize=1)
    assert proc.stderr is not None
    seen = ""
    deadline = time.time() + 300
    while time.time() < deadline:  # kill -9 once some, not all, batches are written
        seen += proc.stderr.read(1)
        if "32/100" in seen or "64/100" in seen:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert "32/100" in seen or "64/100" in seen, seen[-500:]

    a = _assistant(tmp_path, corpus)
    # Killed mid-run: the stamp says pending, which no saved lexical index matches; a retriever
    # serves what the store holds from memory and saves nothing.
    killed_at = a.store.fresh_metadata()[VERSION_KEY]
    assert killed_at.startswith(PENDING)
    assert a.retrieve("language models", k=3, mode="bm25")
    assert a.retriever.lexical is not None and a.retriever.lexical.version == killed_at
    versions = LexicalVersions(a.settings, a.store)
    assert not versions.path(killed_at).exists()

    report = a.index()
    assert report.failed == []
    assert report.added + report.updated + report.skipped == 100
    assert report.added + report.updated > 0  # it had not finished
    assert report.documents == 100 and a.store.count() == 100
    again = a.index()
    assert again.chunks_embedded == 0 and again.skipped == 100
    metas = a.store.collection.get(include=["metadatas"])["metadatas"] or []
    assert len({json.dumps(m.get("doc_id")) for m in metas}) == 100
    # The resumed run ends with the lexical index matching the store, under the final stamp.
    version = a.store.fresh_metadata()[VERSION_KEY]
    assert is_final(version)
    saved = versions.load(version)
    assert saved is not None
    assert sorted(saved.ids) == sorted(a.store.collection.get(include=[])["ids"])
    fresh = _assistant(tmp_path, corpus)
    title = str(metas[-1]["title"])  # written by the resumed run
    assert fresh.retrieve(title, k=1, mode="bm25")[0].title == title
    assert fresh.retriever.lexical is not None and fresh.retriever.lexical.origin == "loaded"
