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
- Limits, applied while a request arrives: a body over `security.max_body_bytes` (an upload's:
  over `max_request_bytes`) is answered 413 as soon as its Content-Length or its bytes so far
  pass it; a request head over `security.max_header_bytes` gets a 400 (`rag serve` runs uvicorn
  with h11; `uvicorn --factory` users pass `--http h11 --h11-max-incomplete-event-size`).

Errors are JSON in OpenAI's shape, `{"error": {"message", "type", "code"}}`, with the status
code of the failure (400 bad input, 401 token, 503 LLM or store unreachable, ...). The API only
translates HTTP onto `Assistant`; it holds no answering logic.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, Literal

import httpx
from fastapi import APIRouter, Depends, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, format_sse_event
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from starlette.exceptions import HTTPException

from rag import _offline  # noqa: F401
from rag.core import logs, metrics, tracing
from rag.core.errors import (
    EmbeddingMismatchError,
    EmptyQuestionError,
    IndexBusyError,
    LLMUnavailableError,
    NotAuthorisedError,
    NotFoundError,
    PathNotAllowedError,
    RagError,
    RequestTooLargeError,
    StoreError,
)
from rag.core.network import check_exposure, server_options, upload_limit
from rag.core.settings import Settings
from rag.core.text import neutralise
from rag.core.types import (
    Answer,
    AnswerEvent,
    AssistantLike,
    Citation,
    Conversation,
    ConversationSummary,
    IndexReport,
    IndexStatus,
    Passage,
    SourcesEvent,
    StreamEvent,
    TokenEvent,
)
from rag.ingest.library import DocumentInfo, Library, UploadResult
from rag.service import observe
from rag.service.access import ALL, Access, Principal, check_admin, owner_key
from rag.service.collections import Collections, pool_of
from rag.state.conversations import Conversations, history_of

log = logging.getLogger("rag.api")

MODEL_ID = "rag"


