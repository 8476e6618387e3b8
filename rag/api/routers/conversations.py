"""Saved conversations, each the caller's own: `GET /v1/conversations`,
`GET|PATCH|DELETE /v1/conversations/{id}`."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from rag.api.auth import caller
from rag.api.deps import Scope, get_conversations, get_scope
from rag.api.schemas import ConversationList, Deleted, RenameRequest
from rag.core.types import Conversation
from rag.service.access import Principal
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
    who: Principal = Depends(caller),
    scope: Scope = Depends(get_scope),
    store: Conversations = Depends(get_conversations),
) -> Conversation:
    """One saved conversation with its turns (question, checked answer, citations, passages);
    turns asked of a collection the caller may no longer use are left out."""
    return store.get(conv_id, who.owner, scope.allowed(who))


@router.patch("/conversations/{conv_id}", response_model=Conversation, tags=["conversations"])
def rename_conversation(
    conv_id: str,
    req: RenameRequest,
    who: Principal = Depends(caller),
    scope: Scope = Depends(get_scope),
    store: Conversations = Depends(get_conversations),
) -> Conversation:
    allowed = scope.allowed(who)
    store.rename(conv_id, who.owner, req.title, allowed)
    return store.get(conv_id, who.owner, allowed)


@router.delete("/conversations/{conv_id}", response_model=Deleted, tags=["conversations"])
def delete_conversation(
    conv_id: str,
    who: Principal = Depends(caller),
    store: Conversations = Depends(get_conversations),
) -> Deleted:
    store.delete(conv_id, who.owner)
    return Deleted(deleted=conv_id)
