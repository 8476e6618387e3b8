"""`rag ask` from a new process, stage by stage.

    python -m bench.cold_start [--runs 3] [--index-dir DIR] [--name cold_start]

Each run is a fresh Python process running `rag ask` (rag.cli's app) that marks, in seconds from
its start: when the heavy modules have been imported (`imported:<module>`), the model process
spawned and answering `/health`, the store opened, the embedding model loaded, the assistant
ready, the lexical index loaded (`warm_up_done`), the first retrieval, the answer printed and
the exit; and the whole `rag ask` command line as a user runs it (wall clock to its exit), with
the time to its first output.

    python -m bench.cold_start --server [--runs 5] [--name cold_start-server]

With `--server`: a `rag serve` of a copy of the index runs on 127.0.0.1 (a free port) for the
measurement, and each round times the command in process (`rag ask --local`) and through the
running server (`rag ask`, which finds it: rag/service/local_server.py), interleaved, plus one
stage run through the server (imports, the server found, its answer, printed, exit); each round
asks another question (`QUESTIONS`; the stage run repeats its round's, as a user asking twice).
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
# `--server`: one question per round (both paths the same), so that the running server's model
# never answers a prompt it has just seen (llama-server reuses the cached prefix of a prompt).
QUESTIONS = (
    QUESTION,
    "Which method uses neural ODEs to speed up inference of parameter-shared language models?",
    "What throughput improvement does Splitwise report over current designs?",
    "What is KV cache quantization and which papers study it?",
    "How much KV cache is saved by sharing attention scores across layers?",
    "What per-token latency was reached when serving PaLM 540B on TPU v4?",
)

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
    elif n == "rag.service.local_server":
        after(module, "find", "server_found", lambda r, args: r is not None)
        after(module.LocalServer, "ask", "server_answered", lambda r, args: r is not None)
WATCH = {"rag.cli", "rag.service.assistant", "rag.storage.chroma", "rag.search.retrieval",
         "rag.answer.model_process", "chromadb", "openai", "onnxruntime",
         "rag.service.local_server"}
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


def stages(
    env: dict[str, str], cwd: Path = PROJECT_DIR, question: str = QUESTION
) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _STAGES, question],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    ).stderr
    line = next(x for x in reversed(out.splitlines()) if x.startswith("STAGES "))
    return json.loads(line.removeprefix("STAGES "))  # type: ignore[no-any-return]


def cli(
    env: dict[str, str], cwd: Path = PROJECT_DIR, *flags: str, question: str = QUESTION
) -> dict[str, float]:
    """The command as a user runs it: seconds to its first byte of output, and to its exit."""
    rag = Path(sys.executable).parent / "rag"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(rag), "ask", *flags, question],
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
    ap.add_argument(
        "--server",
        action="store_true",
        help="time `rag ask` through a running `rag serve` of (a copy of) the index, interleaved "
        "with `rag ask --local`",
    )
    args = ap.parse_args(argv)
    if args.server:
        return _with_server(args.index_dir, args.runs, args.name)
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


def _with_server(index_dir: Path, runs: int, name: str) -> dict[str, Any]:
    """`rag ask` in process and through a running `rag serve`, interleaved (see the module's
    description). The server and both paths use a copy of `index_dir` in a temporary folder, so
    that no other `rag ask` on this machine finds the benchmark's server."""
    import shutil
    import tempfile

    sys.path.insert(0, str(PROJECT_DIR / "tests" / "support"))
    from servers import free_port, running, serve_command

    name = name if name != "cold_start" else "cold_start-server"
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        index = Path(tmp) / "index"
        shutil.copytree(index_dir, index, ignore=shutil.ignore_patterns("serve-*.json"))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("RAG_")},
            "RAG_CORPUS_DIR": str(CORPUS_DIR),
            "RAG_INDEX_DIR": str(index),
            "RAG_STATE_DB": str(Path(tmp) / "state.sqlite3"),
            "HF_HUB_OFFLINE": "1",
        }
        port = free_port()
        serve_env = {**env, "RAG_API__HOST": "127.0.0.1", "RAG_API__PORT": str(port)}
        ready = f"http://127.0.0.1:{port}/health"
        record: dict[str, Any] = {"mode": "server", "runs": []}
        log = Path(tmp) / "serve.log"
        with running(serve_command(), ready, log, serve_env, timeout=300, healthy=True):
            # the server's first answer (its first request), not measured
            cli(env, PROJECT_DIR, question=QUESTIONS[-1])
            with load_window(record):
                for i in range(runs):
                    q = QUESTIONS[i % (len(QUESTIONS) - 1)]
                    record["runs"].append(
                        {
                            "question": q,
                            "local": cli(env, PROJECT_DIR, "--local", question=q),
                            "server": cli(env, PROJECT_DIR, question=q),
                            "server_stages": stages(env, question=q),
                        }
                    )
            record["server_answers"] = log.read_text().count("POST /v1/chat/completions")
    for path in ("local", "server"):
        record[f"median_{path}_s"] = {
            k: round(statistics.median(r[path][k] for r in record["runs"]), 3)
            for k in ("first_output_s", "exit_s")
        }
    keys = dict.fromkeys(k for r in record["runs"] for k in r["server_stages"])
    record["median_server_stages_s"] = {
        k: round(statistics.median(r["server_stages"][k] for r in record["runs"]), 3)
        for k in keys
        if all(k in r["server_stages"] for r in record["runs"])
    }
    print(
        f"[bench] cold_start local {record['median_local_s']} server {record['median_server_s']} "
        f"server stages {record['median_server_stages_s']}"
    )
    write_result(name, record)
    return record


if __name__ == "__main__":
    main()
