"""Made-up papers for tests of answering: a passage as retrieval returns it, without an index."""

from __future__ import annotations

from rag.core.types import Passage


def passage(title: str, text: str, n: int, cosine: float) -> Passage:
    """The paper `title` as the `n`-th retrieved passage, found at this cosine."""
    return Passage(
        text=text,
        score=cosine,
        title=title,
        source="x.txt",
        doc_id=title,
        chunk_id=title,
        number=n,
        vector_score=cosine,
    )
