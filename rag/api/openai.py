"""OpenAI's chat format translated onto the assistant: the question and history of a request, a
`chat.completion` for an answer, and `chat.completion.chunk` SSE events for a stream."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi.sse import format_sse_event

from rag.api.errors import error_body, status_for
from rag.api.responses import inert
from rag.api.schemas import (
    Annotation,
    ChatCompletion,
    ChatMessage,
    Choice,
    ResponseMessage,
    SourceCitation,
    URLCitation,
    Usage,
)
from rag.core.errors import EmptyQuestionError, RagError
from rag.core.text import neutralise
from rag.core.types import Answer, AnswerEvent, Citation, SourcesEvent, StreamEvent, TokenEvent
from rag.service.export import SourceURL

log = logging.getLogger("rag.api")


def split_messages(messages: Sequence[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last user message) and the history (earlier user→assistant pairs)."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise EmptyQuestionError("The last message must come from the user: it is the question.")
    history: list[tuple[str, str]] = []
    pending: str | None = None
    for m in turns[:-1]:
        if m.role == "user":
            pending = m.text()
        elif pending is not None:
            history.append((pending, m.text()))
            pending = None
    return turns[-1].text(), history


# A sentence ends at . ! or ? (its citation markers and closing quotes kept with it) followed by
# whitespace, or at a line break; the whitespace stays with the sentence it follows.
_SENTENCE_END = re.compile(r"[.!?](?:\s?\[\d+\])*[\"'”’)\]]*\s+|\n+")
_MARKER = re.compile(r"\[(\d+)\]")


def shown(text: str) -> str:
    """Answer text as the API sends it: links and HTML made inert (rag/api/responses.py),
    repeated until nothing changes, so that the content's indices are final."""
    for _ in range(5):
        once = neutralise(text)
        if once == text:
            break
        text = once
    return text


def sentences(text: str) -> list[str]:
    """`text` cut after each sentence or line; their concatenation is `text`."""
    out, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.end() > start:
            out.append(text[start : m.end()])
            start = m.end()
    if start < len(text):
        out.append(text[start:])
    return out


def url_citations(content: str, citations: Sequence[Citation], url: SourceURL) -> list[Annotation]:
    """OpenAI's `url_citation` annotation for each [n] of `content` that cites one of
    `citations`: `content[start_index:end_index]` is the marker (end exclusive, indices in
    characters), `url` opens the cited document, `title` names it."""
    by_number = {c.number: c for c in citations}
    out = []
    for m in _MARKER.finditer(content):
        c = by_number.get(int(m.group(1)))
        if c is not None:
            cite = URLCitation(
                start_index=m.start(),
                end_index=m.end(),
                title=" ".join(neutralise(c.title).split()),
                url=url(c),
            )
            out.append(Annotation(url_citation=cite))
    return out


def with_urls(citations: Sequence[Citation], url: SourceURL) -> list[SourceCitation]:
    """The citations with the URL of each one's source view (what its annotation opens)."""
    return [SourceCitation(**c.model_dump(), url=url(c)) for c in citations]


def completion(
    answer: Answer, model: str, url: SourceURL, conversation_id: str | None = None
) -> ChatCompletion:
    content = shown(answer.text)
    message = ResponseMessage(
        content=content, annotations=url_citations(content, answer.citations, url)
    )
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        model=model,
        choices=[Choice(message=message)],
        usage=usage(answer),
        citations=with_urls(answer.citations, url),
        abstained=answer.abstained,
        answer=answer,
        conversation_id=conversation_id,
    )


def usage(answer: Answer) -> Usage:
    return Usage(
        prompt_tokens=answer.tokens_in,
        completion_tokens=answer.tokens_out,
        total_tokens=answer.tokens_in + answer.tokens_out,
    )


