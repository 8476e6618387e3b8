"""The state the bot keeps between events: events already handled, and recent answers.

Both are kept in the shared state database (rag/state/claims.py and answers.py, the `state_db`
file), not in memory: a Slack event replayed after a restart is still recognised and not
answered twice, a second bot process on the same file does not answer it either, and the buttons
of an answer given before a restart still work.
"""

from __future__ import annotations

from rag.state.answers import Answers
from rag.state.claims import Claims
from rag.state.engine import StateDB


class SeenKeys:
    """Remembers keys for `ttl_s` seconds; `claim` is true only for the first caller of a key,
    in any process sharing the store, restarts included.

    Used to drop Slack's retries (same event_id) and the second event Slack sends for one
    message (an `app_mention` and a `message` for the same channel + ts). `namespace` keeps the
    two kinds of key apart in the one store.
    """

    def __init__(self, store: StateDB, namespace: str, ttl_s: float = 3600.0) -> None:
        self.store = Claims(store)
        self.namespace = namespace
        self.ttl_s = ttl_s

    def claim(self, key: str) -> bool:
        return self.store.claim(self.namespace, key, self.ttl_s)


# Answers by id, for the feedback and share buttons (whose value, at most 2,000 characters,
# cannot hold an answer and its citations); the database keeps the newest ones.
AnswerCache = Answers
