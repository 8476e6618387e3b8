"""Question sets: JSONL, one question a line (the format of issue 3).

`id`, `type` (factoid | identify | multi | unanswerable), `question`, `gold_titles`,
`answer_keywords`, `answer` (optional). Unknown fields are ignored, so files written by other tools
(e.g. `rag feedback export`, which adds `needs_review`) load as they are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rag.errors import PathNotFoundError, RagError

QuestionType = Literal["factoid", "identify", "multi", "unanswerable"]


class DatasetError(RagError):
    """A question set that cannot be read: its message names the file and the line."""


class EvalItem(BaseModel):
    """One question of a question set."""

    model_config = ConfigDict(extra="ignore")

    id: str
    type: QuestionType
    question: str = Field(min_length=1)
    gold_titles: list[str] = Field(default_factory=list)
    answer_keywords: list[str] = Field(default_factory=list)
    answer: str | None = ""
    needs_review: bool = False  # exported feedback that a person has not checked yet
    # unanswerable only: off_topic | near_miss | near_domain | in_passing (eval/README.md)
    subtype: str = ""

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def load_dataset(path: Path) -> list[EvalItem]:
    """Every question of a JSONL file, in order; a clear error for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise PathNotFoundError(f"Question set not found: {path}")
    items: list[EvalItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = EvalItem.model_validate(json.loads(line))
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
        except ValidationError as e:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'line'}: {err['msg']}"
                for err in e.errors()
            )
            raise DatasetError(f"{path}:{lineno}: {problems}") from None
        if item.id in seen:
            raise DatasetError(f"{path}:{lineno}: duplicate id {item.id!r}")
        if item.type == "unanswerable" and item.gold_titles:
            raise DatasetError(f"{path}:{lineno}: an unanswerable question has gold titles")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: no questions")
    return items
