"""Prometheus metrics for every face, counted once in the core.

`Assistant.stream` and `Assistant.retrieve` report through `Watch` (questions, answers,
abstentions, errors, seconds per stage, LLM tokens), labelled with the face that opened the
request (rag/core/logs.py: api, ui, slack, cli, or python for library use) and the collection.
`FeedbackStore.record` counts ratings. The API counts its HTTP requests by route and status
(`RequestMetrics`). At scrape time two collectors ask the stores: the index size per
collection (`watch_index`) and the ratings stored (`watch_feedback`, shared by every process).

`/metrics` (`metrics_endpoint`) serves them in Prometheus' text format, on the API and the UI.
Nothing in it holds document or question text: counts, seconds, collection names, route
templates and error class names only.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from rag.core import logs, tracing
from rag.core.errors import RagError
from rag.core.settings import Settings
from rag.core.types import Answer, AnswerEvent, IndexStatus, StreamEvent

log = logging.getLogger("rag.answer")

disable_created_metrics()  # no `_created` series beside every counter: Prometheus needs none

FACE_COLLECTION = ["face", "collection"]
# Seconds: a retrieval takes tens of milliseconds, an answer from the local model a few seconds,
# one behind a busy server up to a minute.
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

QUESTIONS = Counter("rag_questions", "Questions received", FACE_COLLECTION)
ANSWERS = Counter(
    "rag_answers",
    "Questions answered, abstentions included (outcome)",
    [*FACE_COLLECTION, "outcome"],
)
ABSTENTIONS = Counter(
    "rag_abstentions",
    "Answers that abstained: off_topic (not in the collection), subject or attribute (not stated)",
    [*FACE_COLLECTION, "reason"],
)
ERRORS = Counter(
    "rag_errors",
    "Questions and retrievals that failed, by error class",
    [*FACE_COLLECTION, "error"],
)
RETRIEVALS = Counter("rag_retrievals", "Retrieve-only requests", FACE_COLLECTION)
STAGE_SECONDS = Histogram(
    "rag_stage_seconds",
    "Seconds per stage: condense, retrieve, first_token (LLM request to first token), generate "
    "(the whole LLM call), check (of the LLM's sentence), total",
    [*FACE_COLLECTION, "stage"],
    buckets=STAGE_BUCKETS,
)
TOKENS = Counter("rag_llm_tokens", "LLM tokens", [*FACE_COLLECTION, "direction"])
FEEDBACK = Counter("rag_feedback", "Ratings recorded by this process", ["channel", "rating"])
QUOTA_REFUSALS = Counter(
    "rag_quota_refusals",
    "Requests refused for a quota (rag/service/quotas.py): face (api, mcp, ui, slack) and reason "
    "(requests_per_minute, llm_tokens_per_day)",
    ["face", "reason"],
)
HTTP_REQUESTS = Counter(
    "rag_http_requests", "HTTP requests served", ["face", "route", "method", "status"]
)
HTTP_SECONDS = Histogram(
    "rag_http_request_seconds",
    "Seconds from request to the end of the response (a stream included)",
    ["face", "route", "method"],
    buckets=STAGE_BUCKETS,
)


# --- the core's reports -------------------------------------------------------------------


def _error_name(error: BaseException) -> str:
    return type(error).__name__ if isinstance(error, RagError) else "internal"


class Watch:
    """One question or retrieval, as the current request's face asked it of one collection."""

    def __init__(self, collection: str, kind: str = "answer") -> None:
        self.req = logs.current_or_new()
        self.collection = collection
        self.kind = kind
        self.labels = {"face": self.req.face, "collection": collection}

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Count a failure raised in the block (by error class; "internal" for a bug)."""
        try:
            yield
        except BaseException as e:
            if not isinstance(e, GeneratorExit | KeyboardInterrupt):
                ERRORS.labels(**self.labels, error=_error_name(e)).inc()
            raise

    def stream(self, events: Iterator[StreamEvent]) -> Iterator[StreamEvent]:
        """`events`, each step run as the request it belongs to (its log lines carry the request
        id, its stages are spans under the request's span), the answer counted at the end."""
        with logs.bound(self.req):
            tracing.start_request(self.req, self.kind, collection=self.collection)
        error: BaseException | None = None
        try:
            while True:
                with logs.bound(self.req), self.errors():
                    try:
                        event = next(events)
                    except StopIteration:
                        return
                    if isinstance(event, AnswerEvent):
                        self.answered(event.answer)
                yield event
        except BaseException as e:
            error = e
            raise
        finally:
            if isinstance(events, Generator):
                events.close()  # a consumer that stopped early stops the pipeline too
            tracing.end_request(self.req, None if isinstance(error, GeneratorExit) else error)

    def answered(self, answer: Answer) -> None:
        outcome = "abstained" if answer.abstained else "answered"
        ANSWERS.labels(**self.labels, outcome=outcome).inc()
        if answer.abstained:
            ABSTENTIONS.labels(**self.labels, reason=answer.not_stated or "off_topic").inc()
        for stage, seconds in answer.timings.items():
            STAGE_SECONDS.labels(**self.labels, stage=stage).observe(seconds)
        if answer.tokens_in or answer.tokens_out:
            TOKENS.labels(**self.labels, direction="in").inc(answer.tokens_in)
            TOKENS.labels(**self.labels, direction="out").inc(answer.tokens_out)
        log.info(
            f"answer {outcome} {answer.timings.get('total', 0.0):.3f}s",
            extra={
                "stage": "answer",
                "outcome": outcome,
                "not_stated": answer.not_stated,
                "citations": len(answer.citations),
                "llm": answer.llm,
                "restated": not answer.fallback and bool(answer.llm),
                "tokens_in": answer.tokens_in,
                "tokens_out": answer.tokens_out,
                "seconds": round(answer.timings.get("total", 0.0), 4),
            },
        )


def question(collection: str) -> Watch:
    """Count a question of the current request; see `Watch`."""
    w = Watch(collection)
    QUESTIONS.labels(**w.labels).inc()
    return w


@contextmanager
def retrieval(collection: str) -> Iterator[None]:
    """Count and time a retrieve-only request (its seconds go to stage="retrieve")."""
    w = Watch(collection, "retrieve")
    RETRIEVALS.labels(**w.labels).inc()
    timings: dict[str, float] = {}
    with logs.bound(w.req), w.errors(), tracing.stage("retrieve", timings):
        yield
    STAGE_SECONDS.labels(**w.labels, stage="retrieve").observe(timings["retrieve"])


def quota_refused(face: str, reason: str) -> None:
    QUOTA_REFUSALS.labels(face=face, reason=reason).inc()


def feedback(channel: str, rating: int) -> None:
    FEEDBACK.labels(channel=channel, rating="up" if rating > 0 else "down").inc()


# --- scrape-time collectors ---------------------------------------------------------------


class CollectionSize(NamedTuple):
    collection: str
    documents: int | None  # None: the source counts chunks only
    chunks: int


SizeSource = Callable[[], Iterable[CollectionSize]]
FeedbackSource = Callable[[], Iterable[tuple[str, int, int]]]  # (channel, rating, count)


class _StoreCollector(Collector):
    """Gauges read from the stores when Prometheus scrapes (the index can change under a
    running server: `rag index`, uploads, another replica), never cached. A source that fails
    is logged and left out of that scrape; the rest is still served."""

    def __init__(self) -> None:
        self.sizes: dict[str, SizeSource] = {}
        self.feedback: dict[str, FeedbackSource] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        docs = GaugeMetricFamily(
            "rag_index_documents", "Documents in the collection", labels=["collection"]
        )
        chunks = GaugeMetricFamily(
            "rag_index_chunks", "Chunks (indexed passages) in the collection", labels=["collection"]
        )
        seen: set[str] = set()
        # two sources may name one collection: the one that also counts documents wins
        for size in sorted(self._read(self.sizes), key=lambda s: s.documents is None):
            if size.collection not in seen:
                seen.add(size.collection)
                if size.documents is not None:
                    docs.add_metric([size.collection], size.documents)
                chunks.add_metric([size.collection], size.chunks)
        stored = GaugeMetricFamily(
            "rag_feedback_stored",
            "Ratings in the shared state store (every process's), by channel and rating",
            labels=["channel", "rating"],
        )
        for source in list(self.feedback.values())[:1]:  # one state store per process
            for channel, rating, count in self._read({"feedback": source}):
                stored.add_metric([channel, "up" if rating > 0 else "down"], count)
        yield docs
        yield chunks
        yield stored

    @staticmethod
    def _read(sources: dict[str, Callable[[], Iterable[Any]]]) -> Iterator[Any]:
        for key, source in list(sources.items()):
            try:
                yield from list(source())
            except Exception as e:
                log.warning("metrics: could not read %s: %s", key, e)


_STORES = _StoreCollector()
REGISTRY.register(_STORES)


def watch_index(key: str, source: SizeSource) -> None:
    """Serve the sizes `source` lists (at scrape time) as rag_index_documents / _chunks.
    `key` names the source; watching the same key again replaces it."""
    _STORES.sizes[key] = source


def status_sizes(status: Callable[[], IndexStatus]) -> SizeSource:
    """The size of a collection as its `Assistant.status` gives it."""

    def read() -> list[CollectionSize]:
        s = status()
        return [CollectionSize(s.collection, s.documents, s.chunks)]

    return read


def watch_feedback(source: FeedbackSource) -> None:
    """Serve the stored ratings `source` counts (at scrape time) as rag_feedback_stored."""
    _STORES.feedback["state"] = source


# --- exposition ----------------------------------------------------------------------------


def exposition() -> tuple[bytes, str]:
    """The current values in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


def scrape_allowed(settings: Settings, authorization: str | None, face_protected: bool) -> bool:
    """May this scrape read /metrics? With `telemetry.metrics_token` set, only with it (or the
    admin token) as a bearer token. Without one, freely while the face itself is open (no API
    token, no UI login), else with the admin token: /metrics names the collections, which a
    protected face does not tell strangers."""
    metrics_token = _secret(settings.telemetry.metrics_token)
    if not metrics_token and not face_protected:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    tokens = [t for t in (metrics_token, _secret(settings.security.admin_token)) if t]
    return any(secrets.compare_digest(given.encode(), t.encode()) for t in tokens)


def metrics_endpoint(settings: Settings, face_protected: bool) -> Callable[[Any], Any]:
    """A Starlette endpoint serving /metrics (for the API's and the UI's FastAPI apps)."""
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response

    def endpoint(request: Request) -> Response:
        if not scrape_allowed(settings, request.headers.get("authorization"), face_protected):
            return PlainTextResponse(
                "metrics need the bearer token telemetry.metrics_token (or the admin token)\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    return endpoint


# --- HTTP requests (ASGI) ------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class RequestMetrics:
    """Each HTTP request is a request of `face` (rag/core/logs.py): its id comes from the caller's
    `X-Request-ID` when sane, else is new, and is returned in that header; the request is
    counted by route template (not the raw path: ids stay out of the labels), method and
    status, and timed to the end of its response (a stream included). Pure ASGI, so the
    request context reaches the endpoint and every step of a streamed response."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], face: str) -> None:
        self.app = app
        self.face = face

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = logs.request_id_from(headers.get(b"x-request-id", b"").decode("latin-1"))
        status = 500  # unless a response starts: an exception escaped to the server

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        start = time.perf_counter()
        try:
            with logs.request(self.face, request_id):
                await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            HTTP_REQUESTS.labels(self.face, route, method, str(status)).inc()
            HTTP_SECONDS.labels(self.face, route, method).observe(time.perf_counter() - start)
