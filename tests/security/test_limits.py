"""Issue 23, row 11: what one request may make a server hold, checked on real `rag serve` and
`rag ui` processes on 127.0.0.1 (over a one-document collection of their own).

- A body over the limit is answered 413 while it arrives: a declared Content-Length, or the bytes
  of a chunked body so far (before: the server waited for the whole body, then refused it).
- A request head over `security.max_header_bytes` is refused (before: httptools held any size).
- Gradio's own upload route takes files only with the admin token (before: any logged-in user's
  files were written to Gradio's temp folder and kept).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from servers import VENV_BIN, free_port, running

pytestmark = pytest.mark.slow

ADMIN = "admin-token-limits-0123456789"
USER, PASSWORD = "reader", "reader-password-0123"
MAX_BODY = 200_000  # security.max_body_bytes for these servers
MAX_REQUEST = 2_000_000  # security.max_request_bytes: an upload's body
DOC = "# Plover engine\n\nThe Plover engine renders 93 frames per second on a laptop GPU.\n"


@dataclass
class Server:
    url: str
    port: int
    where: Path


def _env(where: Path, port: int) -> dict[str, str]:
    corpus = where / "corpus"
    corpus.mkdir()
    (corpus / "plover.md").write_text(DOC)
    (where / "uploads").mkdir()
    return {
        **os.environ,  # PYTHONPATH too: a "before" run starts the old code
        "RAG_CORPUS_DIR": str(corpus),
        "RAG_INDEX_DIR": str(where / "index"),
        "RAG_UPLOADS_DIR": str(where / "uploads"),
        "RAG_STATE_DB": str(where / "state.sqlite3"),
        "RAG_SECURITY__ADMIN_TOKEN": ADMIN,
        "RAG_SECURITY__MAX_BODY_BYTES": str(MAX_BODY),
        "RAG_SECURITY__MAX_REQUEST_BYTES": str(MAX_REQUEST),
        "RAG_API__HOST": "127.0.0.1",
        "RAG_API__PORT": str(port),
        "RAG_UI__HOST": "127.0.0.1",
        "RAG_UI__PORT": str(port),
        "RAG_UI__USERNAME": USER,
        "RAG_UI__PASSWORD": PASSWORD,
        "GRADIO_TEMP_DIR": str(where / "gradio-tmp"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
    }


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where, port = tmp_path_factory.mktemp("limits-api"), free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(VENV_BIN / "rag"), "serve"]
    with running(cmd, f"{url}/health", where / "serve.log", _env(where, port), timeout=300):
        yield Server(url, port, where)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where, port = tmp_path_factory.mktemp("limits-ui"), free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [str(VENV_BIN / "rag"), "ui"]
    with running(cmd, f"{url}/config", where / "ui.log", _env(where, port), timeout=300):
        yield Server(url, port, where)


def _exchange(
    port: int, head: bytes, body: Iterator[bytes], wait_s: float = 10.0
) -> tuple[str, int]:
    """Send `head`, then `body` piece by piece while the server has not answered; the status line
    the server answers within `wait_s` ("" for none, or for a connection closed without one) and
    the body bytes sent before it did."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as s:
        try:
            s.sendall(head)
            s.setblocking(False)
            for piece in body:
                try:
                    if s.recv(1, socket.MSG_PEEK):
                        break  # answered (or closed) before the body was all sent
                except BlockingIOError:
                    pass
                s.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.setblocking(True)
        s.settimeout(wait_s)
        try:
            answer = s.recv(4096)
        except (TimeoutError, ConnectionResetError):
            answer = b""
    return answer.split(b"\r\n", 1)[0].decode("latin-1"), sent


def _pieces(total: int, size: int = 65_536) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size
        time.sleep(0.002)


def _chunked(total: int, size: int = 65_536) -> Iterator[bytes]:
    for piece in _pieces(total, size):
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"


def _head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


JSON = {"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN}"}


def test_api_declared_body_over_the_limit_is_refused_before_it_is_sent(api: Server) -> None:
    big = 50_000_000
    head = _head("POST", "/v1/chat/completions", {**JSON, "Content-Length": str(big)})
    status, sent = _exchange(api.port, head + b'{"messages": [', _pieces(big))
    assert " 413 " in status, status
    assert sent < 5_000_000, sent
    print(f"chat declaring 50 MB: 413 after {sent:,} body bytes")
    # An upload may be larger (max_request_bytes), but not larger than that.
    upload = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "multipart/form-data; boundary=b"}
    head = _head("POST", "/v1/documents", {**upload, "Content-Length": str(big)})
    status, sent = _exchange(api.port, head, _pieces(big))
    assert " 413 " in status, status
    assert sent < 5_000_000, sent
    print(f"upload declaring 50 MB: 413 after {sent:,} body bytes")
    # Within the limits, served as before.
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {ADMIN}"}) as c:
        r = c.post("/v1/retrieve", json={"question": "Plover engine frames", "k": 1})
        assert r.status_code == 200, r.text
        assert "Plover" in r.text
        # ~300 KB: over max_body_bytes, under the upload cap, so it reaches the library, which
        # reads it (and refuses its type: quicker than indexing it)
        files = [("files", ("notes.csv", b"heron,rests\n" * 25_000))]
        r = c.post("/v1/documents", files=files)
        assert r.status_code == 400 and "unsupported type .csv" in r.text, r.text


