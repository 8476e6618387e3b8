"""The HTTP API (`rag serve`): OpenAI-compatible chat completions with verified citations.

Endpoints (all under an optional bearer token, except `/health`):

- `POST /v1/chat/completions` — OpenAI's chat format. The last `user` message is the question;
  earlier user/assistant turns are the history. Extension fields in the response (and in the
  final chunk when `stream: true`): `citations` (list of Citation), `abstained` (bool) and
  `answer` (the full checked Answer, as the Python API returns it). When streaming, the content
  deltas are checked text only (never the LLM's draft): their concatenation is `answer.text`;
  a first chunk carries the retrieved passages (`sources`) as soon as retrieval is done.
  Text from documents is returned as plain text: links and HTML in documents are neutralised
  (a link's text is kept, its target dropped; tags removed; "[7]" in a document becomes "(7)").
- `POST /v1/retrieve`, `POST /v1/index`, `GET /v1/status`, `GET /v1/models`, `GET /health`.
- Saved conversations: `conversation_id` on a chat completion (`"new"` starts one; the response
  names it) stores the question with its checked answer; `GET /v1/conversations`,
  `GET|PATCH|DELETE /v1/conversations/{id}`. One owner per token: "api:api" for the user token
  (or no token), "api:admin" for the admin token, "api:token:<name>" for a named one; nobody sees
  another owner's conversations, and no UI user shares an owner with a token.
- Collections: the OpenAI `model` names the collection to ask (absent or "rag": the default
  collection); `GET /v1/models` lists the collections the caller's token may use;
  `/v1/retrieve`, `/v1/index` take `collection`, `/v1/status` and `/v1/documents` a `?collection=`
  query. A collection that does not exist and one the token has no grant for get the same 404
  (`CollectionNotFoundError`), so a token never learns of a collection it may not use
  (rag/service/access.py).
- Documents (admin token): `POST /v1/documents` (multipart, field `files`, one or more .pdf .md
  .txt .html files; stored under the uploads folder and indexed), `GET /v1/documents`,
  `DELETE /v1/documents/{id}` (rag/ingest/library.py).
- Quotas (`[quotas]`, rag/service/quotas.py): requests per minute and LLM tokens per day per
  token, on chat, retrieve and sources (and MCP's tools); over one, 429 with `Retry-After` and an
  OpenAI-style `rate_limit_exceeded` body.
- Limits, applied while a request arrives: a body over `security.max_body_bytes` (an upload's:
  over `max_request_bytes`) is answered 413 as soon as its Content-Length or its bytes so far
  pass it; a request head over `security.max_header_bytes` gets a 400 (`rag serve` runs uvicorn
  with h11; `uvicorn --factory` users pass `--http h11 --h11-max-incomplete-event-size`).

Errors are JSON in OpenAI's shape, `{"error": {"message", "type", "code"}}`, with the status
code of the failure (400 bad input, 401 token, 503 LLM or store unreachable, ...). The API only
translates HTTP onto `Assistant`; it holds no answering logic.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, FastAPI

from rag import _offline  # noqa: F401
from rag.api.auth import caller, require_admin, within_quota
from rag.api.deps import default_status, init_state
from rag.api.errors import install_error_handlers
from rag.api.responses import InertJSONResponse
from rag.api.routers import chat, conversations, documents, index, ops, retrieve
from rag.core import metrics
from rag.core.settings import Settings
from rag.core.types import AssistantLike
from rag.mcp import http as mcp_http
from rag.service import observe
from rag.service.collections import Collections, pool_of


def create_app(assistant: AssistantLike | Collections, settings: Settings) -> FastAPI:
    """The FastAPI app over a pool of collections (rag/service/collections.py; an assistant is
    served as the default collection of a pool). Sync handlers: FastAPI runs them in its
    threadpool. The pool, the settings, the grants and the conversation store live on
    `app.state` (rag/api/deps.py); the routes are in rag/api/routers/."""
    app = FastAPI(
        title="rag-assistant API",
        version="1",
        description=__doc__,
        default_response_class=InertJSONResponse,
        # Counted as it arrives (Starlette): a declared or streamed body past the limit is
        # answered 413 at once, not after it was all received and spooled.
        max_body_size=settings.security.max_body_bytes,
    )
    install_error_handlers(app)
    pool = pool_of(settings, assistant)
    init_state(app, settings, pool)
    # request ids, HTTP counts and /metrics (rag/core/metrics.py; who may scrape: scrape_allowed)
    app.add_middleware(metrics.RequestMetrics, face="api")
    if settings.telemetry.metrics:
        observe.watch(settings, partial(default_status, pool))
        tokens_required = app.state.access.tokens_required
        app.add_route("/metrics", metrics.metrics_endpoint(settings, tokens_required))
    app.include_router(ops.public)  # /health: no token
    # any caller the grants know (rag/service/access.py)
    v1 = APIRouter(dependencies=[Depends(caller)])
    for router in (chat.router, retrieve.router):  # the caller's quota (rag/service/quotas.py)
        v1.include_router(router, dependencies=[Depends(within_quota)])
    for router in (index.router, ops.router, conversations.router):
        v1.include_router(router)
    # the admin token only
    admin = APIRouter(dependencies=[Depends(require_admin)])
    admin.include_router(index.admin)
    admin.include_router(documents.router(settings.security))
    app.include_router(v1)
    # a token or a signed link, each checked by the route (rag/api/routers/retrieve.py: Reader)
    app.include_router(retrieve.sources)
    app.include_router(admin)
    # /mcp: MCP's streamable HTTP, the same tokens and quotas
    mcp_http.mount(app, pool, settings, app.state.quotas)
    return app
