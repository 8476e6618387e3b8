"""Prompt templates, kept as files in `prompts/` so they can be read and changed without code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

NAMES = (
    "system",
    "answer",
    "condense",
    "abstain",
    "related_reading",
    "not_stated",
    "not_stated_subject",
    "not_mentioned",
    "write_system",
    "write",
    "write_shape_single",
    "write_shape_list",
    "write_shape_comparison",
    "write_shape_how",
)


@lru_cache(maxsize=32)
def _read(folder: str, name: str) -> str:
    path = Path(folder) / f"{name}.txt"
    if not path.exists():
        raise FileNotFoundError(f"Prompt template missing: {path}")
    return path.read_text(encoding="utf-8").strip()


class Prompts:
    def __init__(self, folder: Path) -> None:
        self.folder = str(folder)

    def get(self, name: str, **values: str) -> str:
        template = _read(self.folder, name)
        return template.format(**values) if values else template
