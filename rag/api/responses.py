"""Text from documents returned as plain text: every JSON body the API sends has its links and
HTML made inert (a link's text is kept, its target dropped; tags removed; "[7]" in a document
becomes "(7)"): rag/core/inert.py, which the UI's JSON export uses too."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from rag.core.inert import inert

__all__ = ["InertJSONResponse", "inert"]


class InertJSONResponse(JSONResponse):
    """The API's JSON responses, text made inert as the API's description promises."""

    def render(self, content: Any) -> bytes:
        return super().render(inert(content))
