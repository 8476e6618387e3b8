"""Attacks on `rag index` itself: one bad file, odd folders, and two writers at once.

Before: a 30 MB .txt made nltk's sentence regex hit its 5 s limit and the whole build failed
(the good files in the same run were not indexed); a symlink loop gave a stack trace; folders
silently dropped symlink loops and unsupported types; two `rag index` at once both did all the
work and both reported every document as added.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from attack_corpus import PAPERS, rag_env_for, write_corpus
from servers import VENV_BIN

from rag.ingest.chunking import BoundedSentenceSplitter

pytestmark = pytest.mark.slow

WORDS = [
    "the",
    "model",
    "cache",
    "token",
    "layer",
    "quantization",
    "attention",
    "memory",
    "speed",
    "inference",
]


def _big_text(n_chars: int) -> str:
    """Sentences with no paragraph break: what made nltk's regex give up."""
    rng = random.Random(0)
    out, size = [], 0
    while size < n_chars:
        s = " ".join(rng.choices(WORDS, k=15)) + "."
        out.append(s)
        size += len(s) + 1
    return " ".join(out)


def _rag(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "rag"), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_a_30mb_file_is_split_without_a_regex_timeout() -> None:
    text = _big_text(30_000_000)
    splitter = BoundedSentenceSplitter(chunk_size=512, chunk_overlap=64)
    chunks = splitter.split_text(text)  # was: TimeoutError from nltk's sentence regex
    assert len(chunks) > 5000
    assert all(len(c) < 4000 for c in chunks)
    assert chunks[0][:200] == text[:200] and text.endswith(chunks[-1][-200:])


def test_one_slow_file_is_skipped_and_the_rest_indexed(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "huge.txt").write_text(_big_text(30_000_000))
    env = rag_env_for(tmp_path, RAG_CHUNKING__SPLIT_TIME_LIMIT_S="2")
    done = _rag(["index"], env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert re.search(
        r"failed \S*huge\.txt: SplitTimeoutError: splitting took over 2 s", done.stderr
    )
    assert "added 3," in done.stdout and "failed 1" in done.stdout, done.stdout
    status = _rag(["status"], env)
    assert '"documents": 3' in status.stdout


def test_symlink_loops_and_unsupported_files_are_named(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "up").symlink_to(corpus)  # a loop inside the folder
    (corpus / "data.csv").write_text("a,b\n")
    (corpus / "report.docx").write_bytes(b"PK\x03\x04")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")  # a link to itself, given directly
    env = rag_env_for(tmp_path)
    done = _rag(["index", str(corpus), str(tmp_path / "loop")], env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    err = " ".join(done.stderr.split())
    assert "symlink loop" in err
    assert re.search(r"ignored \S*loop: cannot be read", err), err
    assert "data.csv: unsupported type .csv" in err and "report.docx: unsupported type .docx" in err
    assert "added 3," in done.stdout and "ignored 4 files" in done.stdout, done.stdout


def _lock_holder(lock: Path) -> subprocess.Popen[str]:
    """A process that takes the index lock and sleeps, as a running `rag index` would."""
    code = (
        "import sys, time; from pathlib import Path; from rag.core.locking import index_lock\n"
        "with index_lock(Path(sys.argv[1]), 5):\n"
        "    print('locked', flush=True); time.sleep(600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(lock)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_writer_waits_then_refuses_and_kill_9_frees_the_lock(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus")
    holder = _lock_holder(tmp_path / "index" / "papers.lock")
    env = rag_env_for(tmp_path, RAG_INDEX_LOCK_TIMEOUT_S="3")
    try:
        done = _rag(["index"], env)
        assert done.returncode == 1, done.stdout
        err = " ".join(done.stderr.split())
        assert f"pid {holder.pid}" in err and "waiting" in err and "did not finish" in err
        assert "Traceback" not in done.stderr
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    done = _rag(["index"], env)  # the kernel dropped the dead holder's lock
    assert done.returncode == 0 and "added 3," in done.stdout, done.stderr[-2000:]


def test_two_index_runs_at_once_report_the_truth(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    for i in range(60):
        (corpus / f"note{i:02d}.md").write_text(f"# Note {i}\n\n" + _big_text(3000))
    env = rag_env_for(tmp_path)
    runs = [
        subprocess.Popen(
            [str(VENV_BIN / "rag"), "index"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [r.communicate(timeout=600) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outs
    added = sorted(int(re.search(r"added (\d+),", o).group(1)) for o, _ in outs)  # type: ignore[union-attr]
    total = len(PAPERS) + 60
    assert added == [0, total], outs  # one did the work; the other found it done
