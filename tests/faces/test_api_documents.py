"""Documents and saved conversations through the HTTP API: `rag serve` in its own process, over
its own copy of the session's index (uploads change the collection), called with plain HTTP and
the `openai` client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from pdfs import KESTREL_PAGES, KESTREL_POWER_Q, KESTREL_THROUGHPUT_Q, KESTREL_TITLE, make_pdf
from servers import VENV_BIN, free_port, isolated_env, running

from rag.core.settings import Settings

pytestmark = pytest.mark.slow

TOKEN = "user-token-0123456789"
ADMIN = "admin-token-0123456789"
MAX_FILE_BYTES = 200_000
USER = {"Authorization": f"Bearer {TOKEN}"}
ADMIN_H = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture(scope="module")
def server(
    rag_env: dict[str, str], settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """(`rag serve`'s URL, its uploads folder)."""
    where = tmp_path_factory.mktemp("api-docs")
    port = free_port()
    env = {
        **isolated_env(rag_env, settings.index_dir, where),
        "RAG_API__HOST": "127.0.0.1",
        "RAG_API__PORT": str(port),
        "RAG_API__TOKEN": TOKEN,
        "RAG_SECURITY__ADMIN_TOKEN": ADMIN,
        "RAG_SECURITY__MAX_FILE_BYTES": str(MAX_FILE_BYTES),
        "RAG_LLM__MAX_TOKENS": "120",
    }
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", where / "serve.log", env):
        yield url, where / "uploads"


@pytest.fixture(scope="module")
def http(server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server[0], timeout=300) as c:
        yield c


def _ask(http: httpx.Client, question: str, **extra: Any) -> dict[str, Any]:
    body = {"messages": [{"role": "user", "content": question}], **extra}
    r = http.post("/v1/chat/completions", json=body, headers=USER)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _files(*items: tuple[str, bytes]) -> list[tuple[str, tuple[str, bytes]]]:
    return [("files", (name, data)) for name, data in items]


def test_upload_list_ask_and_delete(http: httpx.Client, tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "kestrel report.pdf", KESTREL_PAGES, title=KESTREL_TITLE)
    notes = b"# Field notes\n\nIntro.\n\n## Results\n\nThe Merlin sampler is 42 times faster.\n"
    upload = _files(("kestrel report.pdf", pdf.read_bytes()), ("notes.md", notes))

    # The admin scope: no token, or the user token, is refused; nothing is stored.
    assert http.post("/v1/documents", files=upload).status_code == 403
    assert http.post("/v1/documents", files=upload, headers=USER).status_code == 403
    assert http.get("/v1/documents", headers=ADMIN_H).json()["documents"] == []

    r = http.post("/v1/documents", files=upload, headers=ADMIN_H)
    assert r.status_code == 200, r.text
    files = {f["name"]: f for f in r.json()["files"]}
    assert files["kestrel report.pdf"]["status"] == "added"
    assert files["kestrel report.pdf"]["id"] == "kestrel_report.pdf"  # a safe stored name
    assert files["kestrel report.pdf"]["pages"] == 3
    assert files["notes.md"]["status"] == "added" and files["notes.md"]["chunks"] >= 1
    assert r.json()["report"]["added"] >= 4  # 3 pages and at least one section

    listed = {d["id"]: d for d in http.get("/v1/documents", headers=ADMIN_H).json()["documents"]}
    assert set(listed) == {"kestrel_report.pdf", "notes.md"}
    assert listed["kestrel_report.pdf"]["title"] == KESTREL_TITLE
    assert listed["kestrel_report.pdf"]["pages"] == 3

    # Uploading the same file again changes nothing.
    again = http.post("/v1/documents", files=upload[:1], headers=ADMIN_H).json()
    assert again["files"][0]["status"] == "unchanged" and again["report"]["chunks_embedded"] == 0

    # Its answers cite the page they come from, with a readable label.
    answer = _ask(http, KESTREL_THROUGHPUT_Q)["answer"]
    assert not answer["abstained"] and "917" in answer["text"], answer["text"]
    cited = answer["citations"][0]
    assert (cited["title"], cited["page"], cited["label"]) == (
        KESTREL_TITLE,
        2,
        "kestrel_report.pdf",
    )
    power = _ask(http, KESTREL_POWER_Q)["answer"]
    assert "3.2" in power["text"] and power["citations"][0]["page"] == 3, power
    section = _ask(http, "How much faster is the Merlin sampler?")["answer"]
    assert section["citations"] and section["citations"][0]["section"] == "Results", section

    # Delete: its passages leave the index; the same question no longer cites it.
    r = http.delete("/v1/documents/kestrel_report.pdf", headers=ADMIN_H)
    assert r.status_code == 200 and r.json()["id"] == "kestrel_report.pdf"
    ids = [d["id"] for d in http.get("/v1/documents", headers=ADMIN_H).json()["documents"]]
    assert ids == ["notes.md"]
    after = _ask(http, KESTREL_THROUGHPUT_Q)["answer"]
    assert all(c["title"] != KESTREL_TITLE for c in after["citations"]), after
    assert all(p["title"] != KESTREL_TITLE for p in after["passages"])
    assert http.delete("/v1/documents/kestrel_report.pdf", headers=ADMIN_H).status_code == 404
    assert http.delete("/v1/documents/..%2Fstate.sqlite3", headers=ADMIN_H).status_code == 404
    assert http.delete("/v1/documents/notes.md", headers=USER).status_code == 403


def test_upload_limits_are_clear_and_store_nothing(
    http: httpx.Client, server: tuple[str, Path]
) -> None:
    uploads = server[1]
    before = sorted(p.name for p in uploads.iterdir())

    r = http.post("/v1/documents", files=_files(("tool.exe", b"MZ\x90\x00")), headers=ADMIN_H)
    assert r.status_code == 400
    message = r.json()["error"]["message"]
    assert "tool.exe" in message and "unsupported type .exe" in message and ".pdf" in message

    fake = _files(("paper.pdf", b"just text, not a PDF"), ("ok.txt", b"fine text"))
    r = http.post("/v1/documents", files=fake, headers=ADMIN_H)
    assert r.status_code == 400 and "paper.pdf: not a PDF" in r.json()["error"]["message"]

    big = _files(("big.txt", b"word " * (MAX_FILE_BYTES // 4)))
    r = http.post("/v1/documents", files=big, headers=ADMIN_H)
    assert r.status_code == 413
    assert "big.txt: too large" in r.json()["error"]["message"]
    assert f"{MAX_FILE_BYTES:,}" in r.json()["error"]["message"]

    # A file of the right type that cannot be read is reported with the reason, and not kept.
    broken = _files(("broken.pdf", b"%PDF-1.7 garbage that is no PDF"))
    r = http.post("/v1/documents", files=broken, headers=ADMIN_H)
    assert r.status_code == 200, r.text
    (outcome,) = r.json()["files"]
    assert outcome["status"] == "failed" and outcome["reason"]
    assert sorted(p.name for p in uploads.iterdir()) == before


def test_conversations_are_saved_per_token(http: httpx.Client, server: tuple[str, Path]) -> None:
    question = "Which paper quantizes the KV cache by identifying salient tokens?"
    first = _ask(http, question, conversation_id="new")
    conv_id = first["conversation_id"]
    assert conv_id and "ZipCache" in first["answer"]["text"]

    listed = http.get("/v1/conversations", headers=USER).json()["conversations"]
    assert [c["id"] for c in listed][:1] == [conv_id]
    assert listed[0]["title"] == question

    # A follow-up with only the new message: the saved turns are its history.
    follow = _ask(http, "What does it reduce?", conversation_id=conv_id)
    assert follow["conversation_id"] == conv_id
    # ("it" is the one paper the saved answer named: rag/answer/answering.py)
    assert follow["answer"]["standalone_question"] == "What does ZipCache reduce?"

    # Streaming saves too; the last chunk names the conversation.
    client = openai.OpenAI(base_url=f"{server[0]}/v1", api_key=TOKEN, max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="rag",
            messages=[{"role": "user", "content": "What is a layer-condensed KV cache?"}],
            stream=True,
            extra_body={"conversation_id": conv_id},
        )
    )
    assert (chunks[-1].model_extra or {})["conversation_id"] == conv_id

    conv = http.get(f"/v1/conversations/{conv_id}", headers=USER).json()
    assert [t["question"] for t in conv["turns"]] == [
        question,
        "What does it reduce?",
        "What is a layer-condensed KV cache?",
    ]
    saved = conv["turns"][0]["answer"]
    assert saved["text"] == first["answer"]["text"]
    # each saved citation as answered, with the URL of its source view the response gave it
    assert [{k: v for k, v in c.items() if k != "url"} for c in saved["citations"]] == first[
        "answer"
    ]["citations"]

    # the same view, sentence and collection; the signature's expiry is counted from each
    # request, so it is compared as present, not equal
    def unsigned(url: str) -> str:
        return re.sub(r"&exp=\d+&sig=[0-9a-f]+", "", url)

    assert [unsigned(c["url"]) for c in saved["citations"]] == [
        unsigned(c["url"]) for c in first["citations"]
    ]
    assert all(re.search(r"/view\?hl=.+&exp=\d+&sig=", c["url"]) for c in saved["citations"])
    numbers = {c["number"] for c in saved["citations"]}
    assert numbers <= {p["number"] for p in saved["passages"]}  # citations still resolve

    # Another token is another owner: it sees none of these.
    assert http.get(f"/v1/conversations/{conv_id}", headers=ADMIN_H).status_code == 404
    assert conv_id not in [
        c["id"] for c in http.get("/v1/conversations", headers=ADMIN_H).json()["conversations"]
    ]
    body = {"messages": [{"role": "user", "content": question}], "conversation_id": conv_id}
    assert http.post("/v1/chat/completions", json=body, headers=ADMIN_H).status_code == 404

    r = http.patch(f"/v1/conversations/{conv_id}", json={"title": "KV cache"}, headers=USER)
    assert r.status_code == 200 and r.json()["title"] == "KV cache"
    assert http.delete(f"/v1/conversations/{conv_id}", headers=USER).status_code == 200
    assert http.get(f"/v1/conversations/{conv_id}", headers=USER).status_code == 404
    assert http.delete(f"/v1/conversations/{conv_id}", headers=USER).status_code == 404


def test_openapi_lists_the_new_endpoints(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    for path in ("/v1/documents", "/v1/documents/{doc_id}", "/v1/conversations"):
        assert path in spec["paths"], path
    props = spec["components"]["schemas"]["ChatCompletionRequest"]["properties"]
    assert "conversation_id" in props
