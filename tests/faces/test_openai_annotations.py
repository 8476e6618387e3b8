"""Citations in OpenAI's wire format (`message.annotations`, `url_citation`), the answer streamed
sentence by sentence, and `/v1/retrieve` by `query`, numbered, with the scores it fused: `rag
serve` in its own process over the session's index, called with the `openai` SDK and plain HTTP.
The first tests need no server: the stream's translation over real events."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from html import unescape
from urllib.parse import urldefrag

import httpx
import openai
import pytest
from openai.types.chat.chat_completion_message import Annotation
from servers import VENV_BIN, free_port, running

from rag.core.types import Answer, AnswerEvent, Citation, StatusEvent, TokenEvent

TOKEN = "test-token-annotations-0123"
ADMIN = "admin-token-annotations-0123"
ONE_PAPER = (
    "How can neural ordinary differential equations speed up inference of "
    "parameter-shared pre-trained language models?"
)
LIST_QUESTION = "What is KV cache quantization and which papers study it?"
MARKER = re.compile(r"\[(\d+)\]")


def check_annotations(
    content: str, annotations: list[Annotation], citations: list[Citation]
) -> None:
    """One annotation per [n] of `content`, pointing at it, titled and linked as its citation."""
    by_number = {c.number: c for c in citations}
    markers = [(m.start(), m.end(), int(m.group(1))) for m in MARKER.finditer(content)]
    assert markers, "the answer cites"
    spans = [(a.url_citation.start_index, a.url_citation.end_index) for a in annotations]
    assert spans == [(s, e) for s, e, _ in markers]
    for a, (_, _, n) in zip(annotations, markers, strict=True):
        assert a.type == "url_citation"
        u = a.url_citation
        assert content[u.start_index : u.end_index] == f"[{n}]"
        assert u.title == by_number[n].title
        assert by_number[n].doc_id and by_number[n].doc_id in u.url


# -- the stream's translation, over real events (no server) ---------------------------------------


def stream_of(events: Sequence[object]) -> list[dict[str, object]]:
    from rag.api.openai import sse_chunks
    from rag.service.export import source_url  # imported here: each test fails on its own

    url = source_url("http://127.0.0.1:9/")
    out = []
    for raw in sse_chunks(iter(events), "rag", url):  # type: ignore[arg-type]
        data = raw.decode().removeprefix("data: ").strip()
        if data != "[DONE]":
            out.append(json.loads(data))
    return out


def test_sentences_rejoin_to_the_text() -> None:
    from rag.api.openai import sentences

    text = "A claim [1]. Another one [2][1].\n- an item [2]\nA question? An answer."
    parts = sentences(text)
    assert "".join(parts) == text
    assert parts == [
        "A claim [1]. ",
        "Another one [2][1].\n",
        "- an item [2]\n",
        "A question? ",
        "An answer.",
    ]


def test_text_that_comes_before_the_answer_gets_its_annotations_with_the_answer() -> None:
    """A core that streams checked text piece by piece: each piece is sent when the next one
    comes, without annotations (their numbers are final only with the answer), and the answer's
    first delta carries them, indices into the whole content."""
    first, second = "First claim [2]. ", "Second claim [1]."
    cites = [
        Citation(
            number=n,
            title=f"Paper {n}",
            source=f"p{n}.md",
            snippet="s",
            score=1.0,
            doc_id=f"paper-{n:016x}",
        )
        for n in (1, 2)
    ]
    answer = Answer(question="q", text=first + second, citations=cites)
    events = [
        TokenEvent(text=first),
        StatusEvent(text="checking…"),
        TokenEvent(text=second),
        AnswerEvent(answer=answer),
    ]
    chunks = stream_of(events)
    deltas = [c["choices"][0]["delta"] for c in chunks]  # type: ignore[index]
    contents = [d["content"] for d in deltas if d.get("content")]
    assert contents == [first, second]
    content = "".join(contents)
    got = [Annotation.model_validate(a) for d in deltas for a in d.get("annotations", [])]
    check_annotations(content, got, cites)
    assert "annotations" not in deltas[1], "the first piece went out before the answer"


def test_citations_carry_the_url_their_annotations_open() -> None:
    """`citations[]` (the extension field, non-streamed and on the stream's last chunk) give
    each citation the `url` of its source view: the URL its [n]'s annotation opens."""
    from rag.api.openai import completion
    from rag.service.export import view_url

    cite = Citation(
        number=1,
        title="Paper 1",
        source="p1.md",
        snippet="The claim.",
        score=1.0,
        doc_id="paper-0000000000000001",
        sentence="The claim, as the passage says it.",
    )
    answer = Answer(question="q", text="A claim [1].", citations=[cite])
    url = view_url("http://127.0.0.1:9/")
    done = completion(answer, "rag", url).model_dump()
    annotation = done["choices"][0]["message"]["annotations"][0]["url_citation"]["url"]
    assert annotation.startswith("http://127.0.0.1:9/v1/sources/paper-0000000000000001/view?hl=")
    assert [c["url"] for c in done["citations"]] == [annotation]

    from rag.api.openai import sse_chunks

    chunks = [
        json.loads(raw.decode().removeprefix("data: "))
        for raw in sse_chunks(iter([AnswerEvent(answer=answer)]), "rag", url)
        if b"[DONE]" not in raw
    ]
    assert [c["url"] for c in chunks[-1]["citations"]] == [annotation]


# -- against `rag serve` ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api_url(rag_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {
        **rag_env,
        "RAG_API__HOST": "127.0.0.1",
        "RAG_API__PORT": str(port),
        "RAG_API__TOKEN": TOKEN,
        "RAG_SECURITY__ADMIN_TOKEN": ADMIN,
        "RAG_LLM__MAX_TOKENS": "120",
    }
    log = tmp_path_factory.mktemp("rag-serve-annotations") / "serve.log"
    with running([str(VENV_BIN / "rag"), "serve"], f"http://127.0.0.1:{port}/health", log, env):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def client(api_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{api_url}/v1", api_key=TOKEN, max_retries=0, timeout=300)


def opens(url: str, token: str | None = TOKEN) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(urldefrag(url).url, headers=headers, timeout=30)


@pytest.mark.slow
def test_completion_annotations_are_typed_and_point_at_the_markers(
    client: openai.OpenAI, api_url: str
) -> None:
    resp = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": LIST_QUESTION}]
    )
    message = resp.choices[0].message
    content = message.content or ""
    assert message.annotations, "every [n] is also an annotation"
    assert all(isinstance(a, Annotation) for a in message.annotations)
    citations = [Citation.model_validate(c) for c in (resp.model_extra or {})["citations"]]
    check_annotations(content, message.annotations, citations)
    # each citation in `citations` carries the URL its annotations open
    urls = {a.url_citation.url for a in message.annotations}
    by_number = {c["number"]: c["url"] for c in (resp.model_extra or {})["citations"]}
    assert set(by_number.values()) == urls
    assert len({a.url_citation.url for a in message.annotations}) == len(citations) > 1
    for url in {a.url_citation.url for a in message.annotations}:
        # The source view at the cited sentence; the original file one link away.
        assert url.startswith(f"{api_url}/v1/sources/") and "/view?hl=" in url, url
        assert url.endswith("#cited")
        r = opens(url)
        assert r.status_code == 200, (url, r.text[:200])
        assert r.content and r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-type"].startswith("text/html")
        assert '<mark id="cited">' in r.text and "Get trending papers" not in r.text
        original = re.search(r'<a href="([^"]+)"[^>]*>original file', r.text)
        assert original, r.text[-1500:]
        file = opens(unescape(original.group(1)))
        assert file.status_code == 200 and file.headers["content-type"].startswith("text/plain")
    some = message.annotations[0].url_citation.url
    # signed (tests/faces/test_signed_links.py): it opens without the token; unsigned, it needs it
    assert opens(some, token=None).status_code == 200
    assert opens(some.split("&c=")[0], token=None).status_code == 401, "unsigned: the token"
    assert opens(f"{api_url}/v1/sources/paper-0000000000000000").status_code == 404
    assert opens(f"{api_url}/v1/sources/paper-0000000000000000/view?hl=x").status_code == 404
    assert opens(some.split("/view")[0], token=None).status_code == 401, "the file too"


