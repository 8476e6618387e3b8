"""Answers kept by a random key, for the Slack buttons whose value (at most 2,000 characters)
cannot hold an answer and its citations; in the shared state database (rag/state/engine.py), so
the buttons of an answer given before a restart, or by another bot process, still work."""

from __future__ import annotations

import logging
import time
import uuid

from pydantic import ValidationError
from sqlalchemy import select

from rag.core.types import Answer
from rag.state.engine import StateDB, answers, new_id

log = logging.getLogger(__name__)


class Answers:
    """The newest `max_answers` answers by key, over a `StateDB`."""

    def __init__(self, db: StateDB, max_answers: int = 10_000) -> None:
        self.db = db
        self.max_answers = max_answers

    def put(self, answer: Answer) -> str:
        """Keep `answer` under a new random key; only the newest `max_answers` are kept."""
        key = uuid.uuid4().hex
        row = {"key": key, "created": time.time(), "answer": answer.model_dump_json()}
        with self.db.tx() as conn:
            newest = new_id(conn.execute(answers.insert().values(**row)))
        self.db.trim(answers, answers.c.id <= newest - self.max_answers)
        return key

    def get(self, key: str) -> Answer | None:
        """The answer kept under `key`; None when unknown, evicted, or unreadable (written by a
        version whose Answer differed), which the caller reports as expired."""
        with self.db.tx(write=False) as conn:
            text = conn.execute(select(answers.c.answer).where(answers.c.key == key)).scalar()
        if text is None:
            return None
        try:
            return Answer.model_validate_json(text)
        except ValidationError:
            log.warning("stored answer %s is unreadable; treating it as expired", key)
            return None
