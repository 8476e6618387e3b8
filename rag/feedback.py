"""Thumbs up / down on answers, from the UI and the Slack bot, kept in one SQLite file.

The store can be exported as an eval question set (the JSONL format of `eval/`), so that what
users mark up or down becomes a regression test.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from rag.types import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    channel TEXT NOT NULL,          -- 'ui', 'slack', 'api'
    rating INTEGER NOT NULL,        -- +1 helpful, -1 not helpful
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    citations TEXT NOT NULL,        -- JSON list of Citation
    user TEXT,
    comment TEXT
)
"""


class FeedbackStore:
    """A small thread-safe SQLite table of ratings."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

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
        citations = json.dumps([c.model_dump() for c in answer.citations])
        with self._lock, self._connect() as db:
            cur = db.execute(
                "INSERT INTO feedback (created, channel, rating, question, answer, abstained,"
                " citations, user, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    channel,
                    rating,
                    answer.question,
                    answer.text,
                    int(answer.abstained),
                    citations,
                    user,
                    comment,
                ),
            )
            return int(cur.lastrowid or 0)

    def rows(self) -> list[dict[str, Any]]:
        with self._lock, self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM feedback ORDER BY id").fetchall()
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
