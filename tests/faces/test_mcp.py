"""The MCP face through the SDK's own client, over both transports, with real parts: two small
collections indexed for real (tests/support/two_collections.py), `rag mcp` spawned as the stdio
subprocess a client like Claude Desktop starts, and a real `rag serve` on 127.0.0.1 serving
streamable HTTP at /mcp under the API's tokens and grants.

The grants are those of tests/faces/test_collections_faces.py: a token granted only "papers"
must never see Zorblax (only "beta" holds it), and naming "beta" gets the words a missing
collection gets. The LLM does not restate (`llm.restate=false`): the checked lead is the answer,
and the face, not the model, is what is tested."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from servers import VENV_BIN, free_port, running
from two_collections import BETA, DEFAULT, HERON_Q, ZORBLAX_Q, Built, build, leaks

pytestmark = pytest.mark.slow

ADMIN = "mcp-admin-token-0123"
TOK_A, TOK_B = "mcp-papers-only-0123", "mcp-beta-only-0123"
TOKENS = [
    {"name": "a-only", "token": TOK_A, "collections": [DEFAULT]},
    {"name": "b-only", "token": TOK_B, "collections": [BETA]},
]
ACCESS_ENV = {"RAG_ACCESS__TOKENS": json.dumps(TOKENS), "RAG_SECURITY__ADMIN_TOKEN": ADMIN}
REFUSED = "does not exist or you do not have access to it"
LOGS = Path(__file__).resolve().parents[1] / "artifacts"
TOOLS = {"search", "ask", "list_collections"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("mcp"))


def _session(server: Any, check: Callable[[Client], Awaitable[None]]) -> None:
    async def main() -> None:
        async with Client(server, raise_exceptions=True) as client:
            await check(client)

    asyncio.run(main())


def _stdio(built: Built, *args: str) -> StdioServerParameters:
    env = built.env(**ACCESS_ENV)
    index = str(built.settings.index_dir)
    return StdioServerParameters(
        command=str(VENV_BIN / "rag"), args=["mcp", "--index-dir", index, *args], env=env
    )


def _data(result: Any) -> Any:
    """A tool's structured result (a list comes wrapped as {"result": [...]})."""
    assert not result.is_error, result.content
    data = result.structured_content
    return data["result"] if set(data) == {"result"} else data


def _text(result: Any) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


async def _names(client: Client) -> list[str]:
    return [c["name"] for c in _data(await client.call_tool("list_collections", {}))]


async def _refused_like_missing(client: Client, tool: str, args: dict[str, Any]) -> None:
    forbidden = await client.call_tool(tool, {**args, "collection": BETA})
    missing = await client.call_tool(tool, {**args, "collection": "gamma"})
    assert forbidden.is_error and missing.is_error
    assert REFUSED in _text(forbidden)
    assert _text(forbidden).replace(BETA, "X") == _text(missing).replace("gamma", "X")
    assert not leaks(_text(forbidden))


async def _search_and_ask_heron(client: Client) -> dict[str, Any]:
    """`search` and `ask` about Heron in the default collection; the checked answer."""
    found = _data(await client.call_tool("search", {"query": HERON_Q, "k": 3}))
    assert found["collection"] == DEFAULT
    top = found["passages"][0]
    assert top["title"] == "Heron caching"
    assert top["source"] == "heron.md"  # the readable name, not the stored path
    assert top["score"] > 0 and "31%" in top["text"]
    assert top["url"] == f"rag://{DEFAULT}/documents/{top['doc_id']}"
    answer = _data(await client.call_tool("ask", {"question": HERON_Q}))
    assert "31%" in answer["answer"] and "[1]" in answer["answer"], answer
    assert not answer["abstained"]
    first = answer["citations"][0]
    assert first["number"] == 1 and first["title"] == "Heron caching"
    assert "31%" in first["snippet"] and first["url"].startswith(f"rag://{DEFAULT}/documents/")
    # the cited document, read as a resource
    doc = await client.read_resource(first["url"])
    assert "reduces decoding latency by 31%" in doc.contents[0].text
    return answer  # type: ignore[no-any-return]


# -- stdio: `rag mcp` as a client's subprocess ---------------------------------------------------


def test_stdio_tools_answer_with_citations(built: Built) -> None:
    async def check(client: Client) -> None:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        assert await _names(client) == [DEFAULT, BETA]  # no token: the local operator
        answer = await _search_and_ask_heron(client)
        LOGS.mkdir(exist_ok=True)
        (LOGS / "mcp_ask_stdio.json").write_text(json.dumps(answer, indent=2), encoding="utf-8")
        zorblax = _data(await client.call_tool("ask", {"question": ZORBLAX_Q, "collection": BETA}))
        assert "73%" in zorblax["answer"] and zorblax["citations"][0]["url"].startswith(
            f"rag://{BETA}/documents/"
        )
        listing = await client.read_resource(f"rag://{BETA}/documents")
        docs = json.loads(listing.contents[0].text)["documents"]
        assert [d["title"] for d in docs] == ["Zorblax sparsification"]

    _session(_stdio(built), check)


def test_stdio_with_a_token_has_that_tokens_grants(built: Built) -> None:
    async def check(client: Client) -> None:
        assert await _names(client) == [DEFAULT]
        await _refused_like_missing(client, "search", {"query": ZORBLAX_Q})
        await _refused_like_missing(client, "ask", {"question": ZORBLAX_Q})
        got = await client.call_tool("search", {"query": ZORBLAX_Q, "k": 10})
        assert not leaks(json.dumps(_data(got)))
        with pytest.raises(Exception, match=REFUSED):
            await client.read_resource(f"rag://{BETA}/documents")

    _session(_stdio(built, "--token", TOK_A), check)


