"""Thumbs up / down on answers, from the UI and the Slack bot, kept in the shared state store
(rag/state/sql.py: the SQLite file `state_db`, or PostgreSQL when `state_url` is set).

The ratings can be exported as an eval question set (the JSONL format of `eval/`), so that what
users mark up or down becomes a regression test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.core import metrics
from rag.core.settings import Settings
from rag.core.types import Answer
from rag.state.sql import SQLiteStateStore, StateStore, open_state


class FeedbackStore:
    """The ratings, over a state store: `FeedbackStore(path)` for a SQLite file,
    `FeedbackStore.from_settings(settings)` for whichever store the settings name."""

    def __init__(self, path: Path | str, *, store: StateStore | None = None) -> None:
        """`path` is the SQLite file (used when `store` is not given)."""
        self.path = Path(path)
        self.store: StateStore = store if store is not None else SQLiteStateStore(self.path)

    @classmethod
    def from_settings(cls, settings: Settings, store: StateStore | None = None) -> FeedbackStore:
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
        row = self.store.record_feedback(answer, rating, channel, user=user, comment=comment)
        metrics.feedback(channel, rating)
        return row

    def counts(self) -> list[tuple[str, int, int]]:
        """(channel, rating, how many) over every rating stored."""
        return self.store.feedback_counts()

    def rows(self) -> list[dict[str, Any]]:
        """Every rating, oldest first (id, created, channel, rating, question, answer,
        abstained, citations, user, comment)."""
        return self.store.feedback_rows()

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
