"""Quotas at the service level (rag/service/quotas.py) over a real SQLite state file: LLM tokens
per day shared by two Quotas objects (two replicas), requests per minute on a clock the test
moves, per-token and per-user overrides, the admin token unlimited, refusals counted in the
Prometheus counter, and the UI's refusal as a one-line chat notice instead of an answer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from rag.core.errors import QuotaExceededError
from rag.core.settings import AccessToken, AccessUser, QuotaSettings, Settings
from rag.core.types import Answer, AnswerEvent
from rag.service.quotas import Quotas, quota_line
from rag.state.engine import SQLiteStateDB
from rag.state.quotas import TokenUse, utc_day

ALICE = "api:token:alice"


def _settings(tmp_path: Path, **quotas: int) -> Settings:
    tokens = [
        AccessToken(name="alice", token=SecretStr("alice-token-0123")),
        AccessToken(name="bulk", token=SecretStr("bulk-token-0123"), requests_per_minute=5),
    ]
    users = [AccessUser(username="ann", password=SecretStr("pw"), llm_tokens_per_day=0)]
    return Settings(
        state_db=tmp_path / "state.sqlite3",
        quotas=QuotaSettings(**quotas),
        access={"tokens": tokens, "users": users},  # type: ignore[arg-type]
    )


def _refusals(face: str, reason: str) -> float:
    value = REGISTRY.get_sample_value("rag_quota_refusals_total", {"face": face, "reason": reason})
    return value or 0.0


def _answer(tokens_in: int, tokens_out: int) -> Answer:
    return Answer(question="q", text="a", tokens_in=tokens_in, tokens_out=tokens_out)


def test_tokens_per_day_are_shared_through_the_state_database(tmp_path: Path) -> None:
    settings = _settings(tmp_path, llm_tokens_per_day=1000)
    one, two = Quotas(settings), Quotas(settings)  # two replicas, one state file
    one.check(ALICE, "api")
    one.record(ALICE, _answer(600, 100))
    two.check(ALICE, "api")  # 700 < 1000: admitted
    events = two.counting(ALICE, iter([AnswerEvent(answer=_answer(250, 100))]))
    assert len(list(events)) == 1
    assert TokenUse(SQLiteStateDB(settings.state_db)).used(ALICE) == 1050
    before = _refusals("api", "llm_tokens_per_day")
    with pytest.raises(QuotaExceededError) as refused:
        one.check(ALICE, "api")
    assert refused.value.reason == "llm_tokens_per_day"
    assert 0 < refused.value.retry_after_s <= 86_400
    assert "1,050 of 1,000 LLM tokens" in str(refused.value)
    assert _refusals("api", "llm_tokens_per_day") == before + 1
    # another caller and the admin token are not affected; yesterday's tokens do not count
    one.check("api:token:bulk", "api")
    one.check("api:admin", "api")
    TokenUse(SQLiteStateDB(settings.state_db)).add("api:token:bulk", 5000, day="2000-01-01")
    one.check("api:token:bulk", "api")
    assert TokenUse(SQLiteStateDB(settings.state_db)).used("api:token:bulk", utc_day()) == 0


def test_a_user_may_have_no_token_limit(tmp_path: Path) -> None:
    quotas = Quotas(_settings(tmp_path, llm_tokens_per_day=10))
    quotas.record("ui:ann", _answer(500, 500))
    quotas.check("ui:ann", "ui")  # ann's own limit: 0 (off)
    quotas.record("ui:bob", _answer(500, 500))
    with pytest.raises(QuotaExceededError):
        quotas.check("ui:bob", "ui")  # bob has the [quotas] one


def test_requests_per_minute_slide_and_refusals_are_not_counted(tmp_path: Path) -> None:
    now = [1000.0]
    quotas = Quotas(_settings(tmp_path, requests_per_minute=2), clock=lambda: now[0])
    before = _refusals("slack", "requests_per_minute")
    quotas.check(ALICE, "slack")
    now[0] += 20
    quotas.check(ALICE, "slack")
    now[0] += 10
    for _ in range(3):  # refused; the refusals do not push the window on
        with pytest.raises(QuotaExceededError) as refused:
            quotas.check(ALICE, "slack")
        assert refused.value.retry_after_s == 30  # the first request leaves the window at 60 s
    assert _refusals("slack", "requests_per_minute") == before + 3
    for _ in range(5):  # bulk's own limit is 5
        quotas.check("api:token:bulk", "slack")
    now[0] += 30  # the first request has left the window
    quotas.check(ALICE, "slack")
    with pytest.raises(QuotaExceededError):
        quotas.check(ALICE, "slack")


@pytest.mark.parametrize(
    ("limit", "wording"),
    [(1, "at most 1 request per minute"), (5, "at most 5 requests per minute")],
    ids=["singular", "plural"],
)
def test_the_requests_per_minute_line_reads_as_english(
    tmp_path: Path, limit: int, wording: str
) -> None:
    """The one line every face shows (API 429 `message`, UI, Slack, MCP tool error)."""
    quotas = Quotas(_settings(tmp_path, requests_per_minute=limit), clock=lambda: 1000.0)
    for _ in range(limit):
        quotas.check(ALICE, "api")
    with pytest.raises(QuotaExceededError) as refused:
        quotas.check(ALICE, "api")
    assert str(refused.value) == f"Quota reached: {wording}; try again in 60 s."


@pytest.mark.parametrize(
    ("limit", "used", "wording"),
    [(1, 1, "1 of 1 LLM token used today"), (2000, 2100, "2,100 of 2,000 LLM tokens used today")],
    ids=["singular", "plural"],
)
def test_the_tokens_per_day_line_reads_as_english(
    tmp_path: Path, limit: int, used: int, wording: str
) -> None:
    quotas = Quotas(_settings(tmp_path, llm_tokens_per_day=limit))
    quotas.record(ALICE, _answer(used, 0))
    with pytest.raises(QuotaExceededError) as refused:
        quotas.check(ALICE, "api")
    assert re.fullmatch(
        rf"Quota reached: {wording} \(UTC\); try again in (\d+ s|\d+ min|\d+ h( \d+ min)?)\.",
        str(refused.value),
    ), str(refused.value)


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (1, "1 s"),
        (119, "119 s"),
        (120, "2 min"),
        (7141, "2 h"),
        (7260, "2 h 1 min"),
        (10_790, "3 h"),
    ],
)
def test_a_wait_reads_as_a_duration(seconds: int, said: str) -> None:
    assert quota_line(seconds) == f"Quota reached; try again in {said}."


def test_no_quota_opens_no_database(tmp_path: Path) -> None:
    quotas = Quotas(_settings(tmp_path))
    for _ in range(100):
        quotas.check(ALICE, "api")
        quotas.record(ALICE, _answer(10_000, 10_000))
    assert not (tmp_path / "state.sqlite3").exists()


def test_the_ui_answers_a_refusal_with_one_line(tmp_path: Path) -> None:
    """The UI's chat handler (the real controller over a real tiny index): over the quota, the
    quota's message is the assistant's message, and no answer or source is shown."""
    from two_collections import build

    from rag.service.assistant import Assistant
    from rag.ui.app import ChatController

    built = build(tmp_path / "faces")
    settings = built.settings.model_copy(update={"quotas": QuotaSettings(requests_per_minute=2)})
    controller = ChatController(Assistant(settings, build_index=False, progress=False), settings)
    for _ in range(2):  # this minute's two requests of the local user
        controller.quotas.check("ui:local", "ui")
    before = _refusals("ui", "requests_per_minute")
    outputs = list(controller.respond("By how much does Heron reduce latency?", [], 5, True, []))
    chat, turns = outputs[-1][1], outputs[-1][2]
    assert "Quota reached: at most 2 requests per minute" in chat[-1]["content"]
    assert turns == []  # no answer was kept
    assert _refusals("ui", "requests_per_minute") == before + 1
