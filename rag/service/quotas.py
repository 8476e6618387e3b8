"""Quotas per caller, the same for every face (`[quotas]` in the settings, overridden per
`[[access.tokens]]` or `[[access.users]]` entry): requests per minute and LLM tokens per day.

A caller is its owner key (rag/service/access.py `owner_key`): "api:token:<name>", "api:api" (the
user token, or no token), "ui:<username>", "ui:local", "slack:<user id>". The admin token
("api:admin") is the operator's and is not limited.

- **requests_per_minute**: a sliding window of the last 60 s, in memory, per process (each
  replica counts its own: N replicas let a caller through up to N times the limit). A refused
  request is not counted.
- **llm_tokens_per_day**: prompt + completion tokens of the caller's answers per UTC day, in the
  shared state database (rag/state/quotas.py), so replicas share the count. A request is refused
  once the day's total has reached the limit; the answer that crosses it is still served.

Over a limit `check` raises `QuotaExceededError` (its `retry_after_s`: when a request would be
admitted again) and counts the refusal in `rag_quota_refusals{face, reason}`. The API answers it
429 with `Retry-After`, MCP as a tool error, the UI and Slack as a one-line notice.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rag.core import metrics
from rag.core.errors import QuotaExceededError
from rag.core.settings import AccessToken, AccessUser, Settings
from rag.core.types import Answer, AnswerEvent, StreamEvent
from rag.service.access import owner_key
from rag.state.engine import open_state
from rag.state.quotas import TokenUse

WINDOW_S = 60.0
UNLIMITED = owner_key("api", "admin")


@dataclass(frozen=True)
class Limits:
    """One caller's limits; 0 = off."""

    requests_per_minute: int = 0
    llm_tokens_per_day: int = 0


def _limits_by_owner(settings: Settings) -> dict[str, Limits]:
    """The limits of every token and user that overrides `[quotas]`, by owner key."""
    base = settings.quotas
    found: dict[str, Limits] = {}
    entries: list[tuple[str, AccessToken | AccessUser]] = [
        (owner_key("api", f"token:{t.name}"), t) for t in settings.access.tokens
    ]
    entries += [(owner_key("ui", u.username), u) for u in settings.access.users]
    for owner, entry in entries:
        rpm, tpd = entry.requests_per_minute, entry.llm_tokens_per_day
        found[owner] = Limits(
            base.requests_per_minute if rpm is None else rpm,
            base.llm_tokens_per_day if tpd is None else tpd,
        )
    return found


def seconds_to_next_utc_day(now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(1, math.ceil((tomorrow - now).total_seconds()))


class Quotas:
    """The quotas of one settings object; one per process and face (thread-safe)."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenUse | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.default = Limits(
            settings.quotas.requests_per_minute, settings.quotas.llm_tokens_per_day
        )
        self.by_owner = _limits_by_owner(settings)
        self.clock = clock
        self._tokens = tokens
        self._lock = threading.Lock()
        self._recent: dict[str, deque[float]] = {}

    def limits(self, owner: str) -> Limits:
        if owner == UNLIMITED:
            return Limits()
        return self.by_owner.get(owner, self.default)

    @property
    def counts_tokens(self) -> bool:
        """Whether any caller has a tokens-per-day limit (else the database is never opened)."""
        limits = [self.default, *self.by_owner.values()]
        return any(lim.llm_tokens_per_day for lim in limits)

    def token_use(self) -> TokenUse:
        """The shared count, opened on first use."""
        with self._lock:
            if self._tokens is None:
                self._tokens = TokenUse(open_state(self.settings))
            return self._tokens

    # -- the decision -----------------------------------------------------------------------

    def check(self, owner: str, face: str) -> None:
        """Admit one request of `owner` through `face`, or raise QuotaExceededError (counted in
        `rag_quota_refusals`)."""
        lim = self.limits(owner)
        try:
            if lim.llm_tokens_per_day:
                self._check_tokens(owner, lim.llm_tokens_per_day)
            if lim.requests_per_minute:
                self._admit(owner, lim.requests_per_minute)
        except QuotaExceededError as e:
            metrics.quota_refused(face, e.reason)
            raise

    def _check_tokens(self, owner: str, limit: int) -> None:
        used = self.token_use().used(owner)
        if used >= limit:
            wait = seconds_to_next_utc_day()
            raise QuotaExceededError(
                f"Quota reached: {used:,} of {counted(limit, 'LLM token')} used today (UTC); "
                f"try again in {_duration(wait)}.",
                "llm_tokens_per_day",
                wait,
            )

    def _admit(self, owner: str, limit: int) -> None:
        now = self.clock()
        with self._lock:
            recent = self._recent.setdefault(owner, deque())
            while recent and recent[0] <= now - WINDOW_S:
                recent.popleft()
            if len(recent) >= limit:
                wait = max(1, math.ceil(recent[0] + WINDOW_S - now))
                raise QuotaExceededError(
                    f"Quota reached: at most {counted(limit, 'request')} per minute; "
                    f"try again in {_duration(wait)}.",
                    "requests_per_minute",
                    wait,
                )
            recent.append(now)

    # -- counting tokens --------------------------------------------------------------------

    def record(self, owner: str, answer: Answer) -> None:
        """Count `answer`'s LLM tokens for `owner` (only when its limit counts tokens)."""
        used = answer.tokens_in + answer.tokens_out
        if used and self.limits(owner).llm_tokens_per_day:
            self.token_use().add(owner, used)

    def counting(self, owner: str, events: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
        """`events`, the answer's tokens counted for `owner` as it passes (closed with it, so a
        consumer that stops early stops the pipeline too)."""
        try:
            for event in events:
                if isinstance(event, AnswerEvent):
                    self.record(owner, event.answer)
                yield event
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()


def quota_line(retry_after_s: int) -> str:
    """The notice for a refusal known only by when to try again (a server's 429 without its
    line: rag/service/client.py)."""
    return f"Quota reached; try again in {_duration(retry_after_s)}."


def counted(n: int, noun: str) -> str:
    """`n` `noun`s as a reader says it, for every face's quota line: "1 request", "5 requests",
    "2,000 LLM tokens" (a regular plural: the noun plus "s")."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)  # never "2 h 60 min"
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
