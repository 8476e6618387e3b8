"""The HTTP API (`rag serve`): OpenAI-compatible chat completions with verified citations.

What it serves is described in rag/api/app.py (also the OpenAPI description). Modules: `app`
(`create_app`), `server` (`serve`, `app_from_env`), `routers/` (one per area), `auth` (bearer
tokens as dependencies), `deps` (the state on `app.state`), `schemas`, `errors`, `openai` (the
chat format and SSE), `responses` (inert JSON).
"""

from __future__ import annotations

from rag.api.app import create_app
from rag.api.errors import error_body, status_for
from rag.api.openai import completion, split_messages, sse_chunks
from rag.api.responses import InertJSONResponse, inert
from rag.api.schemas import MODEL_ID
from rag.api.server import app_from_env, serve

__all__ = [
    "MODEL_ID",
    "InertJSONResponse",
    "app_from_env",
    "completion",
    "create_app",
    "error_body",
    "inert",
    "serve",
    "split_messages",
    "sse_chunks",
    "status_for",
]