@pytest.mark.slow
def test_stream_sends_the_answer_sentence_by_sentence_with_annotations(
    client: openai.OpenAI,
) -> None:
    chunks = list(
        client.chat.completions.create(
            model="rag", messages=[{"role": "user", "content": LIST_QUESTION}], stream=True
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    contents = [d.content for d in deltas if d.content]
    assert len(contents) > 1, "a multi-sentence answer comes in more than one delta"
    content = "".join(contents)
    final = chunks[-1].model_extra or {}
    assert content == final["answer"]["text"]
    assert final["citations"] and final["abstained"] is False
    annotations = [
        Annotation.model_validate(a)
        for d in deltas
        for a in (d.model_extra or {}).get("annotations", [])
    ]
    check_annotations(
        content, annotations, [Citation.model_validate(c) for c in final["citations"]]
    )
    # each delta carries the annotations of its own markers
    at = 0
    for d in deltas:
        if d.content:
            mine = (d.model_extra or {}).get("annotations", [])
            spans = [
                (a["url_citation"]["start_index"], a["url_citation"]["end_index"]) for a in mine
            ]
            want = [(at + m.start(), at + m.end()) for m in MARKER.finditer(d.content)]
            assert spans == want
            at += len(d.content)


@pytest.mark.slow
def test_retrieve_by_query_numbered_with_fused_scores(api_url: str) -> None:
    h = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(
        f"{api_url}/v1/retrieve", json={"query": ONE_PAPER, "k": 5, "mode": "hybrid"}, headers=h
    )
    assert r.status_code == 200, r.text
    passages = r.json()["passages"]
    assert [p["number"] for p in passages] == [1, 2, 3, 4, 5]
    assert "Parameter-Shared" in passages[0]["title"]
    assert all(p["vector_score"] is not None for p in passages)
    assert passages[0]["bm25_score"] is not None and passages[0]["bm25_score"] > 0
    scores = [p["score"] for p in passages]
    assert scores == sorted(scores, reverse=True)
    # each passage's `url` opens its source view (the passage's start marked)
    for p in passages:
        assert p["url"].startswith(f"{api_url}/v1/sources/{p['doc_id']}/view?hl="), p["url"]
    view = opens(passages[0]["url"])
    assert view.status_code == 200 and '<mark id="cited">' in view.text, view.text[-800:]
    # `question` still works and finds the same passages
    old = httpx.post(
        f"{api_url}/v1/retrieve", json={"question": ONE_PAPER, "k": 5, "mode": "hybrid"}, headers=h
    )
    assert [p["chunk_id"] for p in old.json()["passages"]] == [p["chunk_id"] for p in passages]
    bm25 = httpx.post(
        f"{api_url}/v1/retrieve", json={"query": ONE_PAPER, "k": 3, "mode": "bm25"}, headers=h
    ).json()["passages"]
    assert all(p["bm25_score"] == p["score"] for p in bm25)
    vector = httpx.post(
        f"{api_url}/v1/retrieve", json={"query": ONE_PAPER, "k": 3, "mode": "vector"}, headers=h
    ).json()["passages"]
    assert all(p["bm25_score"] is None for p in vector)
    neither = httpx.post(f"{api_url}/v1/retrieve", json={"k": 3}, headers=h)
    assert neither.status_code == 422
    assert "`query`" in neither.json()["error"]["message"]
