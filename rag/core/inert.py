"""Text from documents made inert in a JSON body: its links and HTML (a link's text is kept, its
target dropped; tags removed; "[7]" in a document becomes "(7)"), identifiers and paths kept.
Every JSON body the API sends goes through it (rag/api/responses.py), and so does the UI's JSON
export of a conversation (rag/service/export.py), so that both give the same JSON."""

from __future__ import annotations

from typing import Any

from rag.core.text import neutralise

# Values that are identifiers, paths or protocol words, not text read from a document
_VERBATIM_KEYS = frozenset(
    {
        "id",
        "doc_id",
        "object",
        "model",
        "role",
        "finish_reason",
        "type",
        "code",
        "source",
        "path",
        "url",
        "conversation_id",
        "collection",
        "sha256",
        "stored",
        "name",
    }
)


def inert(value: Any, key: str | None = None) -> Any:
    """Every text value of a JSON body with its links and HTML made inert (rag/core/text.py
    `neutralise`): titles, passages, snippets, labels, answers and error messages all come from
    documents a user uploaded; identifiers and paths are kept as they are."""
    if isinstance(value, str):
        return value if key in _VERBATIM_KEYS else neutralise(value)
    if isinstance(value, dict):
        return {k: inert(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [inert(v, key) for v in value]
    return value