def test_api_streamed_body_is_counted_as_it_arrives(api: Server) -> None:
    head = _head("POST", "/v1/retrieve", {**JSON, "Transfer-Encoding": "chunked"})
    status, sent = _exchange(api.port, head, _chunked(50_000_000))
    assert " 413 " in status, status
    assert sent < 5_000_000, sent
    print(f"chunked body: 413 after {sent:,} bytes sent")


@pytest.mark.parametrize("face", ["api", "ui"])
def test_oversized_header_is_refused(face: str, request: pytest.FixtureRequest) -> None:
    server: Server = request.getfixturevalue(face)
    path = "/health" if face == "api" else "/"  # the login page
    status, _ = _exchange(server.port, _head("GET", path, {"X-Pad": "p" * 8_000}), iter(()))
    assert " 200 " in status, status  # an ordinary head is served
    status, _ = _exchange(server.port, _head("GET", path, {"X-Pad": "p" * 2_000_000}), iter(()))
    assert " 200 " not in status, status
    assert status == "" or " 400 " in status or " 431 " in status, status


@contextmanager
def _login(ui: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui.url, timeout=60) as c:
        r = c.post("/login", data={"username": USER, "password": PASSWORD})
        assert r.status_code == 200, r.text
        yield c


def _stored(ui: Server) -> list[Path]:
    return [p for p in (ui.where / "gradio-tmp").rglob("*") if p.is_file()]


def test_gradio_upload_route_needs_the_admin_token(ui: Server) -> None:
    with _login(ui) as c:
        assert c.get("/config").status_code == 200  # logged in
        files = [("files", ("payload.txt", b"x" * 100_000))]
        r = c.post("/gradio_api/upload", files=files)
        assert r.status_code == 403, (r.status_code, r.text)
        assert not [p for p in _stored(ui) if p.name == "payload.txt"]
        # Refused before the body is read: a declared 60 MB gets its answer at once.
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        head = _head(
            "POST",
            "/gradio_api/upload",
            {
                "Cookie": cookie,
                "Content-Type": "multipart/form-data; boundary=b",
                "Content-Length": "60000000",
            },
        )
        status, sent = _exchange(ui.port, head, _pieces(60_000_000))
        assert " 403 " in status, status
        assert sent < 5_000_000, sent
        print(f"Gradio upload declaring 60 MB, no admin token: 403 after {sent:,} bytes")
        # The admin's page sends the token with its uploads (the admin-token box sets it).
        c.cookies.set("rag-admin", ADMIN)
        r = c.post("/gradio_api/upload", files=[("files", ("notes.txt", b"heron " * 1000))])
        assert r.status_code == 200, r.text
        assert [p for p in _stored(ui) if p.name == "notes.txt"]


def test_ui_document_list_only_with_the_admin_token(tmp_path: Path) -> None:
    """The Index panel's list of uploads (names and titles) is filled for the admin token only;
    before, every logged-in user's page loaded it."""
    from rag.core.settings import Settings
    from rag.service.assistant import Assistant
    from rag.ui.app import ChatController

    env = _env(tmp_path, 0)
    settings = Settings(
        corpus_dir=Path(env["RAG_CORPUS_DIR"]),
        index_dir=Path(env["RAG_INDEX_DIR"]),
        uploads_dir=Path(env["RAG_UPLOADS_DIR"]),
        state_db=Path(env["RAG_STATE_DB"]),
        security={"admin_token": ADMIN},
    )
    ctl = ChatController(Assistant(settings, progress=False), settings)
    secret = tmp_path / "merger-plan.md"
    secret.write_text("# Merger plan for Heron Corp\n\nThe Heron sampler needs 4 steps.\n")
    ctl.library_for(None, None).add([("merger-plan.md", secret)])
    for token in ("", "wrong-token"):
        shown = ctl.documents_for(token, None, None)
        assert shown["choices"] == [], shown
    shown = ctl.documents_for(ADMIN, None, None)
    assert any("merger-plan.md" in str(c) for c in shown["choices"]), shown
