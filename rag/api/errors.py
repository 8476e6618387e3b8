"""Errors as JSON in OpenAI's shape, `{"error": {"message", "type", "code"}}`, with the status
code of the failure (400 bad input, 401 token, 429 over a quota with `Retry-After`, 503 LLM or
store unreachable, ...)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag.core.errors import (
    EmbeddingMismatchError,
    IndexBusyError,
    LLMUnavailableError,
    NotAuthorisedError,
    NotFoundError,
    PathNotAllowedError,
    QuotaExceededError,
    RagError,
    RequestTooLargeError,
    StoreError,
)

log = logging.getLogger("rag.api")


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
    if isinstance(error, QuotaExceededError):
        return 429
    if isinstance(error, LLMUnavailableError | StoreError | IndexBusyError):
        return 503
    return 400


def error_body(message: str, type_: str, code: int) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": code}}


async def rag_error(_: Request, e: RagError) -> JSONResponse:
    code = status_for(e)
    if isinstance(e, QuotaExceededError):  # OpenAI's rate-limit shape: 429 with Retry-After
        body = error_body(str(e), "rate_limit_exceeded", code)
        body["error"]["param"] = e.reason
        return JSONResponse(body, status_code=code, headers={"Retry-After": str(e.retry_after_s)})
    return JSONResponse(error_body(str(e), type(e).__name__, code), status_code=code)


async def http_error(_: Request, e: HTTPException) -> JSONResponse:
    return JSONResponse(
        error_body(str(e.detail), "http_error", e.status_code),
        status_code=e.status_code,
        headers=e.headers,
    )


async def invalid_request(_: Request, e: RequestValidationError) -> JSONResponse:
    parts = [
        f"{'.'.join(str(x) for x in err.get('loc', ()))}: {err.get('msg')}" for err in e.errors()
    ]
    body = error_body("invalid request: " + "; ".join(parts), "invalid_request_error", 422)
    return JSONResponse(body, status_code=422)


async def backend_down(_: Request, e: httpx.TransportError) -> JSONResponse:
    # The LLM client already raises LLMUnavailableError, so a bare transport error here comes
    # from the Chroma server's HTTP client, which the store does not wrap after start-up.
    message = f"A backing service (the Chroma server?) cannot be reached: {e}"
    return JSONResponse(error_body(message, "StoreError", 503), status_code=503)


async def unexpected(_: Request, e: Exception) -> JSONResponse:
    log.exception("unexpected error")
    body = error_body(f"internal error: {type(e).__name__}", "internal_error", 500)
    return JSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Every failure answered in OpenAI's error shape."""
    app.exception_handler(RagError)(rag_error)
    app.exception_handler(HTTPException)(http_error)
    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(httpx.TransportError)(backend_down)
    app.exception_handler(Exception)(unexpected)
