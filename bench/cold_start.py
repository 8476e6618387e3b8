"""`rag ask` from a new process, stage by stage.

    python -m bench.cold_start [--runs 3] [--index-dir DIR]

Each run is a fresh Python process that times: the imports, opening the store, loading the
embedding model, the model process answering `/health` (it starts in the background and loads
while the rest happens), the first retrieval and the first answer; and the whole `rag ask`
command line as a user runs it (wall clock to its exit), with the time to its first output.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import CORPUS_DIR, PROJECT_DIR, load_window, write_result

QUESTION = "How much does ZipCache cut prefill latency?"

_STAGES = r"""
import json, sys, time
t0 = time.perf_counter(); marks = {}
def mark(name):
    marks[name] = round(time.perf_counter() - t0, 3)
import rag.service.assistant
from rag.core.settings import Settings
mark("imports")
a = rag.service.assistant.Assistant(Settings(), build_index=False, progress=False)
mark("store_and_embedding_model")
a.warm_up()
mark("llm_process_spawned")
a.retrieve(sys.argv[1], k=5)
mark("first_retrieve")
a.answerer.llm.process.wait_ready()
mark("llm_ready")
a.ask(sys.argv[1])
mark("first_answer")
print(json.dumps(marks))
"""


def stages(env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _STAGES, QUESTION],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def cli(env: dict[str, str]) -> dict[str, float]:
    """The command as a user runs it: seconds to its first byte of output, and to its exit."""
    rag = Path(sys.executable).parent / "rag"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(rag), "ask", QUESTION],
        env=env,
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    proc.stdout.read(1)
    first = time.perf_counter() - t0
    proc.communicate(timeout=600)
    return {"first_output_s": round(first, 3), "exit_s": round(time.perf_counter() - t0, 3)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--index-dir", type=Path, default=PROJECT_DIR / "index")
    args = ap.parse_args(argv)
    env = {
        **os.environ,
        "RAG_CORPUS_DIR": str(CORPUS_DIR),
        "RAG_INDEX_DIR": str(args.index_dir),
        "HF_HUB_OFFLINE": "1",
    }
    record: dict[str, Any] = {"question": QUESTION, "runs": []}
    with load_window(record):
        for _ in range(args.runs):
            record["runs"].append({"stages": stages(env), "cli": cli(env)})
    keys = record["runs"][0]["stages"].keys()
    record["median_stages_s"] = {
        k: round(statistics.median(r["stages"][k] for r in record["runs"]), 3) for k in keys
    }
    record["median_cli_s"] = {
        k: round(statistics.median(r["cli"][k] for r in record["runs"]), 3)
        for k in ("first_output_s", "exit_s")
    }
    print(f"[bench] cold_start stages {record['median_stages_s']} cli {record['median_cli_s']}")
    write_result("cold_start", record)
    return record


if __name__ == "__main__":
    main()
