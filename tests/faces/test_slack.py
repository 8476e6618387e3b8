"""The Slack bot, as it runs: its HTTP app on 127.0.0.1, a local stand-in for Slack's Web API.

Requests are shaped and signed like Slack's (tests/support/slack_requests.py); what the bot sends
back to "Slack" is recorded by the stand-in (tests/support/slack_standin.py) and asserted on. The
answers come from the session's real assistant (real index, real local LLM). The first block of
tests needs neither server nor LLM: Block Kit limits, Slack markup, thread history, credentials."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from servers import VENV_BIN, free_port, running
from slack_requests import (
    ThreadedServer,
    block_action_body,
    command_body,
    event_body,
    message_event,
    post,
    sign,
)
from slack_standin import BOT_ID, BOT_USER, RESPONSE_URL_METHOD, SlackStandin

from rag.core.errors import RagError
from rag.core.settings import Settings, SlackSettings
from rag.core.types import Answer, Citation, Passage
from rag.slack import blocks
from rag.slack.app import EVENTS_PATH, build_app, create_web_app, credentials
from rag.slack.conversation import clean_question, history_from_messages
from rag.slack.state import AnswerCache, SeenKeys
from rag.state.engine import SQLiteStateDB
from rag.state.feedback import FeedbackStore

BOT_TOKEN = "xoxb-test-0000-bot-token-never-logged"
SIGNING_SECRET = "signing-secret-never-logged-0123456789"
CHANNEL = "C0GENERAL"  # on the allow-list
OTHER_CHANNEL = "C0OTHER"  # not on it
DM = "D0DIRECT"
ASKER = "U0ASKER"

QUESTION = (
    "Which method uses neural ODEs to speed up inference of parameter-shared language models?"
)
FOLLOW_UP = "Does it also work for autoencoding models?"
DM_QUESTION = "How does Dynamic-TinyBERT make inference faster?"


# -- Block Kit, without the LLM ---------------------------------------------------------------


def _answer(text: str, n_citations: int = 2, abstained: bool = False) -> Answer:
    citations = [
        Citation(
            number=i,
            title=f"Paper <{i}> & friends",
            source=f"corpus/00{i}.txt",
            snippet="word " * 200,
            score=0.5,
        )
        for i in range(1, n_citations + 1)
    ]
    passages = [
        Passage(text="close " * 100, score=0.2, title=f"Related {i}", source="s.txt", doc_id=str(i))
        for i in range(3)
    ]
    return Answer(
        question="q?", text=text, citations=citations, abstained=abstained, passages=passages
    )


def _sections(bl: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in bl if b["type"] == "section"]


def _check_limits(bl: list[dict[str, Any]]) -> None:
    assert len(bl) <= blocks.MAX_BLOCKS
    for b in bl:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= blocks.SECTION_LIMIT
        if b["type"] == "context":
            assert 1 <= len(b["elements"]) <= 10
        if b["type"] == "actions":
            for el in b["elements"]:
                assert len(el["text"]["text"]) <= blocks.BUTTON_TEXT_LIMIT
                assert len(el["value"]) <= blocks.BUTTON_VALUE_LIMIT


def test_split_text_keeps_every_word_under_the_limit() -> None:
    text = " ".join(f"w{i}" for i in range(3000)) + "\n\n" + "x" * 7000
    pieces = blocks.split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces)
    assert " ".join(" ".join(pieces).split()).replace(" ", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    assert pieces[0].endswith("w" + pieces[0].rsplit("w", 1)[1])  # cut between words


def test_split_never_cuts_an_escaped_entity() -> None:
    text = blocks.escape("<" * 2000)  # 8000 characters of "&lt;", no spaces
    for piece in blocks.split_text(text, 3000):
        assert re.fullmatch(r"(&lt;)+", piece), piece[-8:]


def test_long_answer_fits_the_message_limits() -> None:
    long_text = " ".join(f"Claim number {i} is supported [1]." for i in range(8000))
    answer = _answer(long_text, n_citations=30)
    bl = blocks.answer_blocks(answer, answer_id="a" * 32, shareable=True)
    _check_limits(bl)
    assert len(bl) == blocks.MAX_BLOCKS
    assert "_(truncated)_" in "".join(_sections(bl))
    assert bl[-1]["type"] == "actions"  # the buttons survive truncation
    message = blocks.answer_message(answer, answer_id="x")
    assert len(message["text"]) <= blocks.TEXT_LIMIT


def test_sources_block_lists_cited_papers_escaped() -> None:
    bl = blocks.answer_blocks(_answer("Shared layers help [1][2]."), answer_id="id1")
    texts = _sections(bl)
    assert texts[0] == "Shared layers help [1][2]."
    assert "*Sources*" in texts
    assert "*[1] Paper &lt;1&gt; &amp; friends*" in texts[texts.index("*Sources*") + 1]
    actions = next(b for b in bl if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == [
        blocks.ACTION_FEEDBACK_UP,
        blocks.ACTION_FEEDBACK_DOWN,
    ]  # no share button outside /ask
    assert all(a["value"] == "id1" for a in actions)
    _check_limits(bl)


_HASHED = re.compile(r"\d{3}_[0-9a-f]{16}\.txt")


def test_sources_show_readable_label_page_and_section_not_stored_names() -> None:
    stored = "/srv/rag/corpus/000_194d850b866ee11c.txt"
    answer = _answer("Shared layers help [1][2][3].", n_citations=0)
    where: list[dict[str, Any]] = [
        {"source": stored, "label": "Daily Papers · Aug 8"},
        {"source": "/srv/rag/uploads/ab12_kestrel.pdf", "page": 4, "label": "kestrel.pdf"},
        {"source": "/srv/notes.md", "section": "Methods › Results", "label": "notes.md"},
    ]
    answer.citations = [
        Citation(number=n, title=f"T{n}", snippet="s", score=0.5, **w)
        for n, w in enumerate(where, 1)
    ]
    texts = _sections(blocks.answer_blocks(answer))
    sources = "\n".join(texts[texts.index("*Sources*") + 1 :])
    assert "_Daily Papers · Aug 8_" in sources
    assert "_kestrel.pdf · p. 4_" in sources
    assert "_notes.md · § Results_" in sources
    assert not _HASHED.search(sources) and "/srv/" not in sources

    related = _answer("Not in the collection.", n_citations=0, abstained=True)
    related.passages = [
        Passage(
            text="t", score=0.03, title="A", source=stored, doc_id="1", label="Daily Papers · Aug 8"
        )
    ]
    texts = _sections(blocks.answer_blocks(related))
    assert "_Daily Papers · Aug 8_" in texts[-1] and not _HASHED.search(texts[-1])


def test_abstention_shows_related_reading_not_sources() -> None:
    answer = _answer("The collection does not answer this.", n_citations=0, abstained=True)
    bl = blocks.answer_blocks(answer, answer_id="id", shareable=True)
    texts = "\n".join(_sections(bl))
    assert "does not answer" in texts and "Related reading" in texts and "*Sources*" not in texts
    assert all(f"Related {i}" in texts for i in range(3))
    assert blocks.ACTION_SHARE in json.dumps(bl)


def test_clean_question_strips_own_mention_and_markup() -> None:
    text = "<@U0RAGBOT> what did <@U123|ann> post in <#C1|papers> about <https://x.org|this>"
    text += " &amp; LoRA?"
    assert clean_question(text, BOT_USER) == "what did @ann post in #papers about this & LoRA?"
    assert clean_question("  <@U0RAGBOT>  ", BOT_USER) == ""


def test_history_pairs_questions_with_answers() -> None:
    msgs = [
        {"ts": "1.0", "user": ASKER, "text": "<@U0RAGBOT> first?"},
        {"ts": "2.0", "user": BOT_USER, "bot_id": BOT_ID, "text": "One [1] &amp; two."},
        {"ts": "3.0", "user": "U0BOT2", "bot_id": "B0OTHER", "text": "another bot"},
        {"ts": "4.0", "user": ASKER, "text": "unanswered"},
        {"ts": "5.0", "user": BOT_USER, "bot_id": BOT_ID, "text": blocks.PLACEHOLDER_TEXT},
        {"ts": "6.0", "user": ASKER, "text": "current question"},
        {"ts": "7.0", "user": BOT_USER, "bot_id": BOT_ID, "text": "later answer"},
    ]
    got = history_from_messages(msgs, before_ts="6.0", bot_user_id=BOT_USER, bot_id=BOT_ID)
    assert got == [("first?", "One [1] & two.")]


def test_seen_keys_and_answer_cache(tmp_path: Path) -> None:
    store = SQLiteStateDB(tmp_path / "state.sqlite3")
    seen = SeenKeys(store, "events", ttl_s=0.5)
    assert seen.claim("a") and not seen.claim("a")
    assert SeenKeys(store, "messages").claim("a")  # namespaces are apart
    time.sleep(0.6)
    assert seen.claim("a")  # expired, so new again
    cache = AnswerCache(store, max_answers=2)
    ids = [cache.put(_answer(str(i))) for i in range(3)]
    assert cache.get(ids[0]) is None  # only the newest two are kept
    assert cache.get(ids[2]) == _answer("2")
    assert cache.get("not-a-key") is None


def test_missing_credentials_are_clear_errors() -> None:
    with pytest.raises(RagError, match="bot token"):
        credentials(SlackSettings(mode="http", signing_secret=SIGNING_SECRET))
    with pytest.raises(RagError, match="app-level token"):
        credentials(SlackSettings(mode="socket", bot_token=BOT_TOKEN))
    with pytest.raises(RagError, match="signing secret") as e:
        credentials(SlackSettings(mode="http", bot_token=BOT_TOKEN))
    assert BOT_TOKEN not in str(e.value)


# -- the running bot ----------------------------------------------------------------------------


class Bot:
    """The bot's HTTP app, the Slack stand-in, and helpers to send it signed requests."""

    def __init__(self, standin: SlackStandin, server: ThreadedServer, state_db: Path) -> None:
        self.standin = standin
        self.server = server
        self.state_db = state_db
        self.url = server.url + EVENTS_PATH

    def send_event(self, event: dict[str, Any], event_id: str | None = None, **kw: Any) -> Any:
        return post(self.url, event_body(event, event_id), SIGNING_SECRET, **kw)

    def click(self, button: dict[str, Any], channel: str, user: str, ephemeral: bool) -> Any:
        name = f"click-{button['action_id']}-{time.monotonic_ns()}"
        body = block_action_body(button, channel, user, self.standin.response_url(name), ephemeral)
        resp = post(self.url, body, SIGNING_SECRET, form=True)
        assert resp.status_code == 200, resp.text
        return name