def test_stdio_stdout_carries_only_protocol(built: Built) -> None:
    """Everything `rag mcp` writes on stdout, through an answer (models loaded, the collection
    opened), is a JSON-RPC message: logs and any other output go to stderr."""
    params = _stdio(built)
    proc = subprocess.Popen(
        [params.command, *params.args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=params.env,
    )
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "ask", "arguments": {"question": HERON_Q}},
        },
    ]
    payload = "".join(json.dumps(m) + "\n" for m in messages)
    try:
        out, err = _exchange(proc, payload, until_id=2)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    lines = [line for line in out.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # a stray line fails here
    assert all(m.get("jsonrpc") == "2.0" for m in parsed)
    answer = next(m for m in parsed if m.get("id") == 2)["result"]["structuredContent"]
    assert "[1]" in answer["answer"] and answer["citations"]
    assert err.strip(), "the logs went somewhere: stderr"


def _exchange(proc: subprocess.Popen[bytes], payload: str, until_id: int) -> tuple[str, str]:
    """Write `payload`, read stdout until the response `until_id` arrives (or 240 s pass)."""
    import threading

    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(payload.encode())
    proc.stdin.flush()
    out: list[str] = []
    err: list[bytes] = []
    threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True).start()  # type: ignore[union-attr]
    done = threading.Event()

    def read() -> None:
        for raw in proc.stdout:  # type: ignore[union-attr]
            out.append(raw.decode())
            if f'"id":{until_id},' in raw.decode().replace(" ", ""):
                done.set()
                return

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(240), "no answer on stdout:\n" + "".join(out)
    proc.stdin.close()
    try:
        proc.wait(timeout=20)  # stdin closed: the server ends
    except subprocess.TimeoutExpired:
        proc.kill()
    return "".join(out), b"".join(err).decode(errors="replace")


# -- streamable HTTP at /mcp on `rag serve` ------------------------------------------------------


@pytest.fixture(scope="module")
def api(built: Built) -> Iterator[str]:
    port = free_port()
    env = built.env(RAG_API__HOST="127.0.0.1", RAG_API__PORT=str(port), **ACCESS_ENV)
    LOGS.mkdir(exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", LOGS / "mcp_api.log", env):
        yield url


def _http(api: str, token: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    return streamable_http_client(f"{api}/mcp", http_client=create_mcp_http_client(headers))


def test_http_token_sees_only_its_collection(api: str) -> None:
    async def check(client: Client) -> None:
        assert {t.name for t in (await client.list_tools()).tools} == TOOLS
        assert await _names(client) == [DEFAULT]
        answer = await _search_and_ask_heron(client)
        (LOGS / "mcp_ask_http.json").write_text(json.dumps(answer, indent=2), encoding="utf-8")
        await _refused_like_missing(client, "search", {"query": ZORBLAX_Q})
        await _refused_like_missing(client, "ask", {"question": ZORBLAX_Q})
        default = await client.call_tool("ask", {"question": ZORBLAX_Q, "k": 10})
        assert not default.is_error and not leaks(json.dumps(default.structured_content))
        with pytest.raises(Exception, match=REFUSED):
            await client.read_resource(f"rag://{BETA}/documents/anything")

    _session(_http(api, TOK_A), check)


def test_http_other_token_gets_the_other_collection(api: str) -> None:
    async def check(client: Client) -> None:
        assert await _names(client) == [BETA]
        got = _data(await client.call_tool("ask", {"question": ZORBLAX_Q, "collection": BETA}))
        assert "73%" in got["answer"] and "[1]" in got["answer"]
        assert got["citations"][0]["title"] == "Zorblax sparsification"
        refused = await client.call_tool("search", {"query": HERON_Q})  # the default: not granted
        assert refused.is_error and REFUSED in _text(refused)

    _session(_http(api, TOK_B), check)


def test_http_admin_sees_every_collection(api: str) -> None:
    async def check(client: Client) -> None:
        assert await _names(client) == [DEFAULT, BETA]

    _session(_http(api, ADMIN), check)


def test_http_wrong_or_missing_token_is_refused(api: str) -> None:
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream"}
    for headers in ({"Authorization": "Bearer wrong-token"}, {}):
        r = httpx.post(f"{api}/mcp", json=hello, headers={**accept, **headers}, timeout=30)
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["message"] == "missing or wrong bearer token"
    # the same refusal as the API's own routes
    assert httpx.get(
        f"{api}/v1/models", headers={"Authorization": "Bearer wrong-token"}
    ).json() == (
        httpx.post(f"{api}/mcp", json=hello, headers={**accept, "Authorization": "Bearer x"}).json()
    )
    with pytest.raises(Exception):  # noqa: B017 - the SDK's client fails to connect at all
        _session(_http(api, "wrong-token"), _names_only)
    ok = httpx.post(
        f"{api}/mcp", json=hello, headers={**accept, "Authorization": f"Bearer {TOK_A}"}
    )
    assert ok.status_code == 200, ok.text
    # behind a reverse proxy (its own Host): tokens guard the server, not the Host check
    proxied = {**accept, "Authorization": f"Bearer {TOK_A}", "Host": "rag.example.com"}
    assert httpx.post(f"{api}/mcp", json=hello, headers=proxied).status_code == 200


async def _names_only(client: Client) -> None:
    await _names(client)
