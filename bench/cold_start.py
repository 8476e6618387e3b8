"""`rag ask` from a new process, stage by stage.

    python -m bench.cold_start [--runs 3] [--index-dir DIR] [--name cold_start]

Each run is a fresh Python process running `rag ask` (rag.cli's app) that marks, in seconds from
its start: when the heavy modules have been imported (`imported:<module>`), the model process
spawned and answering `/health`, the store opened, the embedding model loaded, the assistant
ready, the lexical index loaded (`warm_up_done`), the first retrieval, the answer printed and
the exit; and the whole `rag ask` command line as a user runs it (wall clock to its exit), with
the time to its first output.
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

# `rag ask` itself (rag.cli's app, as the `rag` script runs it), its stages marked from outside the
# code: a module's import is marked when it has run (an import hook), a stage when its function
# returns (wrapped once the module is loaded), the model's spawn by the audit event of its Popen.
# Works on any version of the code, so a before and an after are measured the same way.
_STAGES = r"""
import importlib.abc, importlib.machinery, json, sys, time
t0 = time.perf_counter(); marks = {}
def mark(name):
    marks.setdefault(name, round(time.perf_counter() - t0, 3))
def after(obj, attr, name, when=lambda result, args: True):
    fn = getattr(obj, attr)
    def wrapper(*args, **kw):
        result = fn(*args, **kw)
        if when(result, args):
            mark(name)
        return result
    setattr(obj, attr, wrapper)
def patch(module):
    n = module.__name__
    if n == "rag.storage.chroma":
        after(module.Store, "__init__", "store_opened")
    elif n == "rag.search.retrieval":
        after(module.HybridRetriever, "__init__", "embedding_model_loaded")
        after(module.HybridRetriever, "retrieve", "first_retrieve")
    elif n == "rag.service.assistant":
        after(module.Assistant, "__init__", "assistant_ready")
        after(module.Assistant, "warm_up", "warm_up_done")
    elif n == "rag.answer.model_process":
        after(module.ModelProcess, "_wait_healthy", "llm_ready",
              lambda r, args: args[0]._ready.is_set())
    elif n == "rag.cli":
        after(module, "print_answer", "answer_printed")
WATCH = {"rag.cli", "rag.service.assistant", "rag.storage.chroma", "rag.search.retrieval",
         "rag.answer.model_process", "chromadb", "openai", "onnxruntime"}
class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in WATCH:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            mark("imported:" + name)
            patch(module)
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Hook())
def audit(event, args):
    if event == "subprocess.Popen" and "llama" in str(args[0]):
        mark("llm_process_spawned")
sys.addaudithook(audit)
from rag.cli import app
try:
    app(["ask", *sys.argv[1:]], prog_name="rag")
except SystemExit:
    pass
mark("exit")
print("STAGES " + json.dumps(dict(sorted(marks.items(), key=lambda kv: kv[1]))), file=sys.stderr)
"""


def stages(env: dict[str, str], cwd: Path = PROJECT_DIR) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _STAGES, QUESTION],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stderr
    line = next(x for x in reversed(out.splitlines()) if x.startswith("STAGES "))
    return json.loads(line.removeprefix("STAGES "))  # type: ignore[no-any-return]


def cli(env: dict[str, str], cwd: Path = PROJECT_DIR) -> dict[str, float]:
    """The command as a user runs it: seconds to its first byte of output, and to its exit."""
    rag = Path(sys.executable).parent / "rag"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(rag), "ask", QUESTION],
        env=env,
        cwd=cwd,
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
    ap.add_argument("--name", default="cold_start", help="bench/results/<name>.json")
    ap.add_argument(
        "--code",
        type=Path,
        default=PROJECT_DIR,
        help="the checkout whose `rag ask` runs (e.g. a git worktree of an earlier commit, for a "
        "before and an after in the same conditions); the index stays --index-dir",
    )
    args = ap.parse_args(argv)
    env = {
        **os.environ,
        "RAG_CORPUS_DIR": str(CORPUS_DIR),
        "RAG_INDEX_DIR": str(args.index_dir),
        "HF_HUB_OFFLINE": "1",
    }
    code = args.code.resolve()
    if code != PROJECT_DIR.resolve():
        env["PYTHONPATH"] = str(code)
    record: dict[str, Any] = {"question": QUESTION, "code": str(code), "runs": []}
    with load_window(record):
        for _ in range(args.runs):
            record["runs"].append({"stages": stages(env, code), "cli": cli(env, code)})
    keys = dict.fromkeys(k for r in record["runs"] for k in r["stages"])
    medians = {
        k: round(statistics.median(r["stages"][k] for r in record["runs"] if k in r["stages"]), 3)
        for k in keys
    }
    record["median_stages_s"] = dict(sorted(medians.items(), key=lambda kv: kv[1]))
    record["median_cli_s"] = {
        k: round(statistics.median(r["cli"][k] for r in record["runs"]), 3)
        for k in ("first_output_s", "exit_s")
    }
    print(f"[bench] cold_start stages {record['median_stages_s']} cli {record['median_cli_s']}")
    write_result(args.name, record)
    return record


if __name__ == "__main__":
    main()
