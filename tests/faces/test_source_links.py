"""Source links outside the API: with `public_url` (`RAG_PUBLIC_URL`, the externally reachable
base of `rag serve`) each cited source in a Slack answer links to its source view at the cited
sentence, the URL the API's `url_citation` annotations open (rag/service/export.py), and `rag ask`
prints it under each source; without it, no link (nothing says where the API is reached).

The Slack bot runs as in tests/faces/test_slack.py: its HTTP app on 127.0.0.1, signed requests,
the local stand-in for Slack's Web API recording what the bot posts; the answers come from the
session's real assistant. `rag ask` runs as a process."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from servers import VENV_BIN
from slack_requests import ThreadedServer, event_body, message_event, post
from slack_standin import BOT_USER, SlackStandin

from rag.core.settings import Settings, SlackSettings
from rag.core.types import Answer, Citation
from rag.slack import blocks
from rag.slack.app import EVENTS_PATH, build_app, create_web_app
from rag.slack.state import AnswerCache
from rag.state.engine import SQLiteStateDB

BOT_TOKEN = "xoxb-test-0000-links-bot-token"
SIGNING_SECRET = "signing-secret-links-0123456789"
ASKER = "U0ASKER"
PUBLIC = "https://rag.example.org/team"  # a base with a path: links keep it
QUESTION = (
    "Which method uses neural ODEs to speed up inference of parameter-shared language models?"
)
# Slack's mrkdwn link: <url|text>
LINK = re.compile(r"<([^|>]+)\|([^>]*)>")


def _expected_url(c: Citation) -> str:
    """What the API's `url_citation` annotation of this citation opens, on PUBLIC: the API
    builds it with `view_url(str(request.base_url))` (rag/api/routers/chat.py)."""
    from rag.service.export import view_url

    return view_url(PUBLIC)(c)


def _answered(
    settings: Settings, assistant: Any, tmp: Path, channel: str, public_url: str | None
) -> tuple[dict[str, Any], Answer]:
    """A mention answered by a bot run with `public_url`: the blocks it posted (chat.update)
    and the answer behind them (read back from the bot's answer cache by its buttons' id)."""
    standin = SlackStandin(BOT_TOKEN).start()
    slack = SlackSettings(
        bot_token=SecretStr(BOT_TOKEN),
        signing_secret=SecretStr(SIGNING_SECRET),
        mode="http",
        api_base_url=standin.url,
    )
    state_db = tmp / "state.sqlite3"
    changes = {"slack": slack, "state_db": state_db, "public_url": public_url}
    app = build_app(settings.model_copy(update=changes), assistant)
    server = ThreadedServer(create_web_app(app)).start()
    try:
        msg = standin.add_user_message(channel, ASKER, f"<@{BOT_USER}> {QUESTION}")
        body = event_body(message_event(msg, channel, "app_mention"), f"Ev{time.monotonic_ns()}")
        assert post(server.url + EVENTS_PATH, body, SIGNING_SECRET).status_code == 200
        update = standin.wait_for("chat.update", channel=channel, timeout=120)[0]
    finally:
        server.stop()
        standin.stop()
    ids = [
        el["value"] for b in update.body["blocks"] if b["type"] == "actions" for el in b["elements"]
    ]
    assert ids, update.body
    answer_id = ids[0]
    answer = AnswerCache(SQLiteStateDB(state_db)).get(answer_id)
    assert answer is not None
    return update.body, answer


@pytest.fixture(scope="module")
def linked(
    settings: Settings, assistant: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Answer]:
    return _answered(settings, assistant, tmp_path_factory.mktemp("linked"), "C0LINKED", PUBLIC)


@pytest.fixture(scope="module")
def plain(
    settings: Settings, assistant: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Answer]:
    return _answered(settings, assistant, tmp_path_factory.mktemp("plain"), "C0PLAIN", None)


def _source_sections(message: dict[str, Any]) -> list[str]:
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert "*Sources*" in texts, texts
    return texts[texts.index("*Sources*") + 1 :]


@pytest.mark.slow
def test_slack_sources_link_to_the_source_view_when_public_url_is_set(
    linked: tuple[dict[str, Any], Answer],
) -> None:
    message, answer = linked
    assert answer.citations and not answer.abstained
    sources = _source_sections(message)
    assert len(sources) == len(answer.citations)
    for section, c in zip(sources, answer.citations, strict=True):
        links = LINK.findall(section)
        assert len(links) == 1, section  # the title, and only it, is a link
        url, text = links[0]
        assert blocks.unescape(url) == _expected_url(c)
        assert url.startswith(f"{PUBLIC}/v1/sources/") and "/view?hl=" in url
        assert url.endswith("#cited")
        assert section.startswith(f"*[{c.number}] <")
        assert blocks.unescape(text) == " ".join(c.title.split())
    # the fallback text (notifications, thread history) carries no markup
    assert "<http" not in message["text"]


@pytest.mark.slow
def test_slack_sources_have_no_link_without_public_url(
    plain: tuple[dict[str, Any], Answer], linked: tuple[dict[str, Any], Answer]
) -> None:
    message, answer = plain
    assert answer.citations
    for section, c in zip(_source_sections(message), answer.citations, strict=True):
        assert not LINK.search(section), section
        assert section.startswith(f"*[{c.number}] {blocks.escape(c.title)}*")
    assert "http" not in str(message["blocks"])
    # the same answer either way: only the links differ
    assert plain[1].text == linked[1].text
    assert [c.number for c in plain[1].citations] == [c.number for c in linked[1].citations]


@pytest.fixture(scope="module")
def cli_ask(rag_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**rag_env, "RAG_PUBLIC_URL": PUBLIC, "COLUMNS": "80", "NO_COLOR": "1"}
    return subprocess.run(
        [str(VENV_BIN / "rag"), "ask", QUESTION],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_rag_ask_prints_each_source_view_url_when_public_url_is_set(
    cli_ask: subprocess.CompletedProcess[str], assistant: Any
) -> None:
    assert cli_ask.returncode == 0, cli_ask.stderr
    out = cli_ask.stdout
    sources = out.split("Sources:", 1)[1]
    printed = re.findall(r"^ {6}(https?://\S+)$", sources, re.M)
    numbers = re.findall(r"^  \[(\d+)\] ", sources, re.M)
    assert printed and len(printed) == len(numbers), out  # one URL per source, on one line
    for url in printed:
        assert url.startswith(f"{PUBLIC}/v1/sources/") and url.endswith("#cited"), url
    # the same URL the API's annotations and the Slack link give, for the same answer
    answer = assistant.ask(QUESTION)
    assert printed == [_expected_url(c) for c in answer.citations]


def test_print_answer_prints_no_url_without_public_url() -> None:
    from io import StringIO

    from rich.console import Console

    from rag.cli import print_answer
    from rag.service.export import public_view_url

    c = Citation(number=1, title="T", source="s.txt", snippet="A sentence.", score=0.5, doc_id="d1")
    answer = Answer(question="q?", text="It does [1].", citations=[c])
    assert public_view_url(None) is None and public_view_url("  ") is None
    out = StringIO()
    print_answer(answer, Console(file=out, width=200), url=public_view_url(None))
    assert "http" not in out.getvalue() and "[1] T" in out.getvalue()
    out = StringIO()
    print_answer(answer, Console(file=out, width=200), url=public_view_url(PUBLIC))
    assert f"{PUBLIC}/v1/sources/d1/view?hl=A%20sentence.#cited" in out.getvalue()


def test_rag_retrieve_prints_readable_sources_not_stored_file_names() -> None:
    """`rag retrieve` names each passage's source as `rag ask` does: the listing's label and
    date, or the page of a file, never the hashed name the listing is stored under."""
    from io import StringIO

    from rich.console import Console

    from rag.cli import print_passages
    from rag.core.types import Passage

    listed = Passage(
        text="We present Zorb.",
        score=0.61,
        title="Zorb: Fast Caches",
        source="000_194d850b866ee11c.txt",
        doc_id="paper-zorb",
        label="Daily Papers · Aug 8",
    )
    paged = Passage(
        text="Page text.", score=0.4, title="Report", source="report.pdf", doc_id="r", page=4
    )
    out = StringIO()
    print_passages([listed, paged], Console(file=out, width=200))
    printed = out.getvalue()
    assert "Zorb: Fast Caches (Daily Papers · Aug 8) score=0.6100" in printed, printed
    assert "194d850b" not in printed
    assert "Report (report.pdf, p. 4)" in printed, printed


@pytest.fixture(autouse=True)
def _no_leftover_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("RAG_PUBLIC_URL", raising=False)
    yield