@pytest.fixture(scope="module")
def bot(
    settings: Settings, assistant: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bot]:
    standin = SlackStandin(BOT_TOKEN).start()
    state_db = tmp_path_factory.mktemp("slack") / "state.sqlite3"
    slack = SlackSettings(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        mode="http",
        channels=[CHANNEL],
        mention_only=True,
        api_base_url=standin.url,
    )
    bot_settings = settings.model_copy(update={"slack": slack, "state_db": state_db})
    app = build_app(bot_settings, assistant)
    server = ThreadedServer(create_web_app(app)).start()
    try:
        yield Bot(standin, server, state_db)
    finally:
        server.stop()
        standin.stop()


def _buttons(message_blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        el["action_id"]: el
        for b in message_blocks
        if b["type"] == "actions"
        for el in b["elements"]
    }


def _corpus_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(Path("corpus").glob("*.txt")))


@pytest.fixture(scope="module")
def mention(bot: Bot) -> dict[str, Any]:
    """A mention in the channel, with Slack's duplicate `message` event and a retry of it."""
    st = bot.standin
    msg = st.add_user_message(CHANNEL, ASKER, f"<@{BOT_USER}> {QUESTION}")
    started = time.monotonic()
    first = bot.send_event(message_event(msg, CHANNEL, "app_mention"), event_id="EvMENTION1")
    ack_s = time.monotonic() - started
    # Slack also sends `message.channels` for the same message, under another event id ...
    dup = bot.send_event(message_event(msg, CHANNEL, "message"), event_id="EvMESSAGE1")
    # ... and retries the first event when it thinks the ack was lost.
    retry = bot.send_event(
        message_event(msg, CHANNEL, "app_mention"),
        event_id="EvMENTION1",
        extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    placeholder = st.wait_for("chat.postMessage", channel=CHANNEL, timeout=30)[0]
    update = st.wait_for("chat.update", channel=CHANNEL)[0]
    return {
        "msg": msg,
        "statuses": [first.status_code, dup.status_code, retry.status_code],
        "ack_s": ack_s,
        "placeholder": placeholder,
        "update": update,
    }


@pytest.mark.slow
def test_mention_gets_placeholder_then_answer_in_thread(bot: Bot, mention: dict[str, Any]) -> None:
    assert mention["statuses"] == [200, 200, 200]
    assert mention["ack_s"] < 3.0, "Slack needs its ack within 3 s"
    placeholder, update = mention["placeholder"], mention["update"]
    assert placeholder.body["thread_ts"] == mention["msg"]["ts"]
    assert placeholder.body["text"] == blocks.PLACEHOLDER_TEXT
    posted_ts = bot.standin.thread(CHANNEL, mention["msg"]["ts"])[1]["ts"]
    assert update.body["ts"] == posted_ts
    assert update.at > placeholder.at
    assert update.body["text"] != blocks.PLACEHOLDER_TEXT


@pytest.mark.slow
def test_answer_cites_papers_of_the_corpus(mention: dict[str, Any]) -> None:
    bl = mention["update"].body["blocks"]
    texts = _sections(bl)
    assert "*Sources*" in texts, texts
    answer_text = "\n".join(texts[: texts.index("*Sources*")])
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer_text)}
    sources = texts[texts.index("*Sources*") + 1 :]
    listed = {
        int(m.group(1)): m.group(2) for s in sources if (m := re.match(r"\*\[(\d+)\] (.+?)\*\n", s))
    }
    assert markers and markers <= set(listed), (answer_text, listed)
    corpus = _corpus_text()
    for title in listed.values():
        assert blocks.unescape(title) in corpus
    _check_limits(bl)
    assert {blocks.ACTION_FEEDBACK_UP, blocks.ACTION_FEEDBACK_DOWN} <= set(_buttons(bl))


