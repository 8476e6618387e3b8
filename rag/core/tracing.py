"""The stages of answering: timed, logged with the request id, and traced when asked.

`stage("retrieve", timings)` wraps one stage of the pipeline (rag/answer/answering.py): it writes
the stage's seconds into the answer's `timings`, logs one line when the stage ends (carrying the
request id and face of rag/core/logs.py, and the fields the block adds), and, when
`telemetry.otlp_endpoint` is set, records an OpenTelemetry span named for the stage under the
request's span ("rag.answer", "rag.retrieve").

Tracing is off by default, and then OpenTelemetry is not imported. When on, spans are exported
over OTLP/HTTP (protobuf) by a background thread: an endpoint that is down loses spans (the
exporter logs a warning) but never slows or breaks an answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from rag.core import logs
from rag.core.settings import TelemetrySettings

log = logging.getLogger("rag.answer")

_tracer: Any = None  # an OpenTelemetry Tracer once `configure` has turned tracing on
_provider: Any = None


def configure(telemetry: TelemetrySettings) -> bool:
    """Turn tracing on when an OTLP endpoint is configured; returns whether it is on."""
    global _tracer, _provider
    if not telemetry.otlp_endpoint or _tracer is not None:
        return _tracer is not None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as e:  # the exporter is a dependency; a broken install keeps answering
        logging.getLogger(__name__).warning(
            "tracing is off: OpenTelemetry's OTLP exporter cannot be imported (%s)", e
        )
        return False
    endpoint = telemetry.otlp_endpoint.rstrip("/") + "/v1/traces"
    # A provider of our own, not the global one: Chroma uses OpenTelemetry too, and its
    # internal spans are not ours to export.
    _provider = TracerProvider(resource=Resource.create({"service.name": telemetry.service_name}))
    _provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint, timeout=5), schedule_delay_millis=500
        )
    )
    _tracer = _provider.get_tracer("rag")
    # An endpoint that is down: one error per lost batch, not a warning per retry as well.
    logging.getLogger("opentelemetry.exporter.otlp.proto.http").setLevel(logging.ERROR)
    logging.getLogger(__name__).info("tracing on: spans go to %s", endpoint)
    return True


def flush(timeout_s: float = 5.0) -> None:
    """Export the spans still buffered (at shutdown; the provider also does so at exit)."""
    if _provider is not None:
        _provider.force_flush(int(timeout_s * 1000))


def shutdown() -> None:
    """Export what is buffered and turn tracing off (a later `configure` may turn it on)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


def _attributes(req: logs.Request | None, fields: dict[str, Any]) -> dict[str, Any]:
    attrs: dict[str, Any] = {f"rag.{k}": v for k, v in fields.items() if _plain(v)}
    if req is not None:
        attrs |= {"rag.request_id": req.id, "rag.face": req.face}
    return attrs


def _plain(value: Any) -> bool:
    return isinstance(value, str | bool | int | float)


def start_request(req: logs.Request, name: str, **fields: Any) -> None:
    """Open the request's own span (the parent of its stages), if tracing is on. It is not made
    the current span: a stream's steps may run in different threads (see rag/core/logs.py)."""
    if _tracer is not None and req.span is None:
        req.span = _tracer.start_span(f"rag.{name}", attributes=_attributes(req, fields))


def end_request(req: logs.Request, error: BaseException | None = None, **fields: Any) -> None:
    """Close the request's span, marked as failed when `error` is given."""
    span, req.span = req.span, None
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    span.set_attributes(_attributes(None, fields))
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()


def _span(name: str, req: logs.Request | None) -> Any:
    if _tracer is None:
        return nullcontext(None)
    from opentelemetry import trace

    parent = trace.set_span_in_context(req.span) if req is not None and req.span else None
    return _tracer.start_as_current_span(
        f"rag.{name}", context=parent, attributes=_attributes(req, {})
    )


@contextmanager
def stage(name: str, timings: dict[str, float]) -> Iterator[dict[str, Any]]:
    """Time one stage into `timings[name]`, in a span when tracing is on, and log one line when
    it ends. The block may add fields (`passages=5`, `kept=True`) to the dict it is given: they
    go on the log line and the span. Never holds a document's text: counts and flags only."""
    fields: dict[str, Any] = {}
    req = logs.current()
    start = time.perf_counter()
    with _span(name, req) as span:
        try:
            yield fields
        finally:
            timings[name] = time.perf_counter() - start
        if span is not None:
            span.set_attributes(_attributes(None, {**fields, "seconds": timings[name]}))
    shown = " ".join(f"{k}={v}" for k, v in fields.items())
    log.info(
        f"{name} {timings[name]:.3f}s {shown}".rstrip(),
        extra={"stage": name, "seconds": round(timings[name], 4), **fields},
    )
