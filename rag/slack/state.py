"""The little state the bot keeps in memory: events already handled, and recent answers.

Both are bounded OrderedDicts behind a lock (cachetools is not a dependency, and this is a few
lines). They live in one process: a restart forgets them, which costs at most a button that
answers "this answer has expired" (the history itself is read from Slack, see conversation.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict

from rag.types import Answer


class SeenKeys:
    """Remembers keys for `ttl_s` seconds; `claim` is true only for the first caller of a key.

    Used to drop Slack's retries (same event_id) and the second event Slack sends for one
    message (an `app_mention` and a `message` for the same channel + ts).
    """

    def __init__(self, ttl_s: float = 3600.0, max_size: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and (
                len(self._seen) >= self.max_size or next(iter(self._seen.values())) < now
            ):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = now + self.ttl_s
            return True


class AnswerCache:
    """The last `max_size` answers by id, for the feedback and share buttons (whose value, at
    most 2,000 characters, cannot hold an answer and its citations)."""

    def __init__(self, max_size: int = 2000) -> None:
        self.max_size = max_size
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, answer: Answer) -> str:
        key = uuid.uuid4().hex
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self.max_size:
                self._answers.popitem(last=False)
        return key

    def get(self, key: str) -> Answer | None:
        with self._lock:
            return self._answers.get(key)
