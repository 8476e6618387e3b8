"""`rag mcp`: the MCP server over stdio, for a client that starts it as a subprocess (Claude
Desktop, an IDE). Only protocol goes to stdout: logs go to stderr (rag/core/logs.py), and while
the server runs the SDK points fd 1 at stderr, so nothing else (a library's print, the LLM's
process started on the first question) can write into the protocol."""

from __future__ import annotations

from rag.core import logs
from rag.core.errors import NotAuthorisedError
from rag.core.settings import Settings
from rag.mcp.server import build_server
from rag.service.access import ALL, Access, Principal
from rag.service.collections import make_collections
from rag.service.quotas import Quotas

# Whoever starts `rag mcp` can read the index's files: without a token, every collection.
LOCAL = Principal("mcp:local", frozenset({ALL}))


def principal_for(access: Access, token: str | None) -> Principal:
    """The one principal of a stdio server: the token's (as the API maps it), or LOCAL."""
    if not token:
        return LOCAL
    found = access.by_token(token)
    if found is None:
        raise NotAuthorisedError("rag mcp --token: no API token of the settings matches it.")
    return found


def run(settings: Settings, token: str | None = None) -> None:
    """Serve MCP on stdin/stdout until the client closes it. Collections open on first use."""
    logs.configure(settings.log.format, settings.log.level)
    logs.set_default_face("mcp")  # its logs and metrics lines name this face
    access = Access(settings)
    who = principal_for(access, token)
    pool, quotas = make_collections(settings), Quotas(settings)
    server = build_server(pool, access, lambda _headers: who, quotas)
    server.run("stdio")