@pytest.mark.slow
def test_retry_and_duplicate_event_get_one_answer(bot: Bot, mention: dict[str, Any]) -> None:
    time.sleep(1.0)  # anything the duplicates started would have posted its placeholder by now
    thread_ts = mention["msg"]["ts"]
    assert len(bot.standin.calls_to("chat.postMessage", thread_ts=thread_ts)) == 1
    posted_ts = bot.standin.thread(CHANNEL, thread_ts)[1]["ts"]
    assert len(bot.standin.calls_to("chat.update", ts=posted_ts)) == 1


@pytest.mark.slow
def test_follow_up_in_thread_carries_history(bot: Bot, mention: dict[str, Any]) -> None:
    st, parent = bot.standin, mention["msg"]["ts"]
    msg = st.add_user_message(CHANNEL, ASKER, FOLLOW_UP, thread_ts=parent)  # no mention
    assert bot.send_event(message_event(msg, CHANNEL, "message")).status_code == 200
    placeholder = st.wait_for("chat.postMessage", n=2, thread_ts=parent, timeout=30)[1]
    assert placeholder.body["text"] == blocks.PLACEHOLDER_TEXT
    st.wait_for("chat.update", n=2, channel=CHANNEL)
    assert st.calls_to("conversations.replies", channel=CHANNEL, ts=parent)
    # What the bot read back from Slack is the first question and its answer.
    thread = st.thread(CHANNEL, parent)
    history = history_from_messages(thread, before_ts=msg["ts"], bot_user_id=BOT_USER)
    assert history == [(QUESTION, blocks.unescape(mention["update"].body["text"]))]


