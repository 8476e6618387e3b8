"""Two collections with different grants, through every face, as real processes on 127.0.0.1.

The default collection "papers" holds the Heron document; "beta" holds Zorblax, which nothing else
mentions (tests/support/two_collections.py). Callers granted only "papers" (an API token, a UI user,
a Slack channel mapped to it) ask about Zorblax: no passage, citation or figure of Zorblax may reach
them, and asking for "beta" by name gets exactly the error a missing collection gets. Callers
granted "beta" get its answer. The LLM does not restate (`llm.restate=false`): the checked lead is
the answer, and the grants, not the model, are what is tested."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from servers import VENV_BIN, free_port, running
from slack_requests import command_body, event_body, message_event, post
from slack_standin import BOT_USER, RESPONSE_URL_METHOD, SlackStandin
from two_collections import BETA, DEFAULT, HERON_Q, ZORBLAX, ZORBLAX_Q, Built, build, leaks

from rag.core.errors import CollectionNotFoundError

pytestmark = pytest.mark.slow

ADMIN = "collections-admin-token-0123"
TOK_A, TOK_B, TOK_ALL = "tok-papers-only-0123", "tok-beta-only-0123", "tok-everything-0123"
TOKENS = [
    {"name": "a-only", "token": TOK_A, "collections": [DEFAULT]},
    {"name": "b-only", "token": TOK_B, "groups": ["research"]},
    {"name": "all", "token": TOK_ALL, "collections": ["*"]},
]
USERS = [
    {"username": "ann", "password": "ann-pass-0123", "collections": [DEFAULT]},
    {"username": "bob", "password": "bob-pass-0123", "collections": [DEFAULT, BETA]},
]
ACCESS_ENV = {
    "RAG_ACCESS__TOKENS": json.dumps(TOKENS),
    "RAG_ACCESS__USERS": json.dumps(USERS),
    "RAG_ACCESS__GROUPS": json.dumps({"research": [BETA]}),
    "RAG_SECURITY__ADMIN_TOKEN": ADMIN,
}
LOGS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("faces"))


# -- the HTTP API ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(built: Built) -> Iterator[str]:
    port = free_port()
    env = built.env(RAG_API__HOST="127.0.0.1", RAG_API__PORT=str(port), **ACCESS_ENV)
    LOGS.mkdir(exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with running(
        [str(VENV_BIN / "rag"), "serve"], f"{url}/health", LOGS / "collections_api.log", env
    ):
        yield url


def _call(api: str, token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, api + path, headers=headers, timeout=300, **kw)


def _chat(api: str, token: str, model: str, question: str, **extra: Any) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": question}], **extra}
    return _call(api, token, "POST", "/v1/chat/completions", json=body)


def test_models_lists_only_the_callers_collections(api: str) -> None:
    def ids(token: str) -> list[str]:
        r = _call(api, token, "GET", "/v1/models")
        assert r.status_code == 200, r.text
        return [m["id"] for m in r.json()["data"]]

    assert ids(TOK_A) == [DEFAULT]
    assert ids(TOK_B) == [BETA]
    assert ids(TOK_ALL) == [DEFAULT, BETA]
    assert ids(ADMIN) == [DEFAULT, BETA]
    assert _call(api, "wrong-token", "GET", "/v1/models").status_code == 401


def test_a_forbidden_collection_looks_exactly_like_a_missing_one(api: str) -> None:
    def same(forbidden: httpx.Response, missing: httpx.Response) -> None:
        assert forbidden.status_code == missing.status_code == 404
        assert forbidden.json()["error"]["type"] == "CollectionNotFoundError"
        assert json.dumps(forbidden.json()).replace(BETA, "X") == json.dumps(
            missing.json()
        ).replace("gamma", "X")

    same(_chat(api, TOK_A, BETA, ZORBLAX_Q), _chat(api, TOK_A, "gamma", ZORBLAX_Q))
    same(
        _chat(api, TOK_A, BETA, ZORBLAX_Q, stream=True),
        _chat(api, TOK_A, "gamma", ZORBLAX_Q, stream=True),
    )
    for_retrieve = {"question": ZORBLAX_Q}
    same(
        _call(api, TOK_A, "POST", "/v1/retrieve", json={**for_retrieve, "collection": BETA}),
        _call(api, TOK_A, "POST", "/v1/retrieve", json={**for_retrieve, "collection": "gamma"}),
    )
    same(
        _call(api, TOK_A, "GET", "/v1/status", params={"collection": BETA}),
        _call(api, TOK_A, "GET", "/v1/status", params={"collection": "gamma"}),
    )
    # The other way round too: "beta" only does not reach the default collection.
    assert _chat(api, TOK_B, "rag", HERON_Q).status_code == 404


def test_default_collection_never_returns_the_other_ones_passages(api: str) -> None:
    for model in ("rag", DEFAULT):
        r = _chat(api, TOK_A, model, ZORBLAX_Q)
        assert r.status_code == 200, r.text
        assert not leaks(r.text), r.text
    streamed = _chat(api, TOK_A, "rag", ZORBLAX_Q, stream=True)
    assert streamed.status_code == 200 and "[DONE]" in streamed.text
    assert not leaks(streamed.text)
    got = _call(api, TOK_A, "POST", "/v1/retrieve", json={"question": ZORBLAX_Q, "k": 10})
    assert got.status_code == 200 and not leaks(got.text)
    heron = _chat(api, TOK_A, "rag", HERON_Q).json()
    assert "31%" in heron["choices"][0]["message"]["content"]


def test_a_granted_token_gets_the_named_collection(api: str) -> None:
    r = _chat(api, TOK_B, BETA, ZORBLAX_Q)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "73%" in body["choices"][0]["message"]["content"]
    assert body["citations"][0]["title"] == "Zorblax sparsification"
    assert body["model"] == BETA
    got = _call(
        api, TOK_ALL, "POST", "/v1/retrieve", json={"question": ZORBLAX_Q, "collection": BETA}
    )
    assert got.json()["passages"][0]["title"] == "Zorblax sparsification"


def test_conversations_stay_with_their_owner(api: str) -> None:
    r = _chat(api, TOK_B, BETA, ZORBLAX_Q, conversation_id="new")
    conv_id = r.json()["conversation_id"]
    assert conv_id
    mine = _call(api, TOK_B, "GET", f"/v1/conversations/{conv_id}").json()
    assert mine["turns"][0]["collection"] == BETA
    listed = _call(api, TOK_A, "GET", "/v1/conversations").json()["conversations"]
    assert conv_id not in {c["id"] for c in listed}
    assert _call(api, TOK_A, "GET", f"/v1/conversations/{conv_id}").status_code == 404


def test_indexing_a_collection_needs_the_admin_token(api: str, built: Built) -> None:
    assert _call(api, TOK_B, "POST", "/v1/index", json={"collection": BETA}).status_code == 403
    # An upload into "beta" reaches beta's callers only.
    note = ZORBLAX.replace("Zorblax sparsification", "Zorblax on phones").replace("A100", "Pixel")
    files = {"files": ("zorblax-phones.md", note.encode(), "text/markdown")}
    up = _call(api, ADMIN, "POST", "/v1/documents", params={"collection": BETA}, files=files)
    assert up.status_code == 200, up.text
    assert (built.root / "uploads-beta" / "zorblax-phones.md").is_file()
    assert not (built.root / "uploads").exists() or not any((built.root / "uploads").iterdir())
    q = {"question": "Which phone does Zorblax run on?", "k": 10}
    for_b = _call(api, TOK_B, "POST", "/v1/retrieve", json={**q, "collection": BETA})
    assert "Zorblax on phones" in {p["title"] for p in for_b.json()["passages"]}
    assert not leaks(_call(api, TOK_A, "POST", "/v1/retrieve", json=q).text)
    listed = _call(api, ADMIN, "GET", "/v1/documents", params={"collection": BETA}).json()
    assert [d["id"] for d in listed["documents"]] == ["zorblax-phones.md"]
    assert _call(api, ADMIN, "GET", "/v1/documents").json()["documents"] == []
    missing = _call(api, ADMIN, "POST", "/v1/index", json={"collection": "gamma"})
    assert missing.status_code == 404  # indexing never creates a collection from afar


def test_the_python_client_names_the_collection(api: str, built: Built) -> None:
    from rag.service.client import RemoteAssistant
    from rag.service.collections import make_collections

    def remote(token: str, collection: str | None = None) -> RemoteAssistant:
        cfg = built.settings.model_copy(update={"api_url": api, "api_token": SecretStr(token)})
        return RemoteAssistant(cfg, collection=collection)

    with pytest.raises(CollectionNotFoundError):
        remote(TOK_A, BETA).retrieve(ZORBLAX_Q)
    with pytest.raises(CollectionNotFoundError):
        remote(TOK_A, BETA).ask(ZORBLAX_Q)
    assert "73%" in remote(TOK_B, BETA).ask(ZORBLAX_Q).text
    cfg = built.settings.model_copy(update={"api_url": api, "api_token": SecretStr(TOK_A)})
    assert make_collections(cfg).names() == [DEFAULT]


# -- Slack ------------------------------------------------------------------------------------

BOT_TOKEN = "xoxb-collections-0000-bot-token"
SIGNING_SECRET = "collections-signing-secret-0123456789"
CH_A, CH_B, ASKER = "C0PAPERS", "C0BETA", "U0ASKER"


@pytest.fixture(scope="module")
def slack(built: Built) -> Iterator[tuple[SlackStandin, str]]:
    """`rag slack` (HTTP mode) as its own process, talking to a local stand-in for Slack."""
    standin = SlackStandin(BOT_TOKEN).start()
    port = free_port()
    env = built.env(
        RAG_SLACK__BOT_TOKEN=BOT_TOKEN,
        RAG_SLACK__SIGNING_SECRET=SIGNING_SECRET,
        RAG_SLACK__MODE="http",
        RAG_SLACK__HOST="127.0.0.1",
        RAG_SLACK__PORT=str(port),
        RAG_SLACK__API_BASE_URL=standin.url,
        RAG_SLACK__CHANNEL_COLLECTIONS=json.dumps({CH_A: DEFAULT, CH_B: BETA}),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with running(
            [str(VENV_BIN / "rag"), "slack"], f"{url}/healthz", LOGS / "collections_slack.log", env
        ):
            yield standin, f"{url}/slack/events"
    finally:
        standin.stop()


def _mention(standin: SlackStandin, url: str, channel: str, question: str) -> dict[str, Any]:
    msg = standin.add_user_message(channel, ASKER, f"<@{BOT_USER}> {question}")
    event = message_event(msg, channel, "app_mention")
    assert post(url, event_body(event), SIGNING_SECRET).status_code == 200
    return standin.wait_for("chat.update", channel=channel, timeout=300)[0].body


def test_a_slack_channel_sees_only_its_collection(slack: tuple[SlackStandin, str]) -> None:
    standin, url = slack
    in_a = _mention(standin, url, CH_A, ZORBLAX_Q)
    assert not leaks(json.dumps(in_a)), in_a
    in_b = _mention(standin, url, CH_B, ZORBLAX_Q)
    assert "73%" in json.dumps(in_b) and "Zorblax sparsification" in json.dumps(in_b)
    # /ask in the papers channel: the private answer comes from papers too.
    started = time.monotonic()
    body = command_body(ZORBLAX_Q, CH_A, ASKER, standin.response_url("ask-a"))
    assert post(url, body, SIGNING_SECRET, form=True).status_code == 200
    assert time.monotonic() - started < 3.0, "Slack needs its ack within 3 s"
    reply = standin.wait_for(RESPONSE_URL_METHOD, timeout=300)[0]
    assert reply.path == "/response/ask-a" and not leaks(json.dumps(reply.body))


# -- the UI -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ui(built: Built) -> Iterator[str]:
    port = free_port()
    env = built.env(RAG_UI__HOST="127.0.0.1", RAG_UI__PORT=str(port), **ACCESS_ENV)
    url = f"http://127.0.0.1:{port}"
    with running(
        [str(VENV_BIN / "rag"), "ui"], f"{url}/config", LOGS / "collections_ui.log", env, 300
    ):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Debian's chromium is not installed (run `make browser`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield b
        b.close()


def _login(browser: Any, url: str, user: dict[str, str]) -> Any:
    ctx = browser.new_context(viewport={"width": 1360, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_label("username").fill(user["username"])
    page.get_by_label("password").fill(user["password"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#question textarea")
    return page


def _ask(page: Any, question: str) -> tuple[str, str]:
    """(the answer bubble's text, the Sources panel's text) once the checked answer is shown."""
    n = page.locator('#chat [data-testid="bot"]').count()
    page.fill("#question textarea", question)
    page.click("#ask")
    final = page.locator('#chat [data-testid="bot"]').nth(n).locator(":is(.answer, .abstain)")
    final.wait_for(timeout=300_000)
    page.wait_for_timeout(500)  # the Sources panel is updated with the answer
    return final.inner_text(), page.locator("#sources-panel").inner_text()


def test_ui_user_granted_one_collection_sees_only_it(browser: Any, ui: str) -> None:
    page = _login(browser, ui, USERS[0])
    try:
        page.wait_for_timeout(1500)  # the page's load events (the picker is filled then)
        assert not page.locator("#collection").is_visible()  # one collection: no picker
        assert BETA not in page.content()  # the other collection's name is nowhere
        answer, sources = _ask(page, ZORBLAX_Q)
        assert not leaks(answer + sources), answer + sources
        answer, sources = _ask(page, HERON_Q)
        assert "31%" in answer and "Heron caching" in sources
    finally:
        page.context.close()


def test_ui_refuses_a_collection_not_granted_even_when_asked_directly(ui: str) -> None:
    """The picker is not the guard: the server checks the collection of every request."""
    from gradio_client import Client

    client = Client(ui, auth=(USERS[0]["username"], USERS[0]["password"]), verbose=False)
    chat = client.predict(ZORBLAX_Q, [], 5, True, BETA, api_name="/chat")[1]
    shown = json.dumps(chat)
    assert "does not exist or you do not have access" in shown
    assert not leaks(shown.replace(ZORBLAX_Q, ""))
    # The old call, without a collection, still answers from the default one.
    old = json.dumps(client.predict(HERON_Q, [], 5, True, api_name="/chat")[1])
    assert "31%" in old


def test_ui_user_granted_both_picks_the_collection(browser: Any, ui: str) -> None:
    page = _login(browser, ui, USERS[1])
    try:
        picker = page.locator("#collection")
        picker.wait_for(state="visible")
        answer, sources = _ask(page, ZORBLAX_Q)  # the default collection first
        assert not leaks(answer + sources)
        picker.locator("input").click()
        page.get_by_role("option", name=BETA).click()
        page.wait_for_timeout(1000)
        answer, sources = _ask(page, ZORBLAX_Q)
        assert "73%" in answer and "Zorblax sparsification" in sources
    finally:
        page.context.close()
