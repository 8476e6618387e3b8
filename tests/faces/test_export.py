"""A saved conversation exported as Markdown and JSON: `GET /v1/conversations/{id}/export` on
`rag serve` in its own process, over the session's index; the Markdown itself is built by
rag/service/export.py, which the UI can use too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import httpx
import openai
import pytest
from servers import VENV_BIN, free_port, running

from rag.core.settings import Settings
from rag.core.types import Answer, Citation, Conversation
from rag.state.conversations import turn_of

TOKEN = "test-token-export-0123456"
ADMIN = "admin-token-export-0123456"
FIRST = "What is KV cache quantization and which papers study it?"
FOLLOW_UP = (
    "How can neural ordinary differential equations speed up inference of "
    "parameter-shared pre-trained language models?"
)
LINK = re.compile(r"^(\d+)\. \[([^\]]+)\]\((\S+)\)$", re.MULTILINE)


def test_markdown_numbers_each_answers_sources_with_links() -> None:
    from rag.service.export import conversation_markdown, source_url  # each test fails alone

    cites = [
        Citation(
            number=n,
            title=f"Paper {n}",
            source=f"p{n}.pdf",
            snippet="s",
            score=1.0,
            doc_id=f"paper-{n:016x}",
            page=n + 2,
            label=f"p{n}.pdf",
        )
        for n in (1, 2)
    ]
    answer = Answer(question="q", text="One [1]. Two [2].", citations=cites)
    conv = Conversation(
        id="c1",
        title="Q",
        created=0.0,
        updated=60.0,
        owner="api:api",
        turns=[turn_of("What?", answer), turn_of("Again?", answer)],
    )
    md = conversation_markdown(conv, source_url("http://h:1"))
    assert md.startswith("# Q\n") and md.count("## ") == 2 and md.count("One [1]. Two [2].") == 2
    links = LINK.findall(md)
    assert links[:2] == [
        ("1", "Paper 1 (p1.pdf, p. 3)", "http://h:1/v1/sources/paper-0000000000000001#page=3"),
        ("2", "Paper 2 (p2.pdf, p. 4)", "http://h:1/v1/sources/paper-0000000000000002#page=4"),
    ]
    assert len(links) == 4


def test_ui_json_export_is_the_apis_json() -> None:
    """The UI's "Export as JSON" (rag/service/export.py `conversation_json_text`) gives the JSON
    the API's `format=json` sends (InertJSONResponse over `conversation_json`): text from
    documents made inert, identifiers and URLs kept."""
    import json

    from rag.api.responses import InertJSONResponse
    from rag.service.export import conversation_json, conversation_json_text, view_url

    cite = Citation(
        number=1,
        title="A <b>paper</b> [7]",
        source="p1.pdf",
        snippet="See [here](http://evil.example) for <script>x</script> more.",
        score=1.0,
        doc_id="paper-0000000000000001",
        page=3,
        label="p1.pdf",
    )
    answer = Answer(question="q", text="It does [1].", citations=[cite])
    conv = Conversation(
        id="c1",
        title="Q",
        created=0.0,
        updated=60.0,
        owner="ui:local",
        turns=[turn_of("What?", answer)],
    )
    url = view_url("http://h:1/", "/document/", suffix="")
    text = conversation_json_text(conv, url)
    api = json.loads(InertJSONResponse(conversation_json(conv, url)).body)
    assert json.loads(text) == api
    c = api["turns"][0]["citations"][0]
    assert c["url"].startswith("http://h:1/document/paper-0000000000000001?hl=")
    assert "<" not in c["title"] and "http://evil.example" not in c["snippet"]


@pytest.fixture(scope="module")
def api_url(rag_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    where = tmp_path_factory.mktemp("rag-serve-export")
    env = {
        **rag_env,
        "RAG_API__HOST": "127.0.0.1",
        "RAG_API__PORT": str(port),
        "RAG_API__TOKEN": TOKEN,
        "RAG_SECURITY__ADMIN_TOKEN": ADMIN,
        "RAG_STATE_DB": str(where / "state.sqlite3"),
    }
    with running(
        [str(VENV_BIN / "rag"), "serve"], f"http://127.0.0.1:{port}/health", where / "log", env
    ):
        yield f"http://127.0.0.1:{port}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def conv_id(api_url: str) -> str:
    """A conversation of the user token's owner: two answered turns."""
    client = openai.OpenAI(base_url=f"{api_url}/v1", api_key=TOKEN, max_retries=0, timeout=300)
    first = client.chat.completions.create(
        model="rag",
        messages=[{"role": "user", "content": FIRST}],
        extra_body={"conversation_id": "new"},
    )
    cid = str((first.model_extra or {})["conversation_id"])
    client.chat.completions.create(
        model="rag",
        messages=[{"role": "user", "content": FOLLOW_UP}],
        extra_body={"conversation_id": cid},
    )
    return cid


