"""Saved conversations, each the caller's own: `GET /v1/conversations`,
`GET|PATCH|DELETE /v1/conversations/{id}`, `GET /v1/conversations/{id}/export`."""

from __future__ import annotations

import re
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError

from rag.api.auth import caller
from rag.api.deps import Scope, get_conversations, get_scope
from rag.api.openai import with_urls
from rag.api.responses import InertJSONResponse
from rag.api.schemas import ConversationList, Deleted, RenameRequest
from rag.core.types import Citation, Conversation
from rag.service.access import Principal
from rag.service.export import (
    PerCollection,
    SourceURL,
    conversation_json,
    conversation_markdown,
    source_url,
    view_url,
)
from rag.state.conversations import Conversations

router = APIRouter(prefix="/v1")


@router.get("/conversations", response_model=ConversationList, tags=["conversations"])
def list_conversations(
    who: Principal = Depends(caller), store: Conversations = Depends(get_conversations)
) -> ConversationList:
    """The caller's saved conversations, the most recently used first."""
    return ConversationList(conversations=store.list(who.owner))


@router.get("/conversations/{conv_id}", response_model=Conversation, tags=["conversations"])
def get_conversation(
    conv_id: str,
    request: Request,
    who: Principal = Depends(caller),
    scope: Scope = Depends(get_scope),
    store: Conversations = Depends(get_conversations),
) -> Conversation:
    """One saved conversation with its turns (question, checked answer, citations, passages);
    turns asked of a collection the caller may no longer use are left out. Each citation carries
    the `url` of its source view, as the chat response gave it."""
    return _linked(store.get(conv_id, who.owner, scope.allowed(who)), request)


@router.patch("/conversations/{conv_id}", response_model=Conversation, tags=["conversations"])
def rename_conversation(
    conv_id: str,
    req: RenameRequest,
    request: Request,
    who: Principal = Depends(caller),
    scope: Scope = Depends(get_scope),
    store: Conversations = Depends(get_conversations),
) -> Conversation:
    allowed = scope.allowed(who)
    store.rename(conv_id, who.owner, req.title, allowed)
    return _linked(store.get(conv_id, who.owner, allowed), request)


def _linked(conv: Conversation, request: Request) -> Conversation:
    """The conversation with each saved citation's source-view `url` (signed for its turn's
    collection when tokens are on), as the chat response gave them (`with_urls`): saved turns
    hold the answer, not URLs, which depend on the server's address and signing key."""
    base, signer = str(request.base_url), request.app.state.links
    turns = []
    for turn in conv.turns:
        answer = turn.get("answer")
        try:
            cites = [Citation.model_validate(c) for c in answer["citations"]]  # type: ignore[index]
        except (ValidationError, TypeError, KeyError):  # saved by an older version: as saved
            turns.append(turn)
            continue
        url = view_url(base, signer=signer, collection=str(turn.get("collection") or ""))
        linked = [c.model_dump(mode="json") for c in with_urls(cites, url)]
        turns.append({**turn, "answer": {**answer, "citations": linked}})  # type: ignore[dict-item]
    return conv.model_copy(update={"turns": turns})


@router.delete("/conversations/{conv_id}", response_model=Deleted, tags=["conversations"])
def delete_conversation(
    conv_id: str,
    who: Principal = Depends(caller),
    store: Conversations = Depends(get_conversations),
) -> Deleted:
    store.delete(conv_id, who.owner)
    return Deleted(deleted=conv_id)


@router.get(
    "/conversations/{conv_id}/export",
    tags=["conversations"],
    responses={
        200: {
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
            "description": "The conversation as a Markdown or JSON file.",
        }
    },
)
def export_conversation(
    conv_id: str,
    request: Request,
    format: Literal["md", "json"] = Query("md", description="`md` (Markdown) or `json`."),
    who: Principal = Depends(caller),
    scope: Scope = Depends(get_scope),
    store: Conversations = Depends(get_conversations),
) -> Any:
    """One saved conversation as a file to keep: each question with its checked answer and the
    answer's numbered sources, each with the URL that opens it (`GET /v1/sources/{doc_id}`;
    signed for the turn's collection when tokens are on, so that a browser opens it).
    The same turns as `GET /v1/conversations/{id}` (404 for another owner's)."""
    conv = store.get(conv_id, who.owner, scope.allowed(who))
    base = str(request.base_url)
    url = source_url(base)
    signer = request.app.state.links  # tokens on: each turn's links signed for its collection
    per_collection: PerCollection | None = None
    if signer is not None:

        def per_collection(collection: str) -> SourceURL:
            return source_url(base, signer=signer, collection=collection)

    safe_id = re.sub(r"[^A-Za-z0-9_-]", "", conv.id)[:40]
    name = f'attachment; filename="conversation-{safe_id}.{format}"'
    if format == "json":
        return InertJSONResponse(
            conversation_json(conv, url, per_collection), headers={"Content-Disposition": name}
        )
    return PlainTextResponse(
        conversation_markdown(conv, url, per_collection),
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": name},
    )
