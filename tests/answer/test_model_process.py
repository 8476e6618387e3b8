"""The embedded LLM in its own supervised process, behind `rag serve` (real processes only).

- the model (llama.cpp's llama-server, built portably by `make setup`) generates on the machine
  running the tests, so CI proves the build runs where it was built;
- `kill -9` of the model process while questions are in flight: `/health` keeps answering, a
  question that loses its model fails cleanly with 503, and the next one is answered by the
  restarted model;
- several questions at once all complete (llama-server's parallel slots);
- stopping `rag serve` with SIGTERM leaves no model process behind.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest
from servers import VENV_BIN, free_port, running

pytestmark = pytest.mark.slow

QUESTIONS = [
    "How much does ZipCache cut prefill latency?",
    "What speedup does FlashAttention report on GPT-2?",
    "What compression ratio does Light4GS reach?",
    "How much faster than ONNX Runtime is the Fast DistilBERT pipeline on CPUs?",
]


def model_processes(pid: int) -> list[psutil.Process]:
    """The live llama-server children of a process (a reaped or zombie one is gone)."""
    out = []
    for c in psutil.Process(pid).children(recursive=True):
        try:
            if "llama-server" in " ".join(c.cmdline()) and c.status() != psutil.STATUS_ZOMBIE:
                out.append(c)
        except psutil.Error:
            continue
    return out


def generating(model: psutil.Process) -> bool:
    """Is the model writing an answer right now? (llama-server's own /slots endpoint)"""
    args = model.cmdline()
    port = args[args.index("--port") + 1]
    try:
        slots = httpx.get(f"http://127.0.0.1:{port}/slots", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return any(s.get("is_processing") for s in slots)


def wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture(scope="module")
def serve(rag_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    port = free_port()
    data = tmp_path_factory.mktemp("serve-data")
    env = {
        **rag_env,
        "RAG_API__PORT": str(port),
        "RAG_STATE_DB": str(data / "state.sqlite3"),
        "RAG_LLM__PARALLEL": "4",
        # the model restates each lead (off by default for the embedded model): it has work
        "RAG_LLM__RESTATE": "true",
    }
    log = data / "serve.log"
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", log, env) as proc:
        yield url, proc, data


def ask(url: str, question: str, timeout: float = 240.0) -> httpx.Response:
    body = {"messages": [{"role": "user", "content": question}]}
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=timeout)


def test_the_embedded_model_generates_here(serve: tuple) -> None:
    url, proc, _ = serve
    r = ask(url, QUESTIONS[0])
    assert r.status_code == 200, r.text
    answer = r.json()["answer"]
    assert answer["raw_text"].strip(), "the model process wrote nothing"
    assert answer["llm"].startswith("local:") or answer["llm"] == "extractive"
    assert len(model_processes(proc.pid)) == 1


def test_concurrent_questions_all_complete(serve: tuple) -> None:
    url, _, _ = serve
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda q: ask(url, q), QUESTIONS * 2))
    assert [r.status_code for r in responses] == [200] * 8, [r.text[:200] for r in responses]
    assert all(r.json()["citations"] for r in responses)


def test_killing_the_model_fails_one_request_cleanly_and_the_next_succeeds(serve: tuple) -> None:
    url, proc, _ = serve
    [model] = model_processes(proc.pid)
    with ThreadPoolExecutor(8) as pool:
        pending = [pool.submit(ask, url, q) for q in QUESTIONS * 2]
        wait_for(lambda: generating(model), timeout=120)  # the model is writing answers
        os.kill(model.pid, signal.SIGKILL)
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
        responses = [f.result() for f in pending]
    for r in responses:
        assert r.status_code in (200, 503), r.text
        if r.status_code == 503:
            error = r.json()["error"]
            assert "language model stopped" in error["message"], error
            assert "Traceback" not in r.text
    assert any(r.status_code == 503 for r in responses), [r.status_code for r in responses]
    # The supervisor restarted it; the next question is answered.
    wait_for(lambda: [p.pid for p in model_processes(proc.pid)] not in ([], [model.pid]))
    r = ask(url, QUESTIONS[2])
    assert r.status_code == 200, r.text
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200


def test_sigterm_leaves_no_model_process(rag_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    env = {**rag_env, "RAG_API__PORT": str(port), "RAG_STATE_DB": str(tmp_path / "f.db")}
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", tmp_path / "s.log", env) as p:
        wait_for(lambda: len(model_processes(p.pid)) == 1)
        [model] = model_processes(p.pid)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    wait_for(lambda: not psutil.pid_exists(model.pid) or model.status() == psutil.STATUS_ZOMBIE)
