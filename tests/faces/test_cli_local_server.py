"""`rag ask` and `rag chat` ask a `rag serve` of the same index running on this machine instead
of loading the models themselves (issue 26, cold start; rag/service/local_server.py), and print
the same output; `--local` answers in process; a discovery file that cannot be trusted (its
server gone, hung, of another index, needing a token the CLI lacks, not on loopback) is passed
over quietly.

The end-to-end test runs a real `rag serve` on 127.0.0.1 (a free port) over a copy of an index
of the shipped corpus (the project's `index/` when it is built, else the session's), and the
CLI as a user runs it; the others check `find` against small stand-in HTTP servers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from servers import VENV_BIN, free_port, running, serve_command

from rag.core.errors import EmptyQuestionError
from rag.core.settings import PROJECT_DIR, Settings

QUESTION = "How much does ZipCache cut prefill latency?"
PUBLIC = "https://rag.example.org/team"  # the printed sources carry links


# -- stand-ins ------------------------------------------------------------------------------------


class StandIn:
    """An HTTP server on 127.0.0.1 answering the instance probe with `instance` and chat
    completions with `chat` (status, body); it records the paths asked."""

    def __init__(self, instance: str, chat: tuple[int, Any] = (500, {})) -> None:
        self.asked: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                outer.asked.append(self.path)
                self._send(200, {"instance": instance})

            def do_POST(self) -> None:
                outer.asked.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(*chat)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _plant(settings: Settings, url: str, **changes: Any) -> Path:
    """A discovery file in the index folder as `rag serve` writes it, with `changes`."""
    from rag.service.local_server import identity

    info = {
        "url": url,
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "instance": "i-1",
        "identity": identity(settings),
        "tokens_required": False,
        "started": time.time(),
        **changes,
    }
    path = Path(settings.index_dir) / f"serve-{info['pid']}.json"
    path.write_text(json.dumps(info), "utf-8")
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn("i-1")
    yield server
    server.stop()


@pytest.fixture
def plain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("RAG_API__TOKEN", "RAG_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return Settings(index_dir=tmp_path)


# -- which discovery files are trusted ----------------------------------------------------------


def test_a_server_of_the_same_index_is_found_and_its_answer_used(
    plain: Settings, tmp_path: Path
) -> None:
    from rag.core.types import Answer
    from rag.service.local_server import find

    answer = Answer(question="q?", text="It does.", citations=[])
    server = StandIn("i-1", chat=(200, {"answer": answer.model_dump(mode="json")}))
    try:
        _plant(plain, server.url)
        found = find(plain)
        assert found is not None and found.url == server.url
        assert found.ask("q?") == answer
        assert server.asked == ["/.well-known/rag-instance", "/v1/chat/completions"]
    finally:
        server.stop()


def test_a_stale_file_is_removed_and_nothing_is_asked(plain: Settings) -> None:
    from rag.service.local_server import find

    stale = _plant(plain, f"http://127.0.0.1:{free_port()}", pid=_dead_pid())
    assert find(plain) is None
    assert not stale.exists()


def test_a_hung_server_is_passed_over_quickly(plain: Settings) -> None:
    from rag.service.local_server import PROBE_TIMEOUT_S, find

    with socket.socket() as hung:  # accepts connections (the backlog), never answers
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        _plant(plain, f"http://127.0.0.1:{hung.getsockname()[1]}")
        start = time.monotonic()
        assert find(plain) is None
        assert time.monotonic() - start < PROBE_TIMEOUT_S + 2


@pytest.mark.parametrize(
    "changes",
    [
        {"identity": "another-index-or-other-settings"},
        {"tokens_required": True},  # and the CLI has no token
        {"instance": "another-server-on-that-port"},
        {"hostname": "another-machine"},
    ],
    ids=["other-index", "token-needed", "other-instance", "other-host"],
)
def test_servers_that_may_not_be_asked_are_passed_over(
    plain: Settings, stand_in: StandIn, changes: dict[str, Any]
) -> None:
    from rag.service.local_server import find

    _plant(plain, stand_in.url, **changes)
    assert find(plain) is None
    assert "/v1/chat/completions" not in stand_in.asked


def test_a_non_loopback_url_is_never_asked(plain: Settings) -> None:
    from rag.service.local_server import find

    _plant(plain, "http://192.0.2.1:8000")  # TEST-NET: nothing there
    start = time.monotonic()
    assert find(plain) is None
    assert time.monotonic() - start < 1


def test_another_index_with_the_same_settings_is_another_identity(tmp_path: Path) -> None:
    from rag.service.local_server import identity

    a, b = Settings(index_dir=tmp_path / "a"), Settings(index_dir=tmp_path / "b")
    assert identity(a) != identity(b)
    assert identity(a) == identity(a.model_copy(update={"api": a.api.model_copy()}))
    busier = a.model_copy(update={"llm": a.llm.model_copy(update={"n_threads": 2})})
    assert identity(a) == identity(busier)  # how it runs, not what it answers
    other_model = a.model_copy(update={"llm": a.llm.model_copy(update={"model_path": "x.gguf"})})
    assert identity(a) != identity(other_model)


def test_a_refused_question_is_raised_other_failures_answer_in_process(
    plain: Settings,
) -> None:
    from rag.service.local_server import find

    refused = {"error": {"message": "The question is empty.", "type": "EmptyQuestionError"}}
    for chat, outcome in [
        ((400, refused), EmptyQuestionError),
        ((401, {"error": {"message": "token", "type": "invalid_request_error"}}), None),
        ((404, {"error": {"message": "no", "type": "CollectionNotFoundError"}}), None),
        ((503, {"error": {"message": "LLM down", "type": "LLMUnavailableError"}}), None),
        ((200, {"no": "answer"}), None),
    ]:
        server = StandIn("i-1", chat=chat)
        try:
            _plant(plain, server.url)
            found = find(plain)
            assert found is not None
            if outcome is None:
                assert found.ask("q?") is None, chat
            else:
                with pytest.raises(outcome):
                    found.ask("q?")
        finally:
            server.stop()


# -- the CLI with a real `rag serve` ------------------------------------------------------------


@pytest.fixture(scope="module")
def index_copy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of a built index of the shipped corpus (without any server's discovery file)."""
    source = PROJECT_DIR / "index"
    if not (source / "papers.manifest.json").is_file():
        source = Path(request.getfixturevalue("rag_env")["RAG_INDEX_DIR"])
    where = tmp_path_factory.mktemp("local-server") / "index"
    shutil.copytree(source, where, ignore=shutil.ignore_patterns("serve-*.json", ".*.tmp"))
    return where


