"""`rag ask` as a new process (issue 26, cold start) imports only what answering needs: nothing
of the servers, the UI, the indexing or the state database (SQLAlchemy, ~0.3 s, which only the
source links' module pulled in, although `rag ask` without `public_url` prints none), and it ends
as soon as its answer is out (no interpreter tear-down), its exit handlers run.

The command runs as the `rag` script runs it (argv[0] "rag"), in a process whose exit handler
(registered first, so it runs last, after the command's own) records which heavy modules were
loaded. An empty index: the path to the answer is the same, the answer an abstention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = r"""
import atexit, json, sys
HEAVY = ("gradio", "fastapi", "starlette", "uvicorn", "llama_index", "pandas", "torch",
         "transformers", "sqlalchemy", "slack_bolt", "mcp")
def report():
    heavy = sorted(m for m in HEAVY if m in sys.modules)
    print("PROBE " + json.dumps({"heavy_at_exit": heavy}), file=sys.stderr, flush=True)
atexit.register(report)
sys.argv = ["rag", "ask", sys.argv[1]]
from rag.cli import app
app()
"""


@pytest.mark.slow
def test_rag_ask_imports_no_heavy_faces_and_runs_its_exit_handlers(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(tmp_path / "index"),
        "RAG_CORPUS_DIR": str(tmp_path / "no-corpus"),
        "RAG_STATE_DB": str(tmp_path / "state.sqlite3"),
        "HF_HUB_OFFLINE": "1",
    }
    env.pop("RAG_PUBLIC_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "How much does ZipCache cut prefill latency?"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    # an empty collection: refused, plainly (naming ZipCache, which no passage mentions)
    assert "does not answer" in done.stdout or "Not in the collection" in done.stdout, done.stdout
    line = next(x for x in done.stderr.splitlines() if x.startswith("PROBE "))
    assert json.loads(line.removeprefix("PROBE ")) == {"heavy_at_exit": []}
