"""The HTTP API as a client sees it: `rag serve` in its own process, called with the `openai`
client, plain HTTP, and `RemoteAssistant`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from pydantic import SecretStr
from servers import VENV_BIN, free_port, running

from rag.core.errors import EmptyQuestionError, RagError
from rag.core.settings import Settings
from rag.core.types import AnswerEvent, Citation, TokenEvent
from rag.service.client import RemoteAssistant
from rag.service.collections import make_assistant

pytestmark = pytest.mark.slow

TOKEN = "test-token-0123456789"
ADMIN = "admin-token-0123456789"
QUESTION = (
    "How can neural ordinary differential equations speed up inference of "
    "parameter-shared pre-trained language models?"
)
OFF_TOPIC = "What is the best recipe for a Neapolitan pizza dough with a long cold rise?"


@pytest.fixture(scope="module")
def api_url(rag_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag serve` on a free port, with a bearer token, over the session's index."""
    port = free_port()
    env = {
        **rag_env,
        "RAG_API__HOST": "127.0.0.1",
        "RAG_API__PORT": str(port),
        "RAG_API__TOKEN": TOKEN,
        "RAG_SECURITY__ADMIN_TOKEN": ADMIN,
        "RAG_LLM__MAX_TOKENS": "120",
    }
    log = tmp_path_factory.mktemp("rag-serve") / "serve.log"
    with running([str(VENV_BIN / "rag"), "serve"], f"http://127.0.0.1:{port}/health", log, env):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def client(api_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{api_url}/v1", api_key=TOKEN, max_retries=0, timeout=300)


@pytest.fixture(scope="module")
def remote(api_url: str, settings: Settings) -> Iterator[RemoteAssistant]:
    security = settings.security.model_copy(update={"admin_token": SecretStr(ADMIN)})
    cfg = settings.model_copy(
        update={"api_url": api_url, "api_token": SecretStr(TOKEN), "security": security}
    )
    r = make_assistant(cfg)
    assert isinstance(r, RemoteAssistant)
    yield r
    r.close()


def check_citations(citations: list[Citation], text: str) -> None:
    assert citations, "an answered question must carry its citations"
    numbers = {c.number for c in citations}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", text)} <= numbers
    assert all(c.title and c.source and c.snippet for c in citations)


def test_chat_completion_carries_citations(client: openai.OpenAI) -> None:
    resp = client.chat.completions.create(
        model="papers", messages=[{"role": "user", "content": QUESTION}]
    )
    assert resp.object == "chat.completion"
    text = resp.choices[0].message.content or ""
    extra = resp.model_extra or {}
    assert extra["abstained"] is False
    citations = [Citation.model_validate(c) for c in extra["citations"]]
    check_citations(citations, text)
    assert any("Parameter-Shared" in c.title for c in citations)
    assert extra["answer"]["text"] == text
    # usage is what the model generated for this answer (none when the composed lead stands)
    assert resp.usage is not None
    assert resp.usage.completion_tokens == (extra["answer"]["tokens_out"] or 0)
    assert resp.usage.prompt_tokens == (extra["answer"]["tokens_in"] or 0)


def test_chat_completion_streams_then_citations_in_final_chunk(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="rag", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    deltas = [c.choices[0].delta.content for c in chunks[:-1] if c.choices[0].delta.content]
    assert deltas, "the checked answer is streamed"
    sources = [c for c in chunks if "sources" in (c.model_extra or {})]
    assert sources and chunks.index(sources[0]) < next(
        i for i, c in enumerate(chunks) if c.choices[0].delta.content
    ), "the sources come before any answer text"
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    extra = final.model_extra or {}
    assert extra["abstained"] is False
    check_citations(
        [Citation.model_validate(c) for c in extra["citations"]], extra["answer"]["text"]
    )
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])
    # Only checked text is streamed: what a reader saw is exactly the final answer.
    assert "".join(deltas) == extra["answer"]["text"]


def test_history_from_earlier_turns(client: openai.OpenAI) -> None:
    resp = client.chat.completions.create(
        model="rag",
        messages=[
            {"role": "system", "content": "ignored"},
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": "They use neural ODEs on parameter-shared PLMs [1]."},
            {"role": "user", "content": "Which kinds of models did they evaluate it on?"},
        ],
    )
    answer = (resp.model_extra or {})["answer"]
    assert answer["question"].startswith("Which kinds")
    # the follow-up was understood in context: the same paper is among the passages
    assert any("Parameter-Shared" in p["title"] for p in answer["passages"])


