"""Thumbs up / down on answers, from the UI and the Slack bot, kept in the shared state database
(rag/state/engine.py: the SQLite file `state_db`, or PostgreSQL when `state_url` is set).

The ratings can be exported as an eval question set (the JSONL format of `eval/`), so that what
users mark up or down becomes a regression test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from rag.core import metrics
from rag.core.settings import Settings
from rag.core.types import Answer
from rag.state.engine import SQLiteStateDB, StateDB, feedback, new_id, open_state


class FeedbackStore:
    """The ratings, over a state database: `FeedbackStore(path)` for a SQLite file,
    `FeedbackStore.from_settings(settings)` for whichever database the settings name."""

    def __init__(self, path: Path | str, *, store: StateDB | None = None) -> None:
        """`path` is the SQLite file (used when `store` is not given)."""
        self.path = Path(path)
        self.store: StateDB = store if store is not None else SQLiteStateDB(self.path)

    @classmethod
    def from_settings(cls, settings: Settings, store: StateDB | None = None) -> FeedbackStore:
        """The feedback store of `settings` (`store`: an already opened `open_state(settings)`
        to share, instead of opening another)."""
        return cls(settings.state_db, store=store if store is not None else open_state(settings))

    def record(
        self,
        answer: Answer,
        rating: int,
        channel: str,
        user: str | None = None,
        comment: str | None = None,
    ) -> int:
        """Store one rating (+1 or -1) of an answer; returns the row id."""
        if rating not in (1, -1):
            raise ValueError("rating must be +1 (helpful) or -1 (not helpful)")
        row = {
            "created": time.time(),
            "channel": channel,
            "rating": rating,
            "question": answer.question,
            "answer": answer.text,
            "abstained": int(answer.abstained),
            "citations": json.dumps([c.model_dump() for c in answer.citations]),
            "user": user,
            "comment": comment,
        }
        with self.store.tx() as conn:
            row_id = new_id(conn.execute(feedback.insert().values(**row)))
        metrics.feedback(channel, rating)
        return row_id

    def counts(self) -> list[tuple[str, int, int]]:
        """(channel, rating, how many) over every rating stored (for /metrics)."""
        query = select(feedback.c.channel, feedback.c.rating, func.count()).group_by(
            feedback.c.channel, feedback.c.rating
        )
        with self.store.tx(write=False) as conn:
            return [(str(c), int(r), int(n)) for c, r, n in conn.execute(query).all()]

    def rows(self) -> list[dict[str, Any]]:
        """Every rating, oldest first (id, created, channel, rating, question, answer,
        abstained, citations, user, comment): `citations` decoded and `abstained` a bool."""
        with self.store.tx(write=False) as conn:
            rows = conn.execute(select(feedback).order_by(feedback.c.id)).mappings().all()
        out = []
        for r in rows:
            d = dict(r)
            d["citations"] = json.loads(d["citations"])
            d["abstained"] = bool(d["abstained"])
            out.append(d)
        return out

    def export_eval(self, path: Path) -> int:
        """Write the rated answers as an eval question set; returns the number of questions.

        A helpful answer's cited titles become its gold titles; a helpful abstention becomes an
        `unanswerable` question. Unhelpful answers are exported with empty gold titles and
        `needs_review: true`, for a person to fill in.
        """
        items = []
        for r in self.rows():
            titles = sorted({c["title"] for c in r["citations"]})
            helpful = r["rating"] > 0
            if helpful and r["abstained"]:
                qtype, gold = "unanswerable", []
            else:
                qtype, gold = ("identify" if len(titles) <= 1 else "multi"), titles
            item: dict[str, Any] = {
                "id": f"feedback-{r['id']}",
                "type": qtype,
                "question": r["question"],
                "gold_titles": gold if helpful else [],
                "answer_keywords": [],
                "answer": r["answer"],
            }
            if not helpful:
                item["needs_review"] = True
            items.append(item)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for item in items:
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
        return len(items)


def lazy_counts(settings: Settings) -> Callable[[], list[tuple[str, int, int]]]:
    """The stored ratings' counts for /metrics; the store is opened on the first scrape, as the
    faces open it on first use."""
    store: list[FeedbackStore] = []

    def counts() -> list[tuple[str, int, int]]:
        if not store:
            store.append(FeedbackStore.from_settings(settings))
        return store[0].counts()

    return counts
