"""Attacks on indexing through the API (a real `rag serve`) and the UI's re-index.

Before the hardening, `POST /v1/index {"paths": ["/etc"]}` indexed /etc, `["../../"]` resolved
from the server's working directory, a planted secret came back through retrieve and chat, a
hidden file was indexed by its full path, a missing path answered 400 and an existing one 200,
a null byte or a 5,000-character path gave 500, and any chat user (or anyone, with no token)
could index. Each of those is a test here.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from attack_corpus import rag_env_for, write_corpus
from servers import VENV_BIN, free_port, running

pytestmark = pytest.mark.slow

USER = "user-token-0123456789"
ADMIN = "admin-token-9876543210"
SECRET = "DB_PASSWORD=hunter2-very-secret"


class Server:
    def __init__(self, url: str, root: Path) -> None:
        self.url, self.root = url, root

    def index(self, paths: list[str] | None, token: str = ADMIN) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/index",
            json={"paths": paths},
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )

    def retrieve(self, question: str, k: int = 10) -> list[dict[str, Any]]:
        r = httpx.post(
            f"{self.url}/v1/retrieve",
            json={"question": question, "k": k},
            headers={"Authorization": f"Bearer {USER}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        return list(r.json()["passages"])


def _plant(root: Path) -> None:
    """A secret outside the roots, a hidden file and a link to the secret inside the corpus."""
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"Server credentials\n\n{SECRET}\n")
    corpus = root / "corpus"
    (corpus / ".hidden.md").write_text(f"# Hidden\n\n{SECRET}\n")
    (corpus / "link.txt").symlink_to(outside / "secret.txt")
    (corpus / "table.csv").write_text("a,b\n1,2\n")
    os.mkfifo(corpus / "pipe.txt")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("confined")
    write_corpus(root / "corpus")
    (root / "uploads").mkdir()
    _plant(root)
    port = free_port()
    env = rag_env_for(
        root,
        RAG_API__PORT=str(port),
        RAG_API__TOKEN=USER,
        RAG_SECURITY__ADMIN_TOKEN=ADMIN,
        RAG_SECURITY__MAX_REQUEST_FILES="3",
    )
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", root / "serve.log", env):
        yield Server(url, root)


def _leaked(server: Server) -> bool:
    return any("hunter2" in p["text"] for p in server.retrieve("DB_PASSWORD credentials"))


def test_paths_outside_the_roots_are_refused(server: Server) -> None:
    outside = str(server.root / "outside" / "secret.txt")
    for paths in (["/etc"], ["../../"], ["../outside/secret.txt"], [outside], ["/etc/passwd"]):
        r = server.index(paths)
        assert r.status_code == 403, (paths, r.text)
        assert "indexing roots" in r.json()["error"]["message"]
    assert not _leaked(server)


def test_missing_and_forbidden_paths_get_the_same_answer(server: Server) -> None:
    missing = server.index(["/no/such/file.txt"])
    forbidden = server.index(["/etc/hostname"])
    assert missing.status_code == forbidden.status_code == 403
    m, f = missing.json()["error"]["message"], forbidden.json()["error"]["message"]
    assert m.replace("/no/such/file.txt", "X") == f.replace("/etc/hostname", "X")


def test_hidden_special_and_malformed_paths_are_refused(server: Server) -> None:
    corpus = server.root / "corpus"
    for path in (str(corpus / ".hidden.md"), "link.txt", "pipe.txt", "a\x00b", "x" * 5000):
        r = server.index([path])
        assert r.status_code == 403, (path[:40], r.status_code, r.text[:200])
    assert not _leaked(server)


def test_a_folder_walk_leaves_out_links_outside_and_names_them(server: Server) -> None:
    r = server.index(["."])  # relative: the first root (the corpus), not the working directory
    assert r.status_code == 200, r.text
    report = r.json()
    ignored = {Path(f["path"]).name: f["reason"] for f in report["ignored"]}
    assert "outside the folder" in ignored["link.txt"]
    assert "unsupported type .csv" in ignored["table.csv"]
    assert "not a regular file" in ignored["pipe.txt"]
    assert report["documents"] == 3
    assert not _leaked(server)


def test_request_caps(server: Server) -> None:
    for name in ("a.md", "b.md"):
        (server.root / "uploads" / name).write_text(f"# Note {name}\n\nA short note.")
    r = server.index([str(server.root / "uploads"), str(server.root / "corpus")])  # 5 files > 3
    assert r.status_code == 413 and "max_request_files" in r.json()["error"]["message"]
    r = server.index(["a.md"])  # relative to the roots: found in uploads
    assert r.status_code == 200 and r.json()["added"] == 1, r.text


def test_indexing_needs_the_admin_token(server: Server) -> None:
    r = server.index(None, token=USER)  # a chat user may not index
    assert r.status_code == 403 and "admin token" in r.json()["error"]["message"]
    r = httpx.post(f"{server.url}/v1/index", json={"paths": None}, timeout=60)  # no token at all
    assert r.status_code == 403 and "admin token" in r.json()["error"]["message"]


def test_bad_input_is_a_4xx_not_a_500(server: Server) -> None:
    h = {"Authorization": f"Bearer {USER}"}
    big = "why " * 4096  # 16 KB
    r = httpx.post(f"{server.url}/v1/retrieve", json={"question": big}, headers=h)
    assert r.status_code == 400, r.text
    r = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": big}]},
        headers=h,
    )
    assert r.status_code == 400, r.text
    history = [{"role": role, "content": big} for _ in range(100) for role in ("user", "assistant")]
    question = {"role": "user", "content": "How much faster is speculative decoding?"}
    r = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"messages": [*history, question]},
        headers=h,
        timeout=300,
    )
    assert r.status_code == 200, r.text  # a long history is cut to its last turns, not a 500


def test_without_an_admin_token_remote_indexing_is_off(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus")
    port = free_port()
    env = rag_env_for(tmp_path, RAG_API__PORT=str(port), RAG_LLM__PARALLEL="1")
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", tmp_path / "log", env):
        r = httpx.post(f"{url}/v1/index", json={"paths": ["/etc"]}, timeout=60)
        assert r.status_code == 403 and "off" in r.json()["error"]["message"]
        r = httpx.post(f"{url}/v1/index", json={"paths": ["/no/such"]}, timeout=60)
        assert r.status_code == 403  # no probing either


@pytest.mark.parametrize("face", ["serve", "ui"])
def test_no_unprotected_listening_beyond_loopback(face: str, tmp_path: Path) -> None:
    env = rag_env_for(tmp_path)
    cmd = [str(VENV_BIN / "rag"), face, "--host", "0.0.0.0", "--port", str(free_port())]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Refusing to listen on 0.0.0.0" in done.stderr and "--insecure" in done.stderr
    assert "Traceback" not in done.stderr


def test_insecure_is_explicit(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus")
    port = free_port()
    env = rag_env_for(tmp_path, RAG_LLM__PARALLEL="1")
    cmd = [str(VENV_BIN / "rag"), "serve", "--host", "0.0.0.0", "--port", str(port), "--insecure"]
    with running(cmd, f"http://127.0.0.1:{port}/health", tmp_path / "log", env):
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["documents"] == 3


def test_ui_reindex_needs_the_admin_token(settings: Any, assistant: Any) -> None:
    from pydantic import SecretStr

    from rag.ui.app import ChatController

    off = ChatController(assistant, settings)
    assert "off" in "".join(off.reindex(ADMIN))
    guarded = settings.model_copy(
        update={"security": settings.security.model_copy(update={"admin_token": SecretStr(ADMIN)})}
    )
    ctl = ChatController(assistant, guarded)
    assert "refused" in "".join(ctl.reindex("wrong"))
    done = list(ctl.reindex(ADMIN))
    assert "refused" not in done[-1] and "skipped" in done[-1], done[-1]
