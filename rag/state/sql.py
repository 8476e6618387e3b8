"""The old one-object state store, kept only for callers not yet moved to the repositories:
`SQLStateStore` / `SQLiteStateStore` are a `StateDB` (rag/state/engine.py) with the old method
names, each handed to the repository of its concern (claims.py, answers.py, logins.py,
feedback.py, conversations.py). New code takes a `StateDB` and the repository it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from rag.core.types import Answer, Conversation, ConversationSummary
from rag.state.answers import Answers
from rag.state.claims import Claims
from rag.state.conversations import Conversations
from rag.state.engine import SQLiteStateDB, StateDB, open_state
from rag.state.feedback import FeedbackStore
from rag.state.logins import GLOBAL_LOGIN_FACTOR, LoginFailures

__all__ = ["GLOBAL_LOGIN_FACTOR", "SQLStateStore", "SQLiteStateStore", "StateDB", "open_state"]


class _OldNames:
    """The old methods, over the repositories of one database."""

    def _repositories(self, db: StateDB, max_answers: int, max_login_failures: int) -> None:
        self.max_answers = max_answers
        self.max_login_failures = max_login_failures
        self._claims = Claims(db)
        self._answers = Answers(db, max_answers)
        self._logins = LoginFailures(db, max_login_failures)
        self._feedback = FeedbackStore("", store=db)
        self._conversations = Conversations(db)

    def claim(self, namespace: str, key: str, ttl_s: float) -> bool:
        return self._claims.claim(namespace, key, ttl_s)

    def put_answer(self, answer: Answer) -> str:
        return self._answers.put(answer)

    def get_answer(self, key: str) -> Answer | None:
        return self._answers.get(key)

    def record_login_failure(self, user: str) -> None:
        self._logins.record(user)

    def login_blocked(self, user: str, max_failures: int, window_s: float) -> bool:
        return self._logins.blocked(user, max_failures, window_s)

    def clear_login_failures(self, user: str) -> None:
        self._logins.clear(user)

    def feedback_rows(self) -> list[dict[str, Any]]:
        return self._feedback.rows()

    def save_conversation(
        self, conv_id: str | None, owner: str, title: str, turns: list[dict[str, Any]]
    ) -> str:
        return self._conversations.save(conv_id, owner, title, turns)

    def list_conversations(self, owner: str) -> list[ConversationSummary]:
        return self._conversations.list(owner)

    def get_conversation(self, conv_id: str, owner: str) -> Conversation | None:
        return self._conversations.find(conv_id, owner)

    def rename_conversation(self, conv_id: str, owner: str, title: str) -> bool:
        if self._conversations.find(conv_id, owner) is None:
            return False
        self._conversations.rename(conv_id, owner, title)
        return True

    def delete_conversation(self, conv_id: str, owner: str) -> bool:
        if self._conversations.find(conv_id, owner) is None:
            return False
        self._conversations.delete(conv_id, owner)
        return True


class SQLStateStore(_OldNames, StateDB):
    """A `StateDB` at `url` with the old method names."""

    def __init__(
        self,
        url: str | URL,
        *,
        timeout_s: float = 10.0,
        max_answers: int = 10_000,
        max_login_failures: int = 10_000,
    ) -> None:
        StateDB.__init__(self, url, timeout_s=timeout_s)
        self._repositories(self, max_answers, max_login_failures)


class SQLiteStateStore(_OldNames, SQLiteStateDB):
    """A `SQLiteStateDB` in the file `path` with the old method names."""

    def __init__(
        self,
        path: Path | str,
        *,
        timeout_s: float = 10.0,
        max_answers: int = 10_000,
        max_login_failures: int = 10_000,
    ) -> None:
        SQLiteStateDB.__init__(self, path, timeout_s=timeout_s)
        self._repositories(self, max_answers, max_login_failures)
