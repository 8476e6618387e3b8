"""Splitting documents into chunks, in bounded time whatever the file.

llama-index's `SentenceSplitter` hands any paragraph longer than a chunk to nltk's sentence
tokenizer, whose regular expression gives up after 5 s on a few megabytes without paragraph
breaks (a 30 MB .txt raised TimeoutError and sank the whole build). This subclass cuts long texts
into segments at line or word boundaries first, splits each segment with the library's own
logic, and stops a document that still takes longer than its time limit, so the indexer can
skip that one file with the reason and index the rest.
"""

from __future__ import annotations

import time
from typing import Any

from llama_index.core.node_parser import SentenceSplitter
from pydantic import Field

SEGMENT_CHARS = 50_000


class SplitTimeoutError(TimeoutError):
    """Splitting one document took longer than its limit."""


class BoundedSentenceSplitter(SentenceSplitter):
    """`SentenceSplitter` with long texts cut into segments and a time limit per document."""

    segment_chars: int = Field(default=SEGMENT_CHARS, gt=1000)
    time_limit_s: float | None = Field(default=None, description="Per document; None: none.")

    def __init__(
        self, *, time_limit_s: float | None = None, segment_chars: int = SEGMENT_CHARS, **kw: Any
    ) -> None:
        super().__init__(**kw)  # the parent's __init__ names its own fields only
        self.time_limit_s = time_limit_s
        self.segment_chars = segment_chars

    def _split_text(self, text: str, chunk_size: int) -> list[str]:
        if len(text) <= self.segment_chars and self.time_limit_s is None:
            return super()._split_text(text, chunk_size)
        start = time.monotonic()
        chunks: list[str] = []
        for segment in segments(text, self.segment_chars):
            chunks.extend(super()._split_text(segment, chunk_size))
            elapsed = time.monotonic() - start
            if self.time_limit_s is not None and elapsed > self.time_limit_s:
                raise SplitTimeoutError(
                    f"splitting took over {self.time_limit_s:g} s ({len(text):,} characters; "
                    "chunking.split_time_limit_s)"
                )
        return chunks


def segments(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size` characters, cut at a line break, else at a space,
    else hard; joined back they give the text again."""
    pieces: list[str] = []
    start = 0
    while len(text) - start > size:
        end = start + size
        cut = text.rfind("\n", start + size // 2, end)
        if cut < 0:
            cut = text.rfind(" ", start + size // 2, end)
        cut = end if cut < 0 else cut + 1
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces
