"""LLM tokens used per owner and UTC day, in the shared state database (rag/state/engine.py), so
every replica counts the same tokens against `quotas.llm_tokens_per_day` (rag/service/quotas.py).
Days older than `keep_days` are trimmed as new ones are written."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from rag.state.engine import StateDB, llm_token_use

_MAX_OWNER_CHARS = 512


def utc_day(now: datetime | None = None) -> str:
    """Today in UTC as YYYY-MM-DD (the key a day's tokens are counted under)."""
    return (now or datetime.now(UTC)).date().isoformat()


class TokenUse:
    """Tokens per owner and day over a `StateDB`; each addition is one atomic upsert."""

    def __init__(self, db: StateDB, keep_days: int = 7) -> None:
        self.db = db
        self.keep_days = keep_days

    def add(self, owner: str, tokens: int, day: str | None = None) -> int:
        """Count `tokens` more for `owner` on `day` (default today); the day's new total."""
        owner, day = owner[:_MAX_OWNER_CHARS], day or utc_day()
        stmt = self.db.insert(llm_token_use).values(owner=owner, day=day, tokens=tokens)
        stmt = stmt.on_conflict_do_update(
            index_elements=[llm_token_use.c.owner, llm_token_use.c.day],
            set_={"tokens": llm_token_use.c.tokens + stmt.excluded.tokens},
        )
        with self.db.tx() as conn:
            conn.execute(stmt)
        total = self.used(owner, day)
        oldest = (date.fromisoformat(day) - timedelta(days=self.keep_days)).isoformat()
        self.db.trim(llm_token_use, llm_token_use.c.day < oldest)
        return total

    def used(self, owner: str, day: str | None = None) -> int:
        """`owner`'s tokens on `day` (default today); 0 if none."""
        c = llm_token_use.c
        query = select(c.tokens).where(
            c.owner == owner[:_MAX_OWNER_CHARS], c.day == (day or utc_day())
        )
        with self.db.tx(write=False) as conn:
            found = conn.execute(query).scalar_one_or_none()
        return int(found or 0)