def sse_chunks(
    events: Iterator[StreamEvent],
    model: str,
    url: SourceURL,
    on_answer: Callable[[Answer], dict[str, Any]] | None = None,
) -> Iterator[bytes]:
    """OpenAI's `chat.completion.chunk` events: the sources, the checked answer one sentence
    (or line) per content delta, each delta with the `url_citation` annotations of its [n]
    markers (indices into the whole content), the citations on the last chunk, then [DONE].
    `on_answer` (saving the turn) gives extra fields for the last chunk.

    The core sends checked text only (TokenEvent). Text that comes with its citations (its
    words and [n] numbers final: the lead as soon as its check passed, rag/answer/answering.py)
    goes out at once, each sentence with the annotations of its markers. Text without them is
    held until the next event: when that is the answer, its sentences go out with their
    annotations; when more text comes first, it goes out without them, and their annotations
    come on the next delta that has citations.

    A failure after the stream has started can no longer change the status code; it is sent as
    an `{"error": ...}` event, which the `openai` client raises as an APIError.
    """
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    sent = ""  # the content sent so far
    annotated = 0  # the markers of sent[:annotated] have had their annotations
    received = ""  # the checked text the core sent so far
    pending = ""  # the part of it not sent yet

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        content = delta.pop("content", None)  # already as shown(): its indices are final
        body = inert(
            {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
                ],
                **extra,
            }
        )
        if content is not None:
            body["choices"][0]["delta"]["content"] = content
        return format_sse_event(data_str=json.dumps(body))

    def unannotated(citations: Sequence[Citation]) -> list[dict[str, Any]]:
        """The annotations of the markers sent since the last ones (all of `sent` is then
        annotated)."""
        nonlocal annotated
        new = [
            a.model_dump()
            for a in url_citations(sent, citations, url)
            if a.url_citation.start_index >= annotated
        ]
        annotated = len(sent)
        return new

    def deltas(text: str, citations: Sequence[Citation] | None) -> Iterator[bytes]:
        """`text` one sentence per delta; with `citations` (final), each delta with the
        annotations of its markers and (on the first) of earlier ones sent without."""
        nonlocal sent
        for piece in sentences(shown(text)):
            sent += piece
            delta: dict[str, Any] = {"content": piece}
            if citations is not None and (own := unannotated(citations)):
                delta["annotations"] = own
            yield chunk(delta)
        if citations is not None and annotated < len(sent) and (late := unannotated(citations)):
            yield chunk({"annotations": late})

    yield chunk({"role": "assistant", "content": ""})
    try:
        for ev in events:
            if isinstance(ev, SourcesEvent):
                yield chunk({}, sources=[p.model_dump(mode="json") for p in ev.passages])
            elif isinstance(ev, TokenEvent) and ev.text:
                received += ev.text
                if ev.citations is not None:  # final: out now, with its annotations
                    yield from deltas(pending + ev.text, ev.citations)
                    pending = ""
                else:
                    yield from deltas(pending, None)
                    pending = ev.text
            elif isinstance(ev, AnswerEvent):
                a = ev.answer
                if a.text.startswith(received):
                    pending += a.text[len(received) :]
                yield from deltas(pending, a.citations)
                pending = ""
                extra = on_answer(a) if on_answer is not None else {}
                yield chunk(
                    {},
                    "stop",
                    usage=usage(a).model_dump(),
                    citations=[c.model_dump() for c in with_urls(a.citations, url)],
                    abstained=a.abstained,
                    answer=a.model_dump(mode="json"),
                    **extra,
                )
    except RagError as e:
        body = error_body(str(e), type(e).__name__, status_for(e))
        yield format_sse_event(data_str=json.dumps(body))
        return
    except Exception as e:  # the client must hear of it; the log gets the trace
        log.exception("stream failed")
        body = error_body(f"internal error: {type(e).__name__}", "internal_error", 500)
        yield format_sse_event(data_str=json.dumps(body))
        return
    yield format_sse_event(data_str="[DONE]")
