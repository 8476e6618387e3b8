"""Text from documents returned as plain text: every JSON body the API sends has its links and
HTML made inert (a link's text is kept, its target dropped; tags removed; "[7]" in a document
becomes "(7)")."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

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


class InertJSONResponse(JSONResponse):
    """The API's JSON responses, text made inert as the API's description promises."""

    def render(self, content: Any) -> bytes:
        return super().render(inert(content))
