"""Saved conversations: each question with its checked answer (text, citations and the passages
they point at), kept in the shared state database (rag/state/engine.py) per owner, so that a
conversation reopens exactly as it was, in any face and after a restart.

The owner is the logged-in UI user (or "local" without a login), or one owner per API token,
namespaced by face ("ui:alice", "api:admin": rag/service/access.py `owner_key`). A
conversation's title is its first question, shortened; it can be renamed. The UI and the API
only translate onto `Conversations`.
"""

from __future__ import annotations

import builtins
import json
import logging
import time
import uuid
from collections.abc import Collection
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select, update

from rag.core.errors import NotFoundError, RagError, StateError
from rag.core.settings import Settings
from rag.core.types import Answer, Conversation, ConversationSummary
from rag.state.engine import StateDB, conversations, open_state

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
    """Saved conversations over a state database."""

    def __init__(self, state: StateDB) -> None:
        self.state = state

    @classmethod
    def from_settings(cls, settings: Settings, state: StateDB | None = None) -> Conversations:
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
        conv = self.find(conv_id, owner) if conv_id else None
        if conv_id and conv is None:
            raise NotFoundError(f"No conversation {conv_id[:100]!r}.")
        turns = [*(conv.turns if conv else []), turn_of(question, answer, turn_id, collection)]
        title = conv.title if conv else title_for(question)
        return self.save(conv_id, owner, title, turns)

    def list(self, owner: str) -> list[ConversationSummary]:
        """`owner`'s conversations, the most recently saved first."""
        c = conversations.c
        query = (
            select(c.id, c.title, c.created, c.updated)
            .where(c.owner == owner)
            .order_by(c.updated.desc(), c.created.desc(), c.id)
        )
        with self.state.tx(write=False) as conn:
            rows = conn.execute(query).mappings().all()
        return [ConversationSummary.model_validate(dict(r)) for r in rows]

    def get(
        self, conv_id: str, owner: str, collections: Collection[str] | None = None
    ) -> Conversation:
        """`owner`'s conversation; with `collections`, only the turns asked of one of them
        (turns saved before collections existed were asked of the default collection, and
        carry no name: they are kept). A conversation none of whose turns is left is not found:
        its title is its first question, asked of a collection the caller may not use."""
        conv = self.find(conv_id, owner)
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
        c = conversations.c
        stmt = update(conversations).where(c.id == conv_id, c.owner == owner).values(title=title)
        if not self._changed(stmt):  # its place in the list does not change
            raise NotFoundError(f"No conversation {conv_id[:100]!r}.")

    def delete(self, conv_id: str, owner: str) -> None:
        c = conversations.c
        if not self._changed(delete(conversations).where(c.id == conv_id, c.owner == owner)):
            raise NotFoundError(f"No conversation {conv_id[:100]!r}.")

    # -- the rows ----------------------------------------------------------------------------

    def save(
        self, conv_id: str | None, owner: str, title: str, turns: builtins.list[dict[str, Any]]
    ) -> str:
        """Create (`conv_id` None: a new id) or replace `owner`'s conversation; returns its id.
        Replacing keeps `created` and sets `updated`. An id that belongs to another owner is a
        StateError and nothing is written (the same message as for any id: nothing leaks).

        One statement, atomic across processes: an upsert guarded by its owner."""
        conv_id = conv_id or uuid.uuid4().hex
        now = time.time()
        stmt = self.state.insert(conversations).values(
            id=conv_id,
            owner=owner,
            title=title,
            created=now,
            updated=now,
            turns=json.dumps(turns, ensure_ascii=False),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[conversations.c.id],
            set_={
                "title": stmt.excluded.title,
                "turns": stmt.excluded.turns,
                "updated": stmt.excluded.updated,
            },
            where=conversations.c.owner == stmt.excluded.owner,
        ).execution_options(preserve_rowcount=True)  # 0: another owner's id
        if not self._changed(stmt):
            raise StateError(f"Cannot save conversation {conv_id!r}: it is not one of yours.")
        return conv_id

    def find(self, conv_id: str, owner: str) -> Conversation | None:
        """The conversation with its turns; None if there is none with that id for `owner`."""
        c = conversations.c
        query = select(conversations).where(c.id == conv_id, c.owner == owner)
        with self.state.tx(write=False) as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return Conversation.model_validate({**row, "turns": json.loads(row["turns"])})

    def _changed(self, stmt: Any) -> bool:
        """Run one writing statement; whether it changed exactly one row."""
        with self.state.tx() as conn:
            return int(conn.execute(stmt).rowcount) == 1
