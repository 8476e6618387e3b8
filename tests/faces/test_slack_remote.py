"""The Slack bot over `api_url`, against a real token-protected `rag serve` (issue 25).

`rag serve` runs in its own process over the session's index on 127.0.0.1 with bearer tokens on
(`[[access.tokens]]`), one of them with a tiny quota (`requests_per_minute = 1`). The bot runs as
in tests/faces/test_slack.py (its HTTP app on 127.0.0.1, signed requests, the local stand-in for
Slack's Web API recording what it posts), but answers through `RemoteAssistant` with its own token
(`api_token`): its reply carries the answer, its cited sources and signed links to their source
view that open in the server without a token. A wrong or missing token, or a spent quota, is a
one-line notice to the Slack user: no stack trace, no silence, no token, and a 429 is not retried
(the client raises the quota error the in-process faces raise)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urldefrag, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from servers import VENV_BIN, free_port, running
from slack_requests import ThreadedServer, event_body, message_event, post
from slack_standin import BOT_USER, SlackStandin

from rag.core.errors import QuotaExceededError
from rag.core.settings import APISettings, Settings, SlackSettings
from rag.service.client import RemoteAssistant
from rag.slack import blocks
from rag.slack.app import EVENTS_PATH, build_app, create_web_app

BOT_TOKEN = "xoxb-test-0000-remote-bot-token"
SIGNING_SECRET = "signing-secret-remote-0123456789"
ADMIN = "remote-admin-token-0123456789"
API_TOKEN = "remote-bot-api-token-0123456789"  # the bot's token for `rag serve`
TINY_BOT = "remote-tiny-bot-token-0123456789"  # one request a minute, for the bot
TINY_CLIENT = "remote-tiny-client-token-012345"  # one request a minute, for the client
WRONG = "remote-wrong-token-never-shown-0123"
LINK_SECRET = "remote-link-secret-shared-by-bot-and-api-0123456789"
TOKENS = [
    {"name": "slackbot", "token": API_TOKEN, "collections": ["*"]},
    {"name": "tinybot", "token": TINY_BOT, "collections": ["*"], "requests_per_minute": 1},
    {"name": "tinyclient", "token": TINY_CLIENT, "collections": ["*"], "requests_per_minute": 1},
]
ASKER = "U0ASKER"
QUESTION = (
    "Which method uses neural ODEs to speed up inference of parameter-shared language models?"
)
LINK = re.compile(r"<([^|>]+)\|([^>]*)>")  # Slack's mrkdwn link: <url|text>


@pytest.fixture(scope="module")
def api(rag_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in rag_env.items() if not k.startswith(("RAG_API", "RAG_ACCESS"))}
    env.update(
        RAG_API__HOST="127.0.0.1",
        RAG_API__PORT=str(port),
        RAG_ACCESS__TOKENS=json.dumps(TOKENS),
        RAG_SECURITY__ADMIN_TOKEN=ADMIN,
        RAG_API__LINK_SECRET=LINK_SECRET,
        RAG_LLM__MAX_TOKENS="120",
    )
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("rag-serve-remote") / "serve.log"
    with running([str(VENV_BIN / "rag"), "serve"], f"{url}/health", log, env):
        yield url


def _refusals(api: str) -> float:
    """rag_quota_refusals_total{face="api", reason="requests_per_minute"} (0 if none yet)."""
    text = httpx.get(f"{api}/metrics", headers={"Authorization": f"Bearer {ADMIN}"}).text
    pattern = r'^rag_quota_refusals_total\{face="api",reason="requests_per_minute"\} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _bot_settings(settings: Settings, api: str, tmp: Path, token: str | None) -> Settings:
    return settings.model_copy(
        update={
            "api_url": api,
            "api_token": SecretStr(token) if token else None,
            "public_url": api,  # where a Slack user's browser reaches the API
            "api": APISettings(link_secret=SecretStr(LINK_SECRET)),  # the API's, as on another host
            "state_db": tmp / "state.sqlite3",
        }
    )


def _ask_bot(settings: Settings, channel: str) -> tuple[dict[str, Any], float]:
    """A mention in `channel`, answered by a bot built over `settings` (its `api_url`): the
    message it posted in place of its placeholder (chat.update), and how long that took."""
    standin = SlackStandin(BOT_TOKEN).start()
    slack = SlackSettings(
        bot_token=SecretStr(BOT_TOKEN),
        signing_secret=SecretStr(SIGNING_SECRET),
        mode="http",
        api_base_url=standin.url,
    )
    bot_settings = settings.model_copy(update={"slack": slack})
    remote = RemoteAssistant(bot_settings)
    server = ThreadedServer(create_web_app(build_app(bot_settings, remote))).start()
    try:
        msg = standin.add_user_message(channel, ASKER, f"<@{BOT_USER}> {QUESTION}")
        body = event_body(message_event(msg, channel, "app_mention"), f"Ev{time.monotonic_ns()}")
        started = time.monotonic()
        assert post(server.url + EVENTS_PATH, body, SIGNING_SECRET).status_code == 200
        update = standin.wait_for("chat.update", channel=channel, timeout=240)[0]
        return update.body, time.monotonic() - started
    finally:
        server.stop()
        standin.stop()
        remote.close()


def _sections(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def _notice(message: dict[str, Any]) -> str:
    """The one-line notice the bot posted (plain text, unescaped, without its emoji)."""
    (section,) = _sections(message)
    return re.sub(r"^:\w+: ", "", blocks.unescape(section))


@pytest.fixture(scope="module")
def answered(
    settings: Settings, api: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("slack-remote")
    return _ask_bot(_bot_settings(settings, api, tmp, API_TOKEN), "C0REMOTE")[0]


@pytest.mark.slow
def test_bot_answers_through_a_token_protected_api_with_cited_sources(
    answered: dict[str, Any],
) -> None:
    texts = _sections(answered)
    assert "*Sources*" in texts, texts
    answer_text = "\n".join(texts[: texts.index("*Sources*")])
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer_text)}
    sources = texts[texts.index("*Sources*") + 1 :]
    listed = {int(m.group(1)) for s in sources if (m := re.match(r"\*\[(\d+)\] ", s))}
    assert markers and markers <= listed, (answer_text, sources)
    assert "warning" not in answer_text and "Traceback" not in json.dumps(answered)


@pytest.mark.slow
def test_bot_source_links_are_signed_and_open_without_the_token(
    api: str, answered: dict[str, Any]
) -> None:
    texts = _sections(answered)
    sources = texts[texts.index("*Sources*") + 1 :]
    urls = []
    for section in sources:
        links = LINK.findall(section)
        assert len(links) == 1, section
        urls.append(blocks.unescape(links[0][0]))
    assert urls
    for url in urls:
        assert url.startswith(f"{api}/v1/sources/") and "/view?hl=" in url, url
        query = parse_qs(urlsplit(url).query, keep_blank_values=True)
        assert len(query["sig"][0]) == 64 and int(query["exp"][0]) > time.time(), url
        page = httpx.get(urldefrag(url).url, timeout=30)  # no token: what a browser sends
        assert page.status_code == 200, (url, page.text[:300])
        assert '<mark id="cited">' in page.text
        # the same link without its signature needs the token
        assert httpx.get(url.split("?")[0], timeout=30).status_code == 401


@pytest.mark.slow
@pytest.mark.parametrize("token", [WRONG, None], ids=["wrong-token", "no-token"])
def test_wrong_or_missing_token_is_a_clear_message(
    settings: Settings, api: str, tmp_path: Path, token: str | None
) -> None:
    message, _ = _ask_bot(_bot_settings(settings, api, tmp_path, token), "C0NOTOKEN")
    text = _notice(message)
    assert "refused the token" in text, text
    assert api in text and "RAG_API_TOKEN" in text
    shown = json.dumps(message)
    assert "Traceback" not in shown and "went wrong" not in shown
    assert WRONG not in shown and "*Sources*" not in shown


@pytest.mark.slow
def test_quota_over_api_url_is_the_quota_line_not_a_retry(
    settings: Settings, api: str, tmp_path: Path
) -> None:
    # the token's one request of the minute, spent outside the bot
    spend = httpx.post(
        f"{api}/v1/retrieve",
        json={"query": QUESTION, "k": 1},
        headers={"Authorization": f"Bearer {TINY_BOT}"},
        timeout=60,
    )
    assert spend.status_code == 200, spend.text[:300]
    before = _refusals(api)
    message, took = _ask_bot(_bot_settings(settings, api, tmp_path, TINY_BOT), "C0QUOTA")
    text = _notice(message)
    # the in-process wording (rag/service/quotas.py), with the server's Retry-After
    assert re.fullmatch(
        r"Quota reached: at most 1 request per minute; try again in \d+ s\.", text
    ), text
    assert took < 20, f"the reply took {took:.1f} s: was the 429 retried?"
    assert _refusals(api) == before + 1, "one refusal: the bot did not retry"


@pytest.mark.slow
def test_client_raises_the_quota_error_with_retry_after_and_does_not_retry(
    settings: Settings, api: str, tmp_path: Path
) -> None:
    remote = RemoteAssistant(_bot_settings(settings, api, tmp_path, TINY_CLIENT))
    try:
        assert remote.retrieve(QUESTION, k=1)  # the one request of the minute
        before = _refusals(api)
        calls = {
            "ask": lambda: remote.ask(QUESTION),
            "stream": lambda: list(remote.stream(QUESTION)),
            "retrieve": lambda: remote.retrieve(QUESTION, k=1),
        }
        for what, call in calls.items():
            started = time.monotonic()
            with pytest.raises(QuotaExceededError) as e:
                call()
            assert time.monotonic() - started < 10, f"{what} waited: it retried the 429"
            assert 1 <= e.value.retry_after_s <= 60, what
            assert e.value.reason == "requests_per_minute", what
            assert str(e.value).startswith("Quota reached: at most 1 request per minute; "), what
            assert str(e.value).endswith(f"try again in {e.value.retry_after_s} s."), what
        assert _refusals(api) == before + len(calls), "each call refused once: no retry"
    finally:
        remote.close()


def test_a_429_without_the_servers_line_still_says_when_to_try_again() -> None:
    from rag.service.client import _raise_remote

    tokens = {"param": "llm_tokens_per_day"}
    with pytest.raises(QuotaExceededError) as e:
        _raise_remote(429, tokens, "http://h", httpx.Headers({"Retry-After": "7"}))
    assert str(e.value) == "Quota reached; try again in 7 s."
    assert (e.value.reason, e.value.retry_after_s) == ("llm_tokens_per_day", 7)
    with pytest.raises(QuotaExceededError) as e:
        _raise_remote(429, {}, "http://h")  # an error inside a stream: no headers
    assert e.value.reason == "requests_per_minute" and e.value.retry_after_s == 60
    assert str(e.value) == "Quota reached; try again in 60 s."
