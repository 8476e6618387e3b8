"""Question sets: JSONL, one question a line (the format of issue 3).

`id`, `type` (factoid | identify | multi | list | comparison | how | followup | unanswerable),
`question`, `gold_titles`, `answer_keywords`, `answer` (optional), `history` (followup: the earlier
questions of the conversation). Unknown fields are ignored, so files written by other tools
(e.g. `rag feedback export`, which adds `needs_review`) load as they are.

Splits: `tune` (eval/dev.jsonl, the questions answering was tuned on before the split existed, and
eval/tune.jsonl) and `test` (eval/test.jsonl, held out: never read while changing answering).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rag.core.errors import PathNotFoundError, RagError

QuestionType = Literal[
    "factoid", "identify", "multi", "list", "comparison", "how", "followup", "unanswerable"
]
SPLITS: dict[str, tuple[str, ...]] = {
    "tune": ("dev.jsonl", "tune.jsonl"),
    "test": ("test.jsonl",),
}


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
    # followup only: the earlier questions of the conversation, asked (and answered) first
    history: list[str] = Field(default_factory=list)
    shift: bool = False  # followup: a new subject after the history, not a reference back
    split: str = ""  # tune | test, from the file it was read from (see SPLITS)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"


def split_of(path: Path) -> str:
    """The split a question file belongs to ("" for a file outside the shipped sets)."""
    return next((name for name, files in SPLITS.items() if Path(path).name in files), "")


def load_split(eval_dir: Path, split: str) -> list[EvalItem]:
    """Every question of a split ("tune", "test" or "all"), each item labelled with its split."""
    names = [n for s, files in SPLITS.items() if split in (s, "all") for n in files]
    if not names:
        raise DatasetError(f"unknown split {split!r}: tune, test or all")
    items: list[EvalItem] = []
    for name in names:
        if (Path(eval_dir) / name).is_file():
            items += load_dataset(Path(eval_dir) / name)
    if not items:
        raise DatasetError(f"no question files for split {split!r} in {eval_dir}")
    return items


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
        item.split = item.split or split_of(path)
        items.append(item)
    if not items:
        raise DatasetError(f"{path}: no questions")
    return items