@pytest.mark.slow
def test_export_markdown(api_url: str, conv_id: str) -> None:
    saved = httpx.get(f"{api_url}/v1/conversations/{conv_id}", headers=auth(TOKEN)).json()
    r = httpx.get(
        f"{api_url}/v1/conversations/{conv_id}/export", params={"format": "md"}, headers=auth(TOKEN)
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/markdown")
    assert "attachment" in r.headers["content-disposition"]
    md = r.text
    assert md.startswith(f"# {saved['title']}\n")
    assert [line[3:] for line in md.splitlines() if line.startswith("## ")] == [FIRST, FOLLOW_UP]
    links = LINK.findall(md)
    cited = [c for t in saved["turns"] for c in t["answer"]["citations"]]
    assert len(links) == len(cited) > 2
    for t in saved["turns"]:
        assert t["answer"]["text"] in md
    for (number, _, url), c in zip(links, cited, strict=True):
        assert int(number) == c["number"] and c["doc_id"] in url
        assert httpx.get(urldefrag(url).url, headers=auth(TOKEN)).status_code == 200


@pytest.mark.slow
def test_export_json(api_url: str, conv_id: str) -> None:
    saved = httpx.get(f"{api_url}/v1/conversations/{conv_id}", headers=auth(TOKEN)).json()
    r = httpx.get(
        f"{api_url}/v1/conversations/{conv_id}/export",
        params={"format": "json"},
        headers=auth(TOKEN),
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["id"] == conv_id and data["title"] == saved["title"]
    assert [t["question"] for t in data["turns"]] == [FIRST, FOLLOW_UP]
    for got, want in zip(data["turns"], saved["turns"], strict=True):
        assert got["answer"] == want["answer"]["text"]
        assert [c["number"] for c in got["citations"]] == [
            c["number"] for c in want["answer"]["citations"]
        ]
        assert all(c["url"].startswith(f"{api_url}/v1/sources/") for c in got["citations"])
    bad = httpx.get(
        f"{api_url}/v1/conversations/{conv_id}/export",
        params={"format": "xml"},
        headers=auth(TOKEN),
    )
    assert bad.status_code == 422


@pytest.mark.slow
def test_export_of_another_owners_conversation_is_not_found(api_url: str, conv_id: str) -> None:
    url = f"{api_url}/v1/conversations/{conv_id}/export"
    for fmt in ("md", "json"):
        assert httpx.get(url, params={"format": fmt}, headers=auth(TOKEN)).status_code == 200
        other = httpx.get(url, params={"format": fmt}, headers=auth(ADMIN))  # another owner
        assert other.status_code == 404, other.text
        assert other.json()["error"]["type"] == "NotFoundError"  # the conversation, not the route
    assert httpx.get(url, headers=auth("wrong")).status_code == 401
    missing = httpx.get(f"{api_url}/v1/conversations/nope/export", headers=auth(TOKEN))
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFoundError"


@pytest.mark.slow
def test_ui_exports_the_open_conversation(
    assistant: Any, settings: Settings, tmp_path: Path
) -> None:
    """The UI's "Export as Markdown": the same Markdown, its sources linked to the UI's document
    route; another user's conversation is not found."""
    import gradio as gr

    from rag.core.errors import NotFoundError
    from rag.ui.app import ChatController, build_app, owner_of

    cfg = settings.model_copy(update={"state_db": tmp_path / "state.sqlite3"})
    ctl = ChatController(assistant, cfg)
    answer = assistant.ask(FIRST)
    assert len(answer.citations) > 1
    conv_id = ctl.conversations.record(None, owner_of(None), FIRST, answer)
    md = ctl.export_path(conv_id, None).read_text(encoding="utf-8")
    assert md.splitlines()[0] == f"# {FIRST}" and f"## {FIRST}" in md
    links = LINK.findall(md)
    assert [int(n) for n, _, _ in links] == [c.number for c in answer.citations]
    for (_, _, url), c in zip(links, answer.citations, strict=True):
        assert url.startswith(f"/document/{c.doc_id}")
    with pytest.raises(NotFoundError):
        ctl.export_path(conv_id, gr.Request(username="someone-else"))
    shown, note = ctl.export_conversation(None, gr.Request())
    assert shown["visible"] is False and note
    assert build_app(assistant, cfg) is not None  # the button is wired