@pytest.mark.slow
def test_dm_answered_and_other_messages_ignored(bot: Bot) -> None:
    st = bot.standin
    ignored = [
        # another bot, in the allowed channel
        {"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER", "text": QUESTION},
        {"type": "message", "user": "U0BOT2", "bot_id": "B0OTHER", "text": f"<@{BOT_USER}> hi"},
        # the bot itself
        {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": QUESTION},
        # a person, without a mention (mention_only)
        {"type": "message", "user": ASKER, "text": QUESTION},
    ]
    before = len(st.calls_to("chat.postMessage", channel=CHANNEL))
    for i, m in enumerate(ignored):
        msg = {**m, "ts": st.new_ts()}
        st.messages.setdefault(CHANNEL, []).append(msg)
        bot.send_event(message_event(msg, CHANNEL, "message"), event_id=f"EvIGNORED{i}")
    mention_elsewhere = st.add_user_message(OTHER_CHANNEL, ASKER, f"<@{BOT_USER}> {QUESTION}")
    bot.send_event(message_event(mention_elsewhere, OTHER_CHANNEL, "app_mention"))

    dm = st.add_user_message(DM, ASKER, DM_QUESTION)
    assert bot.send_event(message_event(dm, DM, "message", channel_type="im")).status_code == 200
    placeholder = st.wait_for("chat.postMessage", channel=DM, timeout=30)[0]
    assert "thread_ts" not in placeholder.body  # a DM is answered in the conversation itself
    st.wait_for("chat.update", channel=DM)
    assert st.calls_to("conversations.history", channel=DM)
    # The DM's answer took seconds; the ignored events were sent before it.
    assert len(st.calls_to("chat.postMessage", channel=CHANNEL)) == before
    assert not st.calls_to("chat.postMessage", channel=OTHER_CHANNEL)


@pytest.fixture(scope="module")
def ask(bot: Bot) -> dict[str, Any]:
    """`/ask` in the channel: an ack at once, then the ephemeral answer via response_url."""
    started = time.monotonic()
    body = command_body(QUESTION, CHANNEL, ASKER, bot.standin.response_url("ask-1"))
    resp = post(bot.url, body, SIGNING_SECRET, form=True)
    ack_s = time.monotonic() - started
    reply = bot.standin.wait_for(RESPONSE_URL_METHOD)[0]
    return {"resp": resp, "ack_s": ack_s, "reply": reply}


@pytest.mark.slow
def test_ask_replies_ephemerally_with_share_button(ask: dict[str, Any]) -> None:
    resp, reply = ask["resp"], ask["reply"]
    assert resp.status_code == 200 and ask["ack_s"] < 3.0
    assert resp.json()["response_type"] == "ephemeral"
    assert resp.json()["text"] == blocks.PLACEHOLDER_TEXT
    assert reply.path == "/response/ask-1"
    assert reply.body["response_type"] == "ephemeral"
    bl = reply.body["blocks"]
    _check_limits(bl)
    assert blocks.ACTION_SHARE in _buttons(bl)


@pytest.mark.slow
def test_share_posts_the_answer_to_the_channel(bot: Bot, ask: dict[str, Any]) -> None:
    st = bot.standin
    share = _buttons(ask["reply"].body["blocks"])[blocks.ACTION_SHARE]
    before = len(st.calls_to("chat.postMessage", channel=CHANNEL))
    name = bot.click(share, CHANNEL, ASKER, ephemeral=True)
    shared = st.wait_for("chat.postMessage", n=before + 1, channel=CHANNEL, timeout=30)[-1]
    assert "thread_ts" not in shared.body
    assert shared.body["text"] == ask["reply"].body["text"]
    shared_json = json.dumps(shared.body["blocks"])
    assert f"<@{ASKER}> asked" in shared_json
    assert blocks.ACTION_SHARE not in shared_json  # public copy: feedback buttons only
    deleted = st.wait_for(RESPONSE_URL_METHOD, timeout=30, delete_original=True)
    assert deleted[-1].path == f"/response/{name}"


@pytest.mark.slow
def test_feedback_buttons_record_ratings(bot: Bot, ask: dict[str, Any]) -> None:
    buttons = _buttons(ask["reply"].body["blocks"])
    bot.click(buttons[blocks.ACTION_FEEDBACK_UP], CHANNEL, ASKER, ephemeral=True)
    bot.click(buttons[blocks.ACTION_FEEDBACK_DOWN], CHANNEL, "U0SECOND", ephemeral=True)
    expired = dict(buttons[blocks.ACTION_FEEDBACK_UP], value="0" * 32)
    expired_name = bot.click(expired, CHANNEL, ASKER, ephemeral=True)
    bot.standin.wait_for(RESPONSE_URL_METHOD, n=3, timeout=30, replace_original=False)
    rows = FeedbackStore(bot.state_db).rows()
    assert [(r["rating"], r["user"], r["channel"]) for r in rows] == [
        (1, ASKER, "slack"),
        (-1, "U0SECOND", "slack"),
    ]
    assert rows[0]["question"] == QUESTION
    assert rows[0]["answer"] == blocks.unescape(ask["reply"].body["text"])
    expired_reply = [
        c for c in bot.standin.calls_to(RESPONSE_URL_METHOD) if c.path.endswith(expired_name)
    ]
    assert "no longer available" in expired_reply[0].body["text"]


@pytest.mark.slow
def test_forged_and_stale_requests_are_rejected(bot: Bot) -> None:
    st = bot.standin
    msg = st.add_user_message(CHANNEL, ASKER, f"<@{BOT_USER}> {QUESTION}")
    body = event_body(message_event(msg, CHANNEL, "app_mention"))
    forged = post(bot.url, body, "not-the-signing-secret")
    stale = post(bot.url, body, SIGNING_SECRET, timestamp=int(time.time()) - 6 * 60)
    # A correct signature of another body: the body was changed in transit.
    changed = httpx.post(
        bot.url,
        content=body.replace(QUESTION, "something else").encode(),
        headers={"Content-Type": "application/json", **sign(SIGNING_SECRET, body)},
    )
    assert [forged.status_code, stale.status_code, changed.status_code] == [401, 401, 401]
    time.sleep(0.5)
    assert not st.calls_to("chat.postMessage", thread_ts=msg["ts"])
    challenge = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"})
    assert post(bot.url, challenge, SIGNING_SECRET).json() == {"challenge": "abc123"}


@pytest.mark.slow
def test_tokens_never_logged(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    st = bot.standin
    msg = st.add_user_message(CHANNEL, ASKER, f"<@{BOT_USER}>")  # no question: a usage hint
    bot.send_event(message_event(msg, CHANNEL, "app_mention"))
    st.wait_for("chat.postMessage", thread_ts=msg["ts"], timeout=30)
    post(bot.url, event_body(message_event(msg, CHANNEL, "app_mention")), "forged")
    time.sleep(0.5)
    assert "Sending a request" in caplog.text  # the Web API client's debug log ran
    assert BOT_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text


# -- the manifest and the `rag slack` command ----------------------------------------------------

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "slack-manifest.yaml"


def test_manifest_matches_what_the_bot_handles() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    settings_ = manifest["settings"]
    assert {"app_mention", "message.channels", "message.im"} <= set(
        settings_["event_subscriptions"]["bot_events"]
    )
    assert settings_["interactivity"]["is_enabled"] is True
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/ask"
    urls = [command["url"], settings_["event_subscriptions"]["request_url"]]
    urls.append(settings_["interactivity"]["request_url"])
    assert all(u.endswith(EVENTS_PATH) for u in urls)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = {"app_mentions:read", "channels:history", "im:history", "chat:write", "commands"}
    assert needed <= scopes


@pytest.mark.slow
def test_rag_slack_command_serves_http_mode(rag_env: dict[str, str], tmp_path: Path) -> None:
    standin = SlackStandin(BOT_TOKEN).start()
    port = free_port()
    env = {
        **rag_env,
        "RAG_SLACK__MODE": "http",
        "RAG_SLACK__PORT": str(port),
        "RAG_SLACK__BOT_TOKEN": BOT_TOKEN,
        "RAG_SLACK__SIGNING_SECRET": SIGNING_SECRET,
        "RAG_SLACK__API_BASE_URL": standin.url,
    }
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "rag-slack.log"
    try:
        with running([str(VENV_BIN / "rag"), "slack"], f"{base}/healthz", log_path, env=env):
            url = base + EVENTS_PATH
            challenge = json.dumps({"type": "url_verification", "challenge": "c42", "token": "t"})
            assert post(url, challenge, SIGNING_SECRET).json() == {"challenge": "c42"}
            assert post(url, challenge, "forged").status_code == 401
            assert standin.calls_to("auth.test")  # it talks to the configured Web API
    finally:
        standin.stop()
    log = log_path.read_text(errors="replace")
    assert "/slack/events" in log
    assert BOT_TOKEN not in log and SIGNING_SECRET not in log
