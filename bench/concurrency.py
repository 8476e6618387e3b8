"""Concurrency through the HTTP API (`rag serve`): 1, 4 and 16 simultaneous questions.

    python -m bench.concurrency [--index-dir DIR] [--levels 1 4 16] [--parallel 1 4]
                                [--threads 1 2] [--warm] [--first-token N]
                                [--name concurrency-grid]

For each number of model slots (`llm.parallel`: 1 is one generation at a time, as before the
model had its own process; 4 lets llama-server batch four generations), starts `rag serve` on
127.0.0.1 (a free port) over the given index, then fires bursts of simultaneous
`POST /v1/chat/completions` (non-streaming) and reports throughput, p50/p95 latency and errors
per level: before and after, same machine, same run. `--threads` adds llama.cpp threads
(`RAG_LLM__N_THREADS`) as a second axis: every threads x slots pair, one server each, same run.
`--first-token N` times the first streamed delta of an answer asked alone and asked while the
largest level's number of other questions are in flight (issue 26: loaded ≤ 2x idle).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import (
    CORPUS_DIR,
    RESULTS_DIR,
    latency_stats,
    load_window,
    questions,
    write_result,
)
from tests.support.servers import free_port, running, serve_command


@contextlib.contextmanager
def running_server(
    index_dir: Path,
    port: int,
    log: Path,
    timeout: float = 300.0,
    parallel: int = 4,
    threads: int | None = None,
) -> Any:
    """`rag serve` on 127.0.0.1:port until the block ends; waits for GET /health.
    `threads`: llama.cpp threads (`RAG_LLM__N_THREADS`); None leaves the environment's."""
    env = dict(os.environ)
    env.update(
        {
            "RAG_CORPUS_DIR": str(CORPUS_DIR),
            "RAG_INDEX_DIR": str(index_dir),
            "RAG_STATE_DB": str(Path(index_dir).parent / "state.sqlite3"),
            "RAG_API__HOST": "127.0.0.1",
            "RAG_API__PORT": str(port),
            "RAG_LLM__PARALLEL": str(parallel),
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if threads is not None:
        env["RAG_LLM__N_THREADS"] = str(threads)
    env.pop("RAG_API__TOKEN", None)
    base = f"http://127.0.0.1:{port}"
    # the tests' own launcher (tests/support/servers.py): one way to start and stop a server
    with running(serve_command(), f"{base}/health", log, env, timeout=timeout, healthy=True):
        yield base


def ask_http(
    base: str, question: str, timeout: float, client: Any = None
) -> tuple[float, str | None]:
    """One chat completion; (seconds, error or None). An answer without content is an error.
    `client`: an httpx.Client to reuse (its own timeout applies), else one request of its own."""
    import httpx

    body = {"model": "rag", "messages": [{"role": "user", "content": question}], "stream": False}
    t0 = time.perf_counter()
    try:
        url = f"{base}/v1/chat/completions"
        r = client.post(url, json=body) if client else httpx.post(url, json=body, timeout=timeout)
        elapsed = time.perf_counter() - t0
        if r.status_code != 200:
            return elapsed, f"HTTP {r.status_code}: {r.text[:200]}"
        content = r.json()["choices"][0]["message"]["content"]
        return elapsed, None if content else "empty answer"
    except Exception as e:  # every failure counts as an error of this request, not a crash
        return time.perf_counter() - t0, f"{type(e).__name__}: {e}"


LOAD_SETTLE_S = 0.3  # the other questions are sent this long before the measured one


def first_token_http(base: str, question: str, timeout: float) -> tuple[float, str | None]:
    """One streamed chat completion: seconds to its first content delta (what a reader first
    sees), and an error or None."""
    import json

    import httpx

    body = {"model": "rag", "messages": [{"role": "user", "content": question}], "stream": True}
    t0 = time.perf_counter()
    try:
        url = f"{base}/v1/chat/completions"
        with httpx.stream("POST", url, json=body, timeout=timeout) as r:
            if r.status_code != 200:
                return time.perf_counter() - t0, f"HTTP {r.status_code}"
            for line in r.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                delta = json.loads(line[6:])["choices"][0]["delta"]
                if delta.get("content"):
                    return time.perf_counter() - t0, None
        return time.perf_counter() - t0, "no content"
    except Exception as e:  # a failure counts against this request, not the bench
        return time.perf_counter() - t0, f"{type(e).__name__}: {e}"


def first_token(base: str, pool: list[str], args: Any) -> dict[str, Any]:
    """Time to the first content delta of a streamed answer: asked alone (idle), and asked
    LOAD_SETTLE_S after as many other questions as the largest level sends (loaded),
    `args.first_token` times each, so the two are compared on one server in one run."""
    others = max(args.levels)
    idle = [
        first_token_http(base, q, args.timeout) for q in level_questions(pool, args.first_token)
    ]
    loaded: list[tuple[float, str | None]] = []
    for i in range(args.first_token):
        background = level_questions(pool, others + i + 1)[i + 1 :]
        with ThreadPoolExecutor(max_workers=others) as busy:
            futures = [busy.submit(ask_http, base, q, args.timeout) for q in background]
            time.sleep(LOAD_SETTLE_S)  # the others are in flight before the measured one starts
            loaded.append(first_token_http(base, pool[1 + i % (len(pool) - 1)], args.timeout))
            for f in futures:
                f.result()
    idle_stats = latency_stats([t for t, _ in idle])
    loaded_stats = latency_stats([t for t, _ in loaded])
    return {
        "questions": args.first_token,
        "others_in_flight": others,
        "idle": idle_stats,
        "loaded": loaded_stats,
        "loaded_over_idle_p50": round(loaded_stats["p50_ms"] / max(idle_stats["p50_ms"], 1e-9), 2),
        "errors": [e for _, e in idle + loaded if e][:3],
    }


def burst(base: str, qs: list[str], concurrency: int, timeout: float) -> dict[str, Any]:
    """`len(qs)` questions sent `concurrency` at a time; all start together when len == c."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda q: ask_http(base, q, timeout), qs))
    wall = time.perf_counter() - t0
    errors = [e for _, e in results if e]
    return {
        "concurrency": concurrency,
        "requests": len(qs),
        "wall_s": round(wall, 3),
        "throughput_qps": round(len(qs) / wall, 4),
        "latency": latency_stats([s for s, _ in results]),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


def level_questions(pool: list[str], n: int) -> list[str]:
    """The n questions a level sends: the pool after its first (the server's warm-up), cycled."""
    return [pool[1 + (i % (len(pool) - 1))] for i in range(n)]


def run_levels(
    index_dir: Path, slots: int, pool: list[str], args: Any, threads: int | None = None
) -> dict[str, Any]:
    """One `rag serve` with `slots` model slots (and `threads` llama.cpp threads when given),
    through every concurrency level."""
    run: dict[str, Any] = {"parallel": slots, "levels": []}
    tag = f"p{slots}"
    if threads is not None:
        run["n_threads"] = threads
        tag += f"-t{threads}"
    log = RESULTS_DIR / f"concurrency-server-{tag}.log"
    try:
        with running_server(index_dir, free_port(), log, parallel=slots, threads=threads) as base:
            t0 = time.perf_counter()
            warm = ask_http(base, pool[0], args.timeout)  # the first answer of the server
            run["warmup_s"] = round(time.perf_counter() - t0, 3)
            run["warmup_error"] = warm[1]
            if args.warm:
                # every question the levels send, asked once: the server's caches (passage
                # rows, sentence vectors) hold them, as in a server that has run a while, so
                # that no level gains from the questions an earlier level asked
                most = max(max(c * args.rounds, args.min_requests) for c in args.levels)
                seen = list(dict.fromkeys(level_questions(pool, most)))
                t0 = time.perf_counter()
                burst(base, seen, 1, args.timeout)
                run["warm_questions"] = len(seen)
                run["warm_s"] = round(time.perf_counter() - t0, 3)
            t_levels = time.perf_counter()
            for c in args.levels:
                n = max(c * args.rounds, args.min_requests)
                done = [lv for lv in run["levels"] if "latency" in lv]
                per_answer = done[-1]["latency"]["p50_ms"] / 1000 if done else run["warmup_s"]
                estimate = per_answer * n / min(c, slots)
                left = args.budget_s - (time.perf_counter() - t_levels)
                if estimate > left:
                    note = f"skipped: ~{estimate:.0f}s estimated (> {left:.0f}s of budget left)"
                    run["levels"].append({"concurrency": c, "requests": n, "skipped": note})
                    print(f"[bench] concurrency {tag} c{c}: {note}")
                    continue
                qs = level_questions(pool, n)
                level = burst(base, qs, c, args.timeout)
                print(f"[bench] concurrency {tag} c{c}: {level}")
                run["levels"].append(level)
            if args.first_token:
                run["first_token"] = first_token(base, pool, args)
                print(f"[bench] concurrency {tag} first token: {run['first_token']}")
    except RuntimeError as e:
        run["skipped"] = f"failed: {e}"
        print(f"[bench] concurrency {run['skipped']}")
    return run


def default_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the configured slots and threads (`llm.parallel`, `llm.n_threads` as
    resolved), else the last one; with `--threads`, the last run is not the default."""
    from rag.answer.llm import default_threads
    from rag.core.settings import Settings

    cfg = Settings().llm
    threads = cfg.n_threads or default_threads()
    for run in runs:
        if run.get("parallel") == cfg.parallel and run.get("n_threads", threads) == threads:
            return run
    return runs[-1]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, help="an index of the shipped corpus (else built)")
    ap.add_argument("--levels", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument(
        "--parallel", type=int, nargs="+", default=[1, 4], help="model slots to compare"
    )
    ap.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="llama.cpp threads to compare (RAG_LLM__N_THREADS); default: the configured ones",
    )
    ap.add_argument("--name", default="concurrency", help="result file: bench/results/<name>.json")
    ap.add_argument("--rounds", type=int, default=2, help="requests per client at each level")
    ap.add_argument("--min-requests", type=int, default=4, help="per level, at least this many")
    ap.add_argument("--timeout", type=float, default=300.0, help="per request, seconds")
    ap.add_argument(
        "--warm",
        action="store_true",
        help="ask every question once before the levels (a server that has run a while)",
    )
    ap.add_argument(
        "--first-token",
        type=int,
        default=0,
        metavar="N",
        help="also time the first streamed delta, N questions alone and N while the largest "
        "level's number of others are answered",
    )
    ap.add_argument(
        "--budget-s",
        type=float,
        default=600.0,
        help="skip a level whose estimated time (warm-up latency x requests) would exceed this",
    )
    args = ap.parse_args(argv)

    if importlib.util.find_spec("rag.api") is None:
        msg = "skipped: rag/api/ (the HTTP API, issue 6) does not exist yet"
        print(f"[bench] concurrency {msg}")
        write_result(args.name, {"skipped": msg})
        return {"skipped": msg}

    tmp = tempfile.TemporaryDirectory(prefix="bench-http-")
    index_dir = args.index_dir
    if index_dir is None:  # build one first, in this process, so the server only loads it
        from bench.common import bench_settings
        from rag.service.assistant import Assistant

        index_dir = Path(tmp.name) / "index"
        Assistant(bench_settings(index_dir), progress=False)

    record: dict[str, Any] = {"index_dir": str(index_dir), "runs": []}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    pool = questions(max(args.levels) * 2 + 1, seed=23)
    with load_window(record):
        for threads in args.threads or [None]:
            for slots in args.parallel:
                run = run_levels(index_dir, slots, pool, args, threads=threads)
                record["runs"].append(run)
    record["levels"] = default_run(record["runs"]).get("levels", [])  # what SUMMARY.md reports
    write_result(args.name, record)
    tmp.cleanup()
    return record


if __name__ == "__main__":
    main()
