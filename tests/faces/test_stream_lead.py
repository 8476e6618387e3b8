"""The stream sends the answer as soon as it is checked, not after the whole generation: the
lead's check reads only the model's first sentence, so its text (with its final citations) goes
out once that sentence is complete, while the model is still generating the rest (kept only as
`raw_text`). The API sends such text at once, each sentence with its `url_citation`
annotations; what the answer says is the same streamed or not.

Over the session's real assistant (real index, real local LLM), its model wrapped to see how
much of the generation had been read when the text came; the translation into SSE chunks over
real events; and `rag serve` with the `openai` SDK streaming."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat.chat_completion_message import Annotation
from servers import VENV_BIN, free_port, running

from rag.core.types import Answer, AnswerEvent, Citation, StatusEvent, StreamEvent, TokenEvent

MARKER = re.compile(r"\[(\d+)\]")
# Questions (eval/dev.jsonl) whose restatement by the local model runs past its first sentence,
# the only sentence the check reads: the answer is final before the generation ends.
WRITES_ON = [
    "How much faster than ONNX Runtime is Intel's pipeline that combines hardware-aware pruning, "
    "distillation, quantization and its own runtime, demonstrated on a SQuAD question-answering "
    "model?",
    "How much extra speedup over ordinary speculative decoding comes from removing "
    "autoregressive generation from drafting and allocating drafting time by token importance?",
    "On ImageNet 256x256, how much does generating images coarse-to-fine, resolution by "
    "resolution, improve FID over the autoregressive baseline, and how much faster is inference?",
]


def _cites() -> list[Citation]:
    return [
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


def _spans(annotations: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(a["url_citation"]["start_index"], a["url_citation"]["end_index"]) for a in annotations]


# -- the translation into SSE chunks, over real events (no server) -------------------------------


def test_final_text_goes_out_before_the_core_sends_anything_else() -> None:
    """Text that comes with its citations is final: its sentences go out at once, each with the
    annotations of its markers, before the core is asked for its next event (the rest of the
    generation, the answer)."""
    from rag.api.openai import sse_chunks
    from rag.service.export import view_url

    lead = "First claim [2]. Second claim [1]."
    cites = _cites()
    answer = Answer(question="q", text=lead, citations=cites)
    resumed: list[bool] = []

    def events() -> Iterator[Any]:
        yield TokenEvent(text=lead, citations=cites)
        resumed.append(True)  # the core went on (reading the rest of the generation)
        yield StatusEvent(text="still generating…")
        yield AnswerEvent(answer=answer)

    before_resumed: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    for raw in sse_chunks(events(), "rag", view_url("http://127.0.0.1:9/")):
        data = raw.decode().removeprefix("data: ").strip()
        if data != "[DONE]":
            (after if resumed else before_resumed).append(json.loads(data))
    sent = [c["choices"][0]["delta"] for c in before_resumed]
    contents = [d["content"] for d in sent if d.get("content")]
    assert contents == ["First claim [2]. ", "Second claim [1]."], "sent before the core resumed"
    assert [_spans(d.get("annotations", [])) for d in sent if d.get("content")] == [
        [(12, 15)],
        [(30, 33)],
    ]
    later = [c["choices"][0]["delta"] for c in after]
    assert not any(d.get("content") or d.get("annotations") for d in later), "nothing twice"
    assert after[-1]["choices"][0]["finish_reason"] == "stop"
    assert after[-1]["answer"]["text"] == lead


def test_text_without_citations_then_final_text_annotates_each_marker_once() -> None:
    """A piece sent before its numbers were final gets its annotations on the first delta that
    has citations, and no marker is annotated twice."""
    from rag.api.openai import sse_chunks
    from rag.service.export import view_url

    first, second = "First claim [2]. ", "Second claim [1]."
    cites = _cites()
    answer = Answer(question="q", text=first + second, citations=cites)
    events: list[StreamEvent] = [
        TokenEvent(text=first),
        StatusEvent(text="checking…"),
        TokenEvent(text=second, citations=cites),
        AnswerEvent(answer=answer),
    ]
    chunks = [
        json.loads(raw.decode().removeprefix("data: "))
        for raw in sse_chunks(iter(events), "rag", view_url("http://127.0.0.1:9/"))
        if not raw.decode().startswith("data: [DONE]")
    ]
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert "".join(d.get("content") or "" for d in deltas) == first + second
    spans = [s for d in deltas for s in _spans(d.get("annotations", []))]
    assert spans == [(12, 15), (30, 33)]


# -- the core: a restated lead goes out once, final ---------------------------------------------


@pytest.mark.slow
def test_a_restated_lead_is_sent_once_final_with_its_citations(assistant: Any) -> None:
    """The checked text goes out once, as the whole final answer with its final citations (one
    generate stage with its tokens, then the check, then the event: rag/answer/answering.py)."""
    for question in WRITES_ON:
        seen: list[TokenEvent] = []
        final: Answer | None = None
        for ev in assistant.stream(question, restate=True):
            if isinstance(ev, TokenEvent):
                seen.append(ev)
            elif isinstance(ev, AnswerEvent):
                final = ev.answer
        assert final is not None and final.citations and final.raw_text, question
        assert len(seen) == 1
        assert seen[0].text == final.text, "the text sent is the whole answer, final"
        assert seen[0].citations == final.citations
    # the same answer, asked without a stream
    asked = assistant.ask(WRITES_ON[-1], restate=True)
    assert final is not None and (asked.text, asked.citations) == (final.text, final.citations)


# -- `rag serve`, streamed with the `openai` SDK -----------------------------------------------


@pytest.fixture(scope="module")
def client(
    rag_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[openai.OpenAI]:
    port = free_port()
    env = {**rag_env, "RAG_API__HOST": "127.0.0.1", "RAG_API__PORT": str(port)}
    log = tmp_path_factory.mktemp("rag-serve-lead") / "serve.log"
    with running([str(VENV_BIN / "rag"), "serve"], f"http://127.0.0.1:{port}/health", log, env):
        yield openai.OpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="-", max_retries=0, timeout=300
        )


@pytest.mark.slow
def test_served_stream_sends_the_checked_lead_with_annotations_before_it_ends(
    client: openai.OpenAI,
) -> None:
    messages: Any = [{"role": "user", "content": WRITES_ON[0]}]
    stream = client.chat.completions.create(model="rag", messages=messages, stream=True)
    arrived: list[tuple[float, Any]] = [(time.monotonic(), c) for c in stream]
    deltas = [c.choices[0].delta for _, c in arrived if c.choices]
    content = "".join(d.content or "" for d in deltas)
    final = arrived[-1][1].model_extra or {}
    assert content and content == final["answer"]["text"]
    # every delta carries the annotations of its own markers, indices into the whole content
    at, spans, want = 0, [], []
    for d in deltas:
        for a in (d.model_extra or {}).get("annotations", []):
            u = Annotation.model_validate(a).url_citation
            spans.append((u.start_index, u.end_index))
            assert u.url.endswith("#cited") and "/view?hl=" in u.url
        want += [(at + m.start(), at + m.end()) for m in MARKER.finditer(d.content or "")]
        at += len(d.content or "")
    assert want and spans == want
    # the text went out before the last chunk, and says what the answer without a stream says
    first_at = next(t for t, c in arrived if c.choices and c.choices[0].delta.content)
    assert first_at < arrived[-1][0]
    whole = client.chat.completions.create(model="rag", messages=messages)
    assert whole.choices[0].message.content == content
    assert (whole.model_extra or {})["citations"] == final["citations"]
