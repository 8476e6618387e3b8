"""`POST /v1/chat/completions`: OpenAI's chat format, answered with verified citations."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.sse import EventSourceResponse

from rag.api.auth import caller
from rag.api.deps import Scope, conversations_opener, get_links, get_quotas, get_scope
from rag.api.openai import completion, split_messages, sse_chunks
from rag.api.schemas import ChatCompletion, ChatCompletionRequest
from rag.core.errors import RagError
from rag.core.types import Answer, AnswerEvent, StreamEvent, TokenEvent
from rag.service.access import Principal
from rag.service.export import view_url
from rag.service.links import LinkSigner
from rag.service.quotas import Quotas
from rag.state.conversations import Conversations, history_of

router = APIRouter(prefix="/v1")


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    tags=["chat"],
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "JSON, or with `stream: true` SSE `chat.completion.chunk` events; "
            "the answer one sentence per content delta, each with the `url_citation` "
            "`annotations` of its [n] markers; the last chunk carries `citations`, "
            "`abstained` and `answer`, then `[DONE]`.",
        }
    },
)
def chat_completions(
    req: ChatCompletionRequest,
    request: Request,
    who: Principal = Depends(caller),
    scope: Scope = Depends(get_scope),
    conversations: Callable[[], Conversations] = Depends(conversations_opener),
    quotas: Quotas = Depends(get_quotas),
    links: LinkSigner | None = Depends(get_links),
) -> Any:
    """Answer the last user message with verified citations (OpenAI-compatible); `model`
    names the collection. Each [n] of the answer is also a `url_citation` in
    `message.annotations` (OpenAI's format), whose `url` opens the cited document at the cited
    sentence (`GET /v1/sources/{doc_id}/view?hl=…`; the file itself is `/v1/sources/{doc_id}`),
    signed (`c`, `exp`, `sig`) when tokens are on, so that it opens in a browser."""
    question, history = split_messages(req.messages)
    name = scope.collection(who, req.model)  # 404 before any work
    owner, allowed = who.owner, scope.allowed(who)
    conv_id = req.conversation_id if req.conversation_id not in (None, "", "new") else None
    if conv_id is not None:
        saved = conversations().get(conv_id, owner, allowed)  # 404 before any work
        history = history or history_of(saved)

    def save(answer: Answer) -> dict[str, Any]:
        if req.conversation_id is None:
            return {}
        conv = conversations().record(conv_id, owner, question, answer, collection=name)
        return {"conversation_id": conv}

    # what each citation's annotation opens; signed for this collection when tokens are on, so
    # that a browser opens it without the bearer token (rag/service/links.py)
    url = view_url(str(request.base_url), signer=links, collection=name)
    events = scope.pool.get(name).stream(question, history=history, k=req.k)
    events = quotas.counting(owner, events)  # its LLM tokens count for the caller's quota
    if not req.stream:
        answers = [e.answer for e in events if isinstance(e, AnswerEvent)]
        if not answers:
            raise RagError("The assistant ended without an answer.")
        kept = save(answers[-1]).get("conversation_id")
        return completion(answers[-1], req.model, url, kept)
    # Pull events up to the first answer text here, so a failure before it (LLM stopped or
    # unreachable, store down) still gets its proper status code instead of a broken stream.
    head: list[StreamEvent] = []
    for ev in events:
        head.append(ev)
        if isinstance(ev, TokenEvent | AnswerEvent):
            break
    if not head:
        raise RagError("The assistant ended without an answer.")
    return EventSourceResponse(sse_chunks(chain(head, events), req.model, url, save))
