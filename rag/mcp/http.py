"""MCP's streamable HTTP transport at `/mcp` on the API (`rag serve`), under the API's tokens.

Every request to `/mcp` carries its bearer token as a request to `/v1/…` does: the same tokens
map to the same principals (rag/service/access.py `Access.by_token`), a missing or unknown one is
answered 401 before MCP sees the request, and each tool call resolves its caller again from its
own request's header, so the collection grants apply per call.

Stateless: every request stands alone (no MCP session held in one process), so the transport
works behind several API workers or replicas as the rest of the API does; the tools need no
server-to-client requests. The SDK's session manager runs in the app's lifespan, started anew
each time the app starts (a manager runs once).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from rag.core.errors import NotAuthorisedError
from rag.core.settings import Settings
from rag.mcp.server import Pool, build_server
from rag.service.access import Access, Principal
from rag.service.quotas import Quotas

PATH = "/mcp"


def bearer(headers: Mapping[str, str] | None) -> str:
    """The token of an `Authorization: Bearer <token>` header; "" without one (read as the API's
    `HTTPBearer(auto_error=False)` reads it)."""
    value = (headers or {}).get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _refused() -> HTTPException:
    # word for word the API's refusal (rag/api/auth.py), in its error shape (rag/api/errors.py)
    return HTTPException(
        401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"}
    )


def caller(access: Access, headers: Mapping[str, str] | None) -> Principal:
    """The principal of a tool call's own request (its token passed the gate already)."""
    found = access.by_token(bearer(headers))
    if found is None:
        raise NotAuthorisedError("missing or wrong bearer token")
    return found


class TokenGate:
    """The `/mcp` endpoint: the token checked, then the SDK's transport."""

    def __init__(self, server: MCPServer, access: Access, settings: Settings) -> None:
        self.server = server
        self.access = access
        self.settings = settings
        self.ready = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            if self.access.by_token(bearer(headers)) is None:
                raise _refused()
        if not self.ready:
            raise HTTPException(503, "the MCP transport is not running (the app's lifespan)")
        await self.server.session_manager.handle_request(scope, receive, send)

    def _rebinding(self) -> TransportSecuritySettings | None:
        """The SDK's DNS-rebinding check (Host and Origin must be loopback) guards an open
        server on 127.0.0.1 from web pages; with tokens required a page cannot call it anyway,
        and the check would refuse a reverse proxy's Host: then it is off."""
        if self.access.tokens_required:
            return TransportSecuritySettings(enable_dns_rebinding_protection=False)
        return None  # the SDK's default: on for a loopback host

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The SDK's session manager for one run of the app (a fresh one each start)."""
        self.server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            max_request_body_size=self.settings.security.max_body_bytes,
            host=self.settings.api.host,
            transport_security=self._rebinding(),
        )
        async with self.server.session_manager.run():
            self.ready = True
            try:
                yield
            finally:
                self.ready = False


def mount(
    app: Starlette, pool: Pool, settings: Settings, quotas: Quotas | None = None
) -> TokenGate:
    """Serve MCP at `/mcp` on `app`, over the same pool, grants and quotas as the API's routes
    (a tool call over a quota is a tool error naming it; the HTTP request itself succeeds)."""
    access = Access(settings)
    server = build_server(pool, access, partial(caller, access), quotas or Quotas(settings))
    gate = TokenGate(server, access, settings)
    app.router.routes.append(Route(PATH, endpoint=gate, include_in_schema=False))  # ASGI app
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with gate.running(), inner(a) as state:
            yield state

    app.router.lifespan_context = lifespan
    return gate