def _env(index: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {
        **env,
        "RAG_CORPUS_DIR": str(PROJECT_DIR / "corpus"),
        "RAG_INDEX_DIR": str(index),
        "RAG_STATE_DB": str(index.parent / "state.sqlite3"),
        "RAG_PUBLIC_URL": PUBLIC,
        "HF_HUB_OFFLINE": "1",
        "COLUMNS": "100",
        "NO_COLOR": "1",
        **extra,
    }


def _rag(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "rag"), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_rag_ask_through_a_running_server_prints_what_it_prints_in_process(
    index_copy: Path,
) -> None:
    env = _env(index_copy)
    port = free_port()
    log = index_copy.parent / "serve.log"
    serve_env = {**env, "RAG_API__HOST": "127.0.0.1", "RAG_API__PORT": str(port)}
    with running(serve_command(), f"http://127.0.0.1:{port}/health", log, serve_env, 180, True):
        (announced,) = index_copy.glob("serve-*.json")
        info = json.loads(announced.read_text())
        assert info["url"] == f"http://127.0.0.1:{port}"
        asked = log.read_text().count("POST /v1/chat/completions")
        remote = _rag(env, "ask", QUESTION)
        assert log.read_text().count("POST /v1/chat/completions") == asked + 1  # it answered
        local = _rag(env, "ask", "--local", QUESTION)
        assert log.read_text().count("POST /v1/chat/completions") == asked + 1  # not this one
        empty_remote, empty_local = _rag(env, "ask", " "), _rag(env, "ask", "--local", " ")
        # `rag chat`: a follow-up with its history, the same way
        talk = "What is ZipCache?\nHow much does it cut prefill latency?\n\n"
        asked = log.read_text().count("POST /v1/chat/completions")
        chat_remote = _rag(env, "chat", stdin=talk)
        assert log.read_text().count("POST /v1/chat/completions") == asked + 2
        chat_local = _rag(env, "chat", "--local", stdin=talk)
    assert not announced.exists()  # removed when the server stopped
    assert remote.returncode == local.returncode == 0, (remote.stderr, local.stderr)
    assert "Sources:" in local.stdout and f"{PUBLIC}/v1/sources/" in local.stdout
    assert remote.stdout == local.stdout
    assert empty_remote.returncode == empty_local.returncode == 1
    assert (empty_remote.stdout, empty_remote.stderr) == (empty_local.stdout, empty_local.stderr)
    assert chat_remote.returncode == chat_local.returncode == 0, chat_remote.stderr
    assert chat_remote.stdout.count("Sources:") == 2
    assert chat_remote.stdout == chat_local.stdout

    # the server gone, its file left behind (killed): answered in process, the file removed
    stale = index_copy / "serve-1.json"
    stale.write_text(json.dumps({**info, "pid": _dead_pid()}))
    start = time.monotonic()
    after = _rag(env, "ask", QUESTION)
    assert after.returncode == 0, after.stderr
    assert after.stdout == local.stdout
    assert not stale.exists()
    assert time.monotonic() - start < 120


def test_rag_ask_help_says_a_running_server_answers() -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    out = CliRunner().invoke(app, ["ask", "--help"], env={"COLUMNS": "200"}).output
    assert "--local" in out and "rag serve" in out
    assert "--local" in CliRunner().invoke(app, ["chat", "--help"], env={"COLUMNS": "200"}).output
