"""A spent per-user quota in the chat UI (issue 25), in headless Chromium against real servers on
127.0.0.1 over a tiny real index (tests/support/two_collections.py).

Asked twice within a minute under `requests_per_minute = 1`, the second question is answered by
one plain line in the chat, the answer bubble's error line: "Could not answer. Quota reached: …;
try again in N s.",
with no stack trace, exception name or token on the page. Both ways the UI can answer:

- in process (`rag ui` with `RAG_QUOTAS__REQUESTS_PER_MINUTE=1`: the UI's own per-user quota,
  rag/service/quotas.py), and
- over `api_url` (`rag ui` with `RAG_API_URL` and a token of `rag serve` whose quota is one request
  a minute: the server's 429 comes back as the same line, its wait from `Retry-After`,
  rag/service/client.py).

The two questions are asked one after the other, so the first answer must come within the
minute (a few seconds on this tiny index, even on 2 busy CPU cores).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import VENV_BIN, Launch, free_port, running, running_together
from test_ui_browser import PageRun, browser  # noqa: F401  (a fixture, used by name)
from two_collections import HERON_Q, Built, build

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LOGS = Path(__file__).resolve().parents[1] / "artifacts"
ADMIN = "ui-quota-admin-token-0123456789"
TINY = "ui-quota-tiny-token-0123456789"  # one request a minute on `rag serve`
QUOTA_LINE = re.compile(
    r"^Could not answer\. Quota reached: at most 1 request per minute; try again in (\d+) s\.$"
)
NOT_FOR_READERS = ("Traceback", 'File "', "QuotaExceededError", "RagError", "429", TINY)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(tmp_path_factory.mktemp("ui-quota"))


@pytest.fixture(scope="module")
def local_ui(built: Built) -> Iterator[str]:
    """`rag ui` answering in process, one request a minute per user."""
    port = free_port()
    env = built.env(
        RAG_UI__HOST="127.0.0.1",
        RAG_UI__PORT=str(port),
        RAG_QUOTAS__REQUESTS_PER_MINUTE="1",
    )
    LOGS.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with running([str(VENV_BIN / "rag"), "ui"], f"{url}/config", LOGS / "ui_quota.log", env, 300):
        yield url


@pytest.fixture(scope="module")
def remote_ui(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag ui` over `api_url`: `rag serve` answers, the UI's token may ask once a minute there
    (the UI's own quota is off)."""
    api_port, ui_port = free_port(), free_port()
    api, url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}"
    tokens = [{"name": "tinyui", "token": TINY, "collections": ["*"], "requests_per_minute": 1}]
    api_env = built.env(
        RAG_API__HOST="127.0.0.1",
        RAG_API__PORT=str(api_port),
        RAG_ACCESS__TOKENS=json.dumps(tokens),
        RAG_SECURITY__ADMIN_TOKEN=ADMIN,
    )
    ui_state = tmp_path_factory.mktemp("ui-quota-remote")
    ui_env = built.env(
        RAG_UI__HOST="127.0.0.1",
        RAG_UI__PORT=str(ui_port),
        RAG_API_URL=api,
        RAG_API_TOKEN=TINY,
        RAG_STATE_DB=str(ui_state / "state.sqlite3"),
    )
    LOGS.mkdir(parents=True, exist_ok=True)
    launches = [
        Launch(
            [str(VENV_BIN / "rag"), "serve"], f"{api}/health", LOGS / "ui_quota_api.log", api_env
        ),
        Launch(
            [str(VENV_BIN / "rag"), "ui"], f"{url}/config", LOGS / "ui_quota_remote.log", ui_env
        ),
    ]
    with running_together(launches, timeout=300):
        yield url


def _ask_twice(browser: Any, url: str) -> tuple[str, str]:  # noqa: F811
    """The first answer's text and the second's refusal line (page checked for leaks)."""
    r = PageRun(browser, url)
    try:
        r.ask(HERON_Q)
        first = r.bot(0)
        assert "error-msg" not in (first.get_attribute("class") or ""), first.inner_text()
        r.ask(HERON_Q)
        second = r.bot(1)
        assert "error-msg" in (second.get_attribute("class") or ""), second.inner_text()
        assert second.is_visible()
        line = second.inner_text().strip()
        shown = r.page.locator("body").inner_text()
        assert [s for s in NOT_FOR_READERS if s in shown] == [], line
        assert "Traceback" not in r.page.content()
        assert r.page.locator(".toast-body").count() == 0  # no Gradio error toast either
        return first.inner_text(), line
    finally:
        r.ctx.close()


def _assert_quota_line(line: str) -> None:
    found = QUOTA_LINE.search(line)
    assert found, line
    assert 1 <= int(found.group(1)) <= 60, line
    assert len(line.splitlines()) == 1, line


@pytest.mark.parametrize("ui", ["local_ui", "remote_ui"])
def test_second_question_over_the_quota_is_a_plain_line(
    browser: Any,  # noqa: F811
    ui: str,
    request: pytest.FixtureRequest,
) -> None:
    """The UI's own quota (local_ui) and the API's, met through a remote UI (remote_ui), end
    the second question with the same plain line."""
    first, line = _ask_twice(browser, request.getfixturevalue(ui))
    assert "31%" in first, first
    _assert_quota_line(line)
