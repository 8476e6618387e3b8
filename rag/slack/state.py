"""The state the bot keeps between events: events already handled, and recent answers.

Both are kept in the shared state store (rag/state/sql.py, the `state_db` file), not in memory: a
Slack event replayed after a restart is still recognised and not answered twice, a second bot
process on the same file does not answer it either, and the buttons of an answer given before a
restart still work.
"""

from __future__ import annotations

from rag.core.types import Answer
from rag.state.sql import StateStore


class SeenKeys:
    """Remembers keys for `ttl_s` seconds; `claim` is true only for the first caller of a key,
    in any process sharing the store, restarts included.

    Used to drop Slack's retries (same event_id) and the second event Slack sends for one
    message (an `app_mention` and a `message` for the same channel + ts). `namespace` keeps the
    two kinds of key apart in the one store.
    """

    def __init__(self, store: StateStore, namespace: str, ttl_s: float = 3600.0) -> None:
        self.store = store
        self.namespace = namespace
        self.ttl_s = ttl_s

    def claim(self, key: str) -> bool:
        return self.store.claim(self.namespace, key, self.ttl_s)


class AnswerCache:
    """Answers by id, for the feedback and share buttons (whose value, at most 2,000
    characters, cannot hold an answer and its citations); the store keeps the newest ones."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def put(self, answer: Answer) -> str:
        return self.store.put_answer(answer)

    def get(self, key: str) -> Answer | None:
        return self.store.get_answer(key)
