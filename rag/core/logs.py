"""Structured logs, and the request a log line belongs to.

Each face opens a request (`request("api")`, `request("ui")`, …) around a question; the core's
log lines while it is answered (retrieve → generate → check, rag/answer/answering.py) then carry its
`request_id` and `face`, in text logs and, with `log.format = "json"` (`--log-json`,
`RAG_LOG__FORMAT=json`), as one JSON object per line. The API takes the id from an
`X-Request-ID` header when the caller sends a sane one, and returns it in that header.

The request lives in a `ContextVar`, so threads and async tasks started within the request see
it. A stream of answer events is a generator that may be resumed from another thread (Starlette
and Gradio drive each step in a worker thread with a fresh copy of the context), so the core
keeps the request object with the generator and binds it again around every step (`bound`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass
class Request:
    """One question (or other unit of work) as a face received it."""

    face: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # the trace span this request's stages hang under, when tracing is on (rag/core/tracing.py)
    span: Any = None


_current: ContextVar[Request | None] = ContextVar("rag_request", default=None)


_default_face = "python"  # the face of a question no face opened a request for


def current() -> Request | None:
    """The request being served in this context, if a face opened one."""
    return _current.get()


def current_or_new() -> Request:
    """The current request, or a new one of the process's default face (`rag ask`: "cli";
    library use: "python")."""
    return _current.get() or Request(face=_default_face)


def set_default_face(face: str) -> None:
    global _default_face
    _default_face = face


def request_id_from(header: str | None) -> str:
    """A caller's `X-Request-ID` if it is a plain token (it ends up in logs), else a new id."""
    if header and _SANE_ID.match(header):
        return header
    return uuid.uuid4().hex


@contextmanager
def request(face: str, request_id: str | None = None) -> Iterator[Request]:
    """Serve one request as `face`: log lines and metrics within carry its id and face."""
    with bound(Request(face=face, id=request_id or uuid.uuid4().hex)) as req:
        yield req


@contextmanager
def bound(req: Request) -> Iterator[Request]:
    """Make `req` the current request for the block (again, e.g. in another thread)."""
    token = _current.set(req)
    try:
        yield req
    finally:
        _current.reset(token)


def bars_wanted(progress: bool = True) -> bool:
    """Whether to draw progress bars: asked for, and stderr is a terminal (in a log file or a
    pipe a bar's redraws are noise between the log lines). `RAG_PROGRESS=always` draws them
    anyway (a CI log that should show how far a long index run got), `never` never."""
    mode = os.environ.get("RAG_PROGRESS", "auto").lower()
    if mode in ("always", "never"):
        return progress and mode == "always"
    return progress and sys.stderr.isatty()


class RequestFilter(logging.Filter):
    """Stamps every record with the current request's id and face (None outside a request), and
    `request` for text lines: "[face id] " within a request, nothing outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        req = _current.get()
        record.request_id = req.id if req else None
        record.face = req.face if req else None
        record.request = f"[{req.face} {req.id}] " if req else ""
        return True


# The attributes every LogRecord has; anything else on a record came from `extra=` and is a field.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
_STANDARD.add("color_message")  # uvicorn's message with terminal colours, for its own formatter
_STANDARD.add("request")  # the text format's "[face id] ", already in request_id and face


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, face, the fields
    given with `extra=`, and the traceback as `exc_info`. (The standard library has no JSON
    formatter; this is the whole of it, so no dependency for it.)"""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(request)s%(message)s"

# Libraries whose INFO lines are noise on the console: httpx logs every request, the model
# process's /health polling at start-up included ("503 Service Unavailable" until it has loaded).
# The MCP SDK says "session manager started" at every start. They log at WARNING and above unless
# the level is DEBUG.
QUIET_LOGGERS = ("httpx", "httpcore", "mcp.server.streamable_http_manager")


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Send every logger's lines (uvicorn's and the libraries' included) to stderr, as text or
    JSON, stamped with the current request. Python warnings are logged too, so that in JSON
    mode every line on stderr is JSON."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    debug = root.getEffectiveLevel() <= logging.DEBUG
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers (when it configured them earlier) would print plain text
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.captureWarnings(True)
