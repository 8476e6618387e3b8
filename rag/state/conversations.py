"""Saved conversations: each question with its checked answer (text, citations and the passages
they point at), kept in the shared state store (rag/state/sql.py) per owner, so that a conversation
reopens exactly as it was, in any face and after a restart.

The owner is the logged-in UI user (or "local" without a login), or one owner per API token,
namespaced by face ("ui:alice", "api:admin": rag/service/access.py `owner_key`). A
conversation's title is its first question, shortened; it can be renamed. The UI and the API
only translate onto `Conversations`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Collection
from typing import Any

from pydantic import ValidationError

from rag.core.errors import NotFoundError, RagError
from rag.core.settings import Settings
from rag.core.types import Answer, Conversation, ConversationSummary
from rag.state.sql import StateStore, open_state

log = logging.getLogger(__name__)

TITLE_CHARS = 80
LOCAL_OWNER = "local"  # the UI without a login


def title_for(question: str) -> str:
    """A conversation's title from its first question: one line, at most TITLE_CHARS."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text or "Untitled conversation"
    cut = text[: TITLE_CHARS - 1].rsplit(" ", 1)[0]
    return cut + "…"


def new_turn_id() -> str:
    return uuid.uuid4().hex[:12]


def turn_of(
    question: str, answer: Answer, turn_id: str | None = None, collection: str | None = None
) -> dict[str, Any]:
    """A saved turn: the question, the checked answer with its citations and passages, and the
    collection it was asked of."""
    turn = {
        "id": turn_id or new_turn_id(),
        "question": question,
        "answer": answer.model_dump(mode="json"),
        "at": time.time(),
    }
    if collection:
        turn["collection"] = collection
    return turn


def answers_of(conv: Conversation) -> list[tuple[str, str, Answer]]:
    """(turn id, question, answer) of each saved turn that can still be read, in order."""
    out = []
    for i, t in enumerate(conv.turns):
        try:
            answer = Answer.model_validate(t.get("answer"))
        except ValidationError:
            log.warning("conversation %s: turn %d is unreadable; left out", conv.id, i)
            continue
        out.append((str(t.get("id") or f"t{i}"), str(t.get("question") or answer.question), answer))
    return out


def history_of(conv: Conversation) -> list[tuple[str, str]]:
    """The (question, answer text) pairs a follow-up is understood with."""
    return [(q, a.text) for _, q, a in answers_of(conv)]


class Conversations:
    """Saved conversations over a state store."""

    def __init__(self, state: StateStore) -> None:
        self.state = state

    @classmethod
    def from_settings(cls, settings: Settings, state: StateStore | None = None) -> Conversations:
        return cls(state if state is not None else open_state(settings))

    def record(
        self,
        conv_id: str | None,
        owner: str,
        question: str,
        answer: Answer,
        turn_id: str | None = None,
        collection: str | None = None,
    ) -> str:
        """Add a turn to `owner`'s conversation `conv_id` (None: a new one, titled with the
        question), asked of `collection`; returns the conversation's id. NotFoundError for an
        id that is not theirs."""
        conv = self.state.get_conversation(conv_id, owner) if conv_id else None
        if conv_id and conv is None:
            raise NotFoundError(f"No conversation {conv_id[:100]!r}.")
        turns = [*(conv.turns if conv else []), turn_of(question, answer, turn_id, collection)]
        title = conv.title if conv else title_for(question)
        return self.state.save_conversation(conv_id, owner, title, turns)

    def list(self, owner: str) -> list[ConversationSummary]:
        return self.state.list_conversations(owner)

    def get(
        self, conv_id: str, owner: str, collections: Collection[str] | None = None
    ) -> Conversation:
        """`owner`'s conversation; with `collections`, only the turns asked of one of them
        (turns saved before collections existed were asked of the default collection, and
        carry no name: they are kept). A conversation none of whose turns is left is not found:
        its title is its first question, asked of a collection the caller may not use."""
        conv = self.state.get_conversation(conv_id, owner)
        if conv is None:
            raise NotFoundError(f"No conversation {conv_id[:100]!r}.")
        if collections is not None:
            keep = [t for t in conv.turns if t.get("collection", None) in (None, *collections)]
            if conv.turns and not keep:
                raise NotFoundError(f"No conversation {conv_id[:100]!r}.")
            conv = conv.model_copy(update={"turns": keep})
        return conv

    def rename(
        self, conv_id: str, owner: str, title: str, collections: Collection[str] | None = None
    ) -> None:
        """Retitle `owner`'s conversation; with `collections`, only one `get` would show."""
        title = " ".join(title.split())[:200]
        if not title:
            raise RagError("A conversation needs a title.")
        if collections is not None:
            self.get(conv_id, owner, collections)
        if not self.state.rename_conversation(conv_id, owner, title):
            raise NotFoundError(f"No conversation {conv_id[:100]!r}.")

    def delete(self, conv_id: str, owner: str) -> None:
        if not self.state.delete_conversation(conv_id, owner):
            raise NotFoundError(f"No conversation {conv_id[:100]!r}.")
