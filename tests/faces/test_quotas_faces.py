"""Quotas on a real `rag serve` (127.0.0.1, a tiny real index: tests/support/two_collections.py)
with `quotas.requests_per_minute = 2`: a token's third request of the minute gets 429 with
`Retry-After` and an OpenAI-style `rate_limit_exceeded` body, the refusal is counted in
`rag_quota_refusals` on /metrics, and another token is not affected; over MCP's streamable HTTP
the third tool call is a tool error naming the quota."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from servers import VENV_BIN, free_port, running
from two_collections import DEFAULT, HERON_Q, Built, build

pytestmark = pytest.mark.slow

ADMIN = "quota-admin-token-0123"
TOK_A, TOK_B, TOK_MCP = "quota-token-a-0123", "quota-token-b-0123", "quota-token-mcp-0123"
TOK_ONE, TOK_TWO = "quota-token-one-0123", "quota-token-two-0123"  # the wording's two forms
TOKENS = [
    {"name": "a", "token": TOK_A, "collections": ["*"]},
    {"name": "b", "token": TOK_B, "collections": ["*"]},
    {"name": "m", "token": TOK_MCP, "collections": ["*"]},
    {"name": "one", "token": TOK_ONE, "collections": ["*"], "requests_per_minute": 1},
    {"name": "two", "token": TOK_TWO, "collections": ["*"]},
]
LOGS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    built: Built = build(tmp_path_factory.mktemp("quotas"))
    port = free_port()
    env = built.env(
        RAG_API__HOST="127.0.0.1",
        RAG_API__PORT=str(port),
        RAG_ACCESS__TOKENS=json.dumps(TOKENS),
        RAG_SECURITY__ADMIN_TOKEN=ADMIN,
        RAG_QUOTAS__REQUESTS_PER_MINUTE="2",
    )
    LOGS.mkdir(exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", LOGS / "quotas_api.log", env):
        yield url


def _post(api: str, token: str, path: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(api + path, json=body, headers=headers, timeout=300)


def _refusals(api: str, face: str) -> float:
    """rag_quota_refusals_total{face, reason="requests_per_minute"} from /metrics (0 if none)."""
    text = httpx.get(f"{api}/metrics", headers={"Authorization": f"Bearer {ADMIN}"}).text
    pattern = (
        r'^rag_quota_refusals_total\{face="' + face + r'",reason="requests_per_minute"\} (\S+)$'
    )
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_third_request_of_a_minute_is_429_with_retry_after(api: str) -> None:
    before = _refusals(api, "api")
    retrieve = {"query": HERON_Q, "k": 2}
    chat = {"model": DEFAULT, "messages": [{"role": "user", "content": HERON_Q}]}
    assert _post(api, TOK_A, "/v1/retrieve", retrieve).status_code == 200
    assert _post(api, TOK_A, "/v1/chat/completions", chat).status_code == 200
    third = _post(api, TOK_A, "/v1/retrieve", retrieve)
    assert third.status_code == 429
    assert 1 <= int(third.headers["Retry-After"]) <= 60
    error = third.json()["error"]
    assert error["type"] == "rate_limit_exceeded" and error["code"] == 429
    assert error["param"] == "requests_per_minute"
    assert "at most 2 requests per minute" in error["message"]
    assert _post(api, TOK_A, "/v1/chat/completions", chat).status_code == 429
    assert _refusals(api, "api") == before + 2
    # another token has its own count; the admin token is not limited
    assert _post(api, TOK_B, "/v1/retrieve", retrieve).status_code == 200
    for _ in range(3):
        assert _post(api, ADMIN, "/v1/retrieve", retrieve).status_code == 200


@pytest.mark.parametrize(
    ("token", "limit", "wording"),
    [(TOK_ONE, 1, "at most 1 request per minute"), (TOK_TWO, 2, "at most 2 requests per minute")],
    ids=["singular", "plural"],
)
def test_the_429_message_reads_as_english(api: str, token: str, limit: int, wording: str) -> None:
    retrieve = {"query": HERON_Q, "k": 1}
    for _ in range(limit):
        assert _post(api, token, "/v1/retrieve", retrieve).status_code == 200
    refused = _post(api, token, "/v1/retrieve", retrieve)
    assert refused.status_code == 429
    message = refused.json()["error"]["message"]
    assert re.fullmatch(rf"Quota reached: {wording}; try again in \d+ s\.", message), message


def test_mcp_third_tool_call_is_refused_by_the_quota(api: str) -> None:
    before = _refusals(api, "mcp")
    headers = {"Authorization": f"Bearer {TOK_MCP}"}
    transport = streamable_http_client(f"{api}/mcp", http_client=create_mcp_http_client(headers))

    async def main() -> list[Any]:
        async with Client(transport, raise_exceptions=True) as client:
            return [await client.call_tool("search", {"query": HERON_Q, "k": 2}) for _ in range(3)]

    first, second, third = asyncio.run(main())
    assert not first.is_error and not second.is_error
    assert third.is_error
    text = " ".join(getattr(c, "text", "") for c in third.content)
    assert "Quota reached: at most 2 requests per minute" in text
    assert _refusals(api, "mcp") == before + 1
