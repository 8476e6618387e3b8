"""OpenAI's chat format translated onto the assistant: the question and history of a request, a
`chat.completion` for an answer, and `chat.completion.chunk` SSE events for a stream."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi.sse import format_sse_event

from rag.api.errors import error_body, status_for
from rag.api.responses import inert
from rag.api.schemas import ChatCompletion, ChatMessage, Choice, ResponseMessage, Usage
from rag.core.errors import EmptyQuestionError, RagError
from rag.core.types import Answer, AnswerEvent, SourcesEvent, StreamEvent, TokenEvent

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


def completion(answer: Answer, model: str, conversation_id: str | None = None) -> ChatCompletion:
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        model=model,
        choices=[Choice(message=ResponseMessage(content=answer.text))],
        usage=usage(answer),
        citations=answer.citations,
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
    on_answer: Callable[[Answer], dict[str, Any]] | None = None,
) -> Iterator[bytes]:
    """OpenAI's `chat.completion.chunk` events, the checked answer on the last one, then [DONE].
    `on_answer` (saving the turn) gives extra fields for the last chunk.

    A failure after the stream has started can no longer change the status code; it is sent as
    an `{"error": ...}` event, which the `openai` client raises as an APIError.
    """
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return format_sse_event(data_str=json.dumps(inert(body)))

    yield chunk({"role": "assistant", "content": ""})
    sent = ""
    try:
        for ev in events:
            if isinstance(ev, SourcesEvent):
                yield chunk({}, sources=[p.model_dump(mode="json") for p in ev.passages])
            elif isinstance(ev, TokenEvent) and ev.text:
                sent += ev.text
                yield chunk({"content": ev.text})
            elif isinstance(ev, AnswerEvent):
                a = ev.answer
                if a.text.startswith(sent) and a.text != sent:
                    yield chunk({"content": a.text[len(sent) :]})
                extra = on_answer(a) if on_answer is not None else {}
                yield chunk(
                    {},
                    "stop",
                    usage=usage(a).model_dump(),
                    citations=[c.model_dump() for c in a.citations],
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