# --- request and response bodies (they also make the OpenAPI document) ----------------------


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str = "text"
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """OpenAI's request body; sampling parameters are accepted and ignored (settings decide)."""

    model_config = ConfigDict(extra="allow")
    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(None, ge=1, le=50, description="Extension: passages to retrieve.")
    stream_draft: bool = Field(
        False,
        description="Deprecated and ignored: the stream never carries an unchecked draft.",
    )
    conversation_id: str | None = Field(
        None,
        max_length=100,
        description='Extension: save the question and its answer in this conversation ("new" '
        "starts one; the response names it). Without earlier messages, the conversation's "
        "saved turns are the history.",
    )


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    """OpenAI's `chat.completion`, plus the extension fields `citations`, `abstained`, `answer`."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    citations: list[Citation] = Field(description="Extension: the checked citations.")
    abstained: bool = Field(description="Extension: true when the collection lacks the answer.")
    answer: Answer = Field(description="Extension: the full checked answer.")
    conversation_id: str | None = Field(
        None, description="Extension: the conversation the turn was saved in, if any."
    )


class RetrieveRequest(BaseModel):
    question: str
    collection: str | None = Field(None, description="The collection; default: the default.")
    k: int = Field(5, ge=1, le=100)
    mode: Literal["hybrid", "vector", "bm25"] | None = None


class RetrieveResponse(BaseModel):
    passages: list[Passage]


class IndexRequest(BaseModel):
    paths: list[str] | None = Field(
        None,
        max_length=1000,
        description="Files or folders under the server's indexing roots, absolute or relative "
        "to a root; default: the configured corpus.",
    )
    collection: str | None = Field(None, description="The collection; default: the default.")


class RenameRequest(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class Deleted(BaseModel):
    deleted: str


class DocumentList(BaseModel):
    documents: list[DocumentInfo]


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "rag-assistant"
    llm: str = Field(description="Extension: the LLM behind the assistant.")
    description: str = Field("", description="Extension: the collection's description.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    documents: int
    chunks: int


# --- errors -------------------------------------------------------------------------------


def status_for(error: RagError) -> int:
    """The HTTP status of an expected failure: the caller's fault (4xx) or a dependency's (503)."""
    if isinstance(error, EmbeddingMismatchError):
        return 409
    if isinstance(error, NotAuthorisedError | PathNotAllowedError):
        return 403
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, RequestTooLargeError):
        return 413
    if isinstance(error, LLMUnavailableError | StoreError | IndexBusyError):
        return 503
    return 400


def error_body(message: str, type_: str, code: int) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": code}}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RagError)
    async def _rag_error(_: Request, e: RagError) -> JSONResponse:
        code = status_for(e)
        return JSONResponse(error_body(str(e), type(e).__name__, code), status_code=code)

    @app.exception_handler(HTTPException)
    async def _http_error(_: Request, e: HTTPException) -> JSONResponse:
        return JSONResponse(
            error_body(str(e.detail), "http_error", e.status_code),
            status_code=e.status_code,
            headers=e.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        parts = [
            f"{'.'.join(str(x) for x in err.get('loc', ()))}: {err.get('msg')}"
            for err in e.errors()
        ]
        body = error_body("invalid request: " + "; ".join(parts), "invalid_request_error", 422)
        return JSONResponse(body, status_code=422)

    @app.exception_handler(httpx.TransportError)
    async def _backend_down(_: Request, e: httpx.TransportError) -> JSONResponse:
        # The LLM client already raises LLMUnavailableError, so a bare transport error here comes
        # from the Chroma server's HTTP client, which the store does not wrap after start-up.
        message = f"A backing service (the Chroma server?) cannot be reached: {e}"
        return JSONResponse(error_body(message, "StoreError", 503), status_code=503)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, e: Exception) -> JSONResponse:
        log.exception("unexpected error")
        body = error_body(f"internal error: {type(e).__name__}", "internal_error", 500)
        return JSONResponse(body, status_code=500)


# --- chat translation ---------------------------------------------------------------------


def split_messages(messages: Sequence[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last user message) and the history (earlier user→assistant pairs)."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise EmptyQuestionError("The last message must come from the user: it is the question.")
    history: list[tuple[str, str]] = []
    pending: str | None = None
    for m in turns[:-1]:
        if m.role == "user":
            pending = m.text()
        elif pending is not None:
            history.append((pending, m.text()))
            pending = None
    return turns[-1].text(), history


def completion(answer: Answer, model: str, conversation_id: str | None = None) -> ChatCompletion:
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        model=model,
        choices=[Choice(message=ResponseMessage(content=answer.text))],
        usage=_usage(answer),
        citations=answer.citations,
        abstained=answer.abstained,
        answer=answer,
        conversation_id=conversation_id,
    )


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
    """The API's JSON responses, text made inert as the module docstring promises."""

    def render(self, content: Any) -> bytes:
        return super().render(inert(content))


def _usage(answer: Answer) -> Usage:
    return Usage(
        prompt_tokens=answer.tokens_in,
        completion_tokens=answer.tokens_out,
        total_tokens=answer.tokens_in + answer.tokens_out,
    )


def sse_chunks(
    events: Iterator[StreamEvent],
    model: str,
    on_answer: Callable[[Answer], dict[str, Any]] | None = None,
) -> Iterator[bytes]:
    """OpenAI's `chat.completion.chunk` events, the checked answer on the last one, then [DONE].
    `on_answer` (saving the turn) gives extra fields for the last chunk.

    A failure after the stream has started can no longer change the status code; it is sent as
    an `{"error": ...}` event, which the `openai` client raises as an APIError.
    """
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
            **extra,
        }
        return format_sse_event(data_str=json.dumps(inert(body)))

    yield chunk({"role": "assistant", "content": ""})
    sent = ""
    try:
        for ev in events:
            if isinstance(ev, SourcesEvent):
                yield chunk({}, sources=[p.model_dump(mode="json") for p in ev.passages])
            elif isinstance(ev, TokenEvent) and ev.text:
                sent += ev.text
                yield chunk({"content": ev.text})
            elif isinstance(ev, AnswerEvent):
                a = ev.answer
                if a.text.startswith(sent) and a.text != sent:
                    yield chunk({"content": a.text[len(sent) :]})
                extra = on_answer(a) if on_answer is not None else {}
                yield chunk(
                    {},
                    "stop",
                    usage=_usage(a).model_dump(),
                    citations=[c.model_dump() for c in a.citations],
                    abstained=a.abstained,
                    answer=a.model_dump(mode="json"),
                    **extra,
                )
    except RagError as e:
        body = error_body(str(e), type(e).__name__, status_for(e))
        yield format_sse_event(data_str=json.dumps(body))
        return
    except Exception as e:  # the client must hear of it; the log gets the trace
        log.exception("stream failed")
        body = error_body(f"internal error: {type(e).__name__}", "internal_error", 500)
        yield format_sse_event(data_str=json.dumps(body))
        return
    yield format_sse_event(data_str="[DONE]")