def test_off_topic_abstains(client: openai.OpenAI) -> None:
    resp = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": OFF_TOPIC}]
    )
    extra = resp.model_extra or {}
    assert extra["abstained"] is True and extra["citations"] == []


def test_errors_are_json_with_status(api_url: str, client: openai.OpenAI) -> None:
    h = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(f"{api_url}/v1/chat/completions", json={"messages": []}, headers=h)
    assert r.status_code == 422 and "messages" in r.json()["error"]["message"]
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "  "}])
    assert e.value.status_code == 400 and "empty" in str(e.value.message).lower()
    last_is_assistant = [{"role": "assistant", "content": "hi"}]
    r = httpx.post(
        f"{api_url}/v1/chat/completions", json={"messages": last_is_assistant}, headers=h
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "EmptyQuestionError"
    too_long = "Why? " * 1000
    r = httpx.post(
        f"{api_url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": too_long}]},
        headers=h,
    )
    assert r.status_code == 400, r.text
    assert "2000" in r.json()["error"]["message"] and "limit" in r.json()["error"]["message"]
    admin = {"Authorization": f"Bearer {ADMIN}"}
    r = httpx.post(f"{api_url}/v1/index", json={"paths": ["/no/such/folder"]}, headers=admin)
    assert r.status_code == 403 and "/no/such/folder" in r.json()["error"]["message"]


def test_token_required(api_url: str) -> None:
    body = {"question": QUESTION}
    assert httpx.post(f"{api_url}/v1/retrieve", json=body).status_code == 401
    wrong = {"Authorization": "Bearer wrong"}
    r = httpx.post(f"{api_url}/v1/retrieve", json=body, headers=wrong)
    assert r.status_code == 401 and "token" in r.json()["error"]["message"]
    bad = openai.OpenAI(base_url=f"{api_url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])


def test_retrieve_health_and_openapi(api_url: str, assistant: Any) -> None:
    h = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(f"{api_url}/v1/retrieve", json={"question": QUESTION, "k": 3}, headers=h)
    assert r.status_code == 200
    passages = r.json()["passages"]
    assert len(passages) == 3 and "Parameter-Shared" in passages[0]["title"]
    assert [p["doc_id"] for p in passages] == [p.doc_id for p in assistant.retrieve(QUESTION, 3)]

    health = httpx.get(f"{api_url}/health").json()  # no token needed
    assert health["status"] == "ok" and health["documents"] == assistant.status().documents

    spec = httpx.get(f"{api_url}/openapi.json").json()
    for path in ("/v1/chat/completions", "/v1/retrieve", "/v1/index", "/health"):
        assert path in spec["paths"], path
    props = spec["components"]["schemas"]["ChatCompletion"]["properties"]
    assert {"citations", "abstained", "answer"} <= set(props)


def test_remote_assistant(remote: RemoteAssistant, assistant: Any, tmp_path: Path) -> None:
    assert remote.status().chunks == assistant.status().chunks
    assert [p.doc_id for p in remote.retrieve(QUESTION, k=5)] == [
        p.doc_id for p in assistant.retrieve(QUESTION, k=5)
    ]
    events = list(remote.stream(QUESTION))
    assert any(isinstance(e, TokenEvent) for e in events)
    assert isinstance(events[-1], AnswerEvent)
    answer = events[-1].answer
    assert not answer.abstained
    check_citations(answer.citations, answer.text)
    assert remote.ask(OFF_TOPIC).abstained
    assert remote.llm_name.startswith("local:")
    with pytest.raises(EmptyQuestionError):
        remote.ask("   ")
    report = remote.index()  # the server's corpus, unchanged: nothing to embed
    assert report.chunks_embedded == 0 and report.skipped > 600


def test_remote_assistant_errors(api_url: str, settings: Settings) -> None:
    wrong = settings.model_copy(update={"api_url": api_url, "api_token": SecretStr("wrong")})
    with pytest.raises(RagError, match="token"):
        RemoteAssistant(wrong).retrieve(QUESTION)
    down = settings.model_copy(update={"api_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(RagError, match="cannot be reached"):
        RemoteAssistant(down).ask(QUESTION)