# --- the app ------------------------------------------------------------------------------


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


def _matches(given: str, secret: str) -> bool:
    return bool(secret) and secrets.compare_digest(given.encode(), secret.encode())


def _auth_dependency(settings: Settings) -> Any:
    """Chat, retrieval and status: the caller's principal (rag/service/access.py), from the user
    token, a named token of `access.tokens` or the admin token; 401 when tokens are required and the
    request has none of them. Its owner names whose conversations it sees ("admin", "api" for the
    user token or when no token is set, "token:<name>")."""
    bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <RAG_API__TOKEN>`")
    access = Access(settings)

    def principal(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
        found = access.by_token(creds.credentials if creds else "")
        if found is None:
            raise HTTPException(
                401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
        return found

    return principal


def _admin_dependency(settings: Settings) -> Any:
    """Indexing: the admin token only; with none configured, indexing from afar is off."""
    bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <admin token>`")
    admin = _secret(settings.security.admin_token)

    def check(creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        check_admin(creds.credentials if creds else "", admin)

    return check


def create_app(assistant: AssistantLike | Collections, settings: Settings) -> FastAPI:
    """The FastAPI app over a pool of collections (rag/service/collections.py; an assistant is
    served as the default collection of a pool). Sync handlers: FastAPI runs them in its
    threadpool."""
    app = FastAPI(
        title="rag-assistant API",
        version="1",
        description=__doc__,
        default_response_class=InertJSONResponse,
        # Counted as it arrives (Starlette): a declared or streamed body past the limit is
        # answered 413 at once, not after it was all received and spooled.
        max_body_size=settings.security.max_body_bytes,
    )
    _install_error_handlers(app)
    caller = _auth_dependency(settings)
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(caller)])
    admin = APIRouter(prefix="/v1", dependencies=[Depends(_admin_dependency(settings))])
    pool = pool_of(settings, assistant)
    access = Access(settings)
    # request ids, HTTP counts and /metrics (rag/core/metrics.py; who may scrape: scrape_allowed)
    app.add_middleware(metrics.RequestMetrics, face="api")
    if settings.telemetry.metrics:
        observe.watch(settings, lambda: pool.get(None).status())
        app.add_route("/metrics", metrics.metrics_endpoint(settings, access.tokens_required))
    root = Principal(owner_key("api", "admin"), frozenset({ALL}), admin=True)  # admin router
    saved: list[Conversations] = []

    def collection(principal: Principal, requested: str | None) -> str:
        """The collection a request may use (`model` "rag", the name clients used before
        collections: the default one); the same 404 for a missing and a forbidden one."""
        return access.resolve(principal, None if requested == MODEL_ID else requested, pool)

    def assistant_for(principal: Principal, requested: str | None) -> Any:
        return pool.get(collection(principal, requested))

    def library_for(requested: str | None) -> Library:
        return pool.library(collection(root, requested))  # type: ignore[no-any-return]

    def conversations() -> Conversations:
        """The conversation store, opened on first use (a state database problem is then a
        clear error on that request, not a server that does not start)."""
        if not saved:
            saved.append(Conversations.from_settings(settings))
        return saved[0]

    @app.get("/health", response_model=Health, tags=["ops"])
    def health() -> Health:
        """Liveness and the size of the index (no token needed; reveals no content)."""
        s = pool.get(None).status()  # the default collection's
        return Health(documents=s.documents, chunks=s.chunks)

    @v1.post(
        "/chat/completions",
        response_model=ChatCompletion,
        tags=["chat"],
        responses={
            200: {
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
                "description": "JSON, or with `stream: true` SSE `chat.completion.chunk` events; "
                "the last chunk carries `citations`, `abstained` and `answer`, then `[DONE]`.",
            }
        },
    )
    def chat_completions(req: ChatCompletionRequest, who: Principal = Depends(caller)) -> Any:
        """Answer the last user message with verified citations (OpenAI-compatible); `model`
        names the collection."""
        question, history = split_messages(req.messages)
        name = collection(who, req.model)  # 404 before any work
        owner, allowed = who.owner, allowed_of(who)
        conv_id = req.conversation_id if req.conversation_id not in (None, "", "new") else None
        if conv_id is not None:
            saved = conversations().get(conv_id, owner, allowed)  # 404 before any work
            history = history or history_of(saved)

        def save(answer: Answer) -> dict[str, Any]:
            if req.conversation_id is None:
                return {}
            conv = conversations().record(conv_id, owner, question, answer, collection=name)
            return {"conversation_id": conv}

        events = pool.get(name).stream(question, history=history, k=req.k)
        if not req.stream:
            answers = [e.answer for e in events if isinstance(e, AnswerEvent)]
            if not answers:
                raise RagError("The assistant ended without an answer.")
            return completion(answers[-1], req.model, save(answers[-1]).get("conversation_id"))
        # Pull events up to the first answer text here, so a failure before it (LLM stopped or
        # unreachable, store down) still gets its proper status code instead of a broken stream.
        head: list[StreamEvent] = []
        for ev in events:
            head.append(ev)
            if isinstance(ev, TokenEvent | AnswerEvent):
                break
        if not head:
            raise RagError("The assistant ended without an answer.")
        return EventSourceResponse(sse_chunks(chain(head, events), req.model, save))

    @v1.post("/retrieve", response_model=RetrieveResponse, tags=["retrieval"])
    def retrieve(req: RetrieveRequest, who: Principal = Depends(caller)) -> RetrieveResponse:
        """The k best passages for a question, with their scores."""
        a = assistant_for(who, req.collection)
        return RetrieveResponse(passages=a.retrieve(req.question, k=req.k, mode=req.mode))

    @admin.post("/index", response_model=IndexReport, tags=["index"])
    def index(req: IndexRequest | None = None) -> IndexReport:
        """Index files or folders under the server's indexing roots (incremental); blocks until
        done. Needs the admin token; paths outside the roots, missing or hidden ones all get the
        same 403."""
        a = pool.get(collection(root, req.collection if req else None))
        return a.index(req.paths if req else None, confined=True)  # type: ignore[no-any-return]

    @v1.get("/status", response_model=IndexStatus, tags=["index"])
    def status(collection: str | None = None, who: Principal = Depends(caller)) -> IndexStatus:
        return assistant_for(who, collection).status()  # type: ignore[no-any-return]

    @v1.get("/models", response_model=ModelList, tags=["chat"])
    def models(who: Principal = Depends(caller)) -> ModelList:
        """The collections the caller's token may use, the default first: each is a `model`
        for chat completions. `llm` names the LLM behind them."""
        infos = [i for i in pool.info() if i.name in allowed_of(who)]
        llm = pool.get(infos[0].name).llm_name if infos else ""
        cards = [ModelCard(id=i.name, llm=llm, description=i.description) for i in infos]
        return ModelList(data=cards)

    def allowed_of(who: Principal) -> set[str]:
        return set(access.allowed(who, pool.names()))

    @v1.get("/conversations", response_model=ConversationList, tags=["conversations"])
    def list_conversations(who: Principal = Depends(caller)) -> ConversationList:
        """The caller's saved conversations, the most recently used first."""
        return ConversationList(conversations=conversations().list(who.owner))

    @v1.get("/conversations/{conv_id}", response_model=Conversation, tags=["conversations"])
    def get_conversation(conv_id: str, who: Principal = Depends(caller)) -> Conversation:
        """One saved conversation with its turns (question, checked answer, citations, passages);
        turns asked of a collection the caller may no longer use are left out."""
        return conversations().get(conv_id, who.owner, allowed_of(who))

    @v1.patch("/conversations/{conv_id}", response_model=Conversation, tags=["conversations"])
    def rename_conversation(
        conv_id: str, req: RenameRequest, who: Principal = Depends(caller)
    ) -> Conversation:
        allowed = allowed_of(who)
        conversations().rename(conv_id, who.owner, req.title, allowed)
        return conversations().get(conv_id, who.owner, allowed)

    @v1.delete("/conversations/{conv_id}", response_model=Deleted, tags=["conversations"])
    def delete_conversation(conv_id: str, who: Principal = Depends(caller)) -> Deleted:
        conversations().delete(conv_id, who.owner)
        return Deleted(deleted=conv_id)

    @admin.post(
        "/documents",
        response_model=UploadResult,
        tags=["documents"],
        max_body_size=upload_limit(settings.security),
        # Starlette's parser would stop at 1,000 files, below security.max_request_files.
        form_limits={"max_files": settings.security.max_request_files},
    )
    def add_documents(
        files: list[UploadFile] = File(...), collection: str | None = None
    ) -> UploadResult:
        """Upload one or more documents (.pdf .md .txt .html): stored under the uploads folder
        and indexed. A file of the wrong type or size refuses the request (400, 413) and nothing
        is stored; a file that cannot be read is reported `failed` with the reason. Needs the
        admin token."""
        with TemporaryDirectory(prefix="rag-upload-") as tmp:
            uploads = []
            for i, f in enumerate(files):
                path = Path(tmp) / f"{i}.upload"
                with path.open("wb") as out:
                    while block := f.file.read(1 << 20):
                        out.write(block)
                uploads.append((f.filename or f"upload-{i}", path))
            return library_for(collection).add(uploads)

    @admin.get("/documents", response_model=DocumentList, tags=["documents"])
    def list_documents(collection: str | None = None) -> DocumentList:
        """The uploaded documents and what the index holds of each. Needs the admin token."""
        return DocumentList(documents=library_for(collection).list())

    @admin.delete("/documents/{doc_id}", response_model=DocumentInfo, tags=["documents"])
    def delete_documents(doc_id: str, collection: str | None = None) -> DocumentInfo:
        """Remove an uploaded document from the index and the uploads folder."""
        return library_for(collection).delete(doc_id)

    app.include_router(v1)
    app.include_router(admin)
    return app


def app_from_env() -> FastAPI:
    """App factory for several workers: `uvicorn --factory --workers 4 rag.api:app_from_env`."""
    from rag.service.assistant import Assistant

    settings = Settings()
    logs.configure(settings.log.format, settings.log.level)
    tracing.configure(settings.telemetry)
    assistant = Assistant(settings, progress=False)
    assistant.warm_up()
    return create_app(assistant, settings)


def serve(settings: Settings, insecure: bool = False) -> None:
    """`rag serve`: build (or open) the index, then serve the API with uvicorn until stopped."""
    import uvicorn

    from rag.service.assistant import Assistant

    logs.configure(settings.log.format, settings.log.level)
    tracing.configure(settings.telemetry)
    host, port = settings.api.host, settings.api.port
    check_exposure(host, Access(settings).tokens_required, insecure, "RAG_API__TOKEN")
    assistant = Assistant(settings)
    assistant.warm_up()  # the model process starts with the server, not on the first question
    Library(settings, assistant)  # rolls back an upload a killed server left unfinished
    app = create_app(assistant, settings)
    # our handler formats every line (text or JSON, with request ids); uvicorn adds none
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=None,
        **server_options(settings.security),  # h11, headers bounded
    )
