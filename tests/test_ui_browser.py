"""The Gradio chat UI, driven in headless Chromium against `rag ui` on 127.0.0.1.

Real parts only: the app runs as its own process over the session's index with the local LLM;
Chromium is Debian's (`make browser`); feedback is read back from the SQLite store. Screenshots
and the measured time to first token go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import VENV_BIN, free_port, running

from rag.settings import PROJECT_DIR, Settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts"
QUESTION = "Which paper quantizes the KV cache by identifying salient tokens?"
OFF_COLLECTION = "What is the best recipe for sourdough bread?"
ANSWER_TIMEOUT_MS = 240_000  # the 135M model on 2 busy CPU cores; normally a few seconds

# Records, in the page, what the reader sees while it works: [ms since click, what]. "status:…"
# for a status line, "sources" once retrieved passages fill the Sources panel, "draft" if any
# unchecked text were ever shown (it must not be).
WATCH_DRAFT_JS = """
() => {
  window.__t0 = performance.now();
  window.__drafts = [];
  const seen = new Set();
  const note = (what) => {
    if (seen.has(what)) return;
    seen.add(what);
    window.__drafts.push([performance.now() - window.__t0, what]);
  };
  const obs = new MutationObserver(() => {
    const p = [...document.querySelectorAll('#chat .pending')].pop();
    if (p) note('status:' + p.textContent.trim());
    if (document.querySelector('#chat .draft')) note('draft');
    const panel = document.querySelector('#sources-panel');
    if (panel && panel.textContent.includes('Retrieved passages')) note('sources');
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (run `make browser`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def _start_ui(env: dict[str, str], name: str) -> Any:
    port = free_port()
    env = {**env, "RAG_UI__HOST": "127.0.0.1", "RAG_UI__PORT": str(port)}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return port, running(
        [str(VENV_BIN / "rag"), "ui"],
        f"http://127.0.0.1:{port}/config",
        ARTIFACTS / f"{name}.log",
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def ui_url(rag_env: dict[str, str]) -> Iterator[str]:
    """`rag ui` over the session's index, with the default local LLM."""
    port, server = _start_ui(rag_env, "ui_server")
    with server:
        yield f"http://127.0.0.1:{port}"


class PageRun:
    """A browser page that remembers every request leaving 127.0.0.1."""

    def __init__(self, browser: Any, url: str, login: tuple[str, str] | None = None) -> None:
        self.external: list[str] = []
        self.ctx = browser.new_context(viewport={"width": 1360, "height": 1000})
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(60_000)
        self.page.on("request", self._on_request)
        self.page.goto(url)
        if login:
            self.page.get_by_label("username").fill(login[0])
            self.page.get_by_label("password").fill(login[1])
            self.page.keyboard.press("Enter")
        self.page.wait_for_selector("#question textarea")

    def _on_request(self, request: Any) -> None:
        if not request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            self.external.append(request.url)

    def ask(self, question: str) -> None:
        self.page.fill("#question textarea", question)
        self.page.click("#ask")

    def last_bot(self) -> Any:
        return self.page.locator('#chat [data-testid="bot"]').last

    def wait_final(self) -> Any:
        """The last bot bubble once it holds the checked answer, abstention or error."""
        final = self.page.locator(
            '#chat [data-testid="bot"] :is(.answer, .abstain, .error-msg)'
        ).last
        final.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
        return final

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def run(browser: Any, ui_url: str) -> Iterator[PageRun]:
    r = PageRun(browser, ui_url)
    yield r
    r.ctx.close()


def _open_side_panels(run: PageRun) -> None:
    """Open Settings and Index, and wait until the LLM is loaded (the app warms it up)."""
    page = run.page
    page.get_by_text("Settings", exact=True).first.click()
    page.get_by_text("Index", exact=True).first.click()
    page.wait_for_function(
        "() => /LLM: \\S/.test(document.querySelector('#llm-name')?.textContent || '')",
        timeout=ANSWER_TIMEOUT_MS,
    )
    page.wait_for_function(
        "() => /\\d+ documents/.test(document.querySelector('#index-status')?.textContent || '')"
    )


def _feedback_rows(db: Path, question: str) -> list[tuple[Any, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT rating, channel, answer, citations FROM feedback WHERE question = ?",
            (question,),
        ).fetchall()


def test_answer_streams_cites_sources_and_takes_feedback(run: PageRun, settings: Settings) -> None:
    page = run.page
    _open_side_panels(run)
    assert "documents" in page.inner_text("#index-status")
    run.shot("ui_first_screen")

    page.evaluate(WATCH_DRAFT_JS)
    run.ask(QUESTION)
    final = run.wait_final()
    seen: list[list[Any]] = page.evaluate("window.__drafts")
    total_ms = page.evaluate("performance.now() - window.__t0")

    # While it works the reader sees status lines and the retrieved sources, never a draft.
    kinds = [str(w) for _, w in seen]
    assert "draft" not in kinds, seen
    assert any(k.startswith("status:") for k in kinds), seen
    assert "sources" in kinds, seen
    sources_s = next(t for t, w in seen if w == "sources") / 1000
    (ARTIFACTS / "ui_timings.json").write_text(
        json.dumps(
            {"time_to_sources_s": sources_s, "time_to_final_answer_s": total_ms / 1000},
            indent=2,
        )
    )
    print(f"\nUI time to sources: {sources_s:.2f}s; final answer: {total_ms / 1000:.2f}s")
    # The first line answers: the paper the question describes, with its citation.
    first_line = final.inner_text().strip().splitlines()[0]
    assert "ZipCache" in first_line and "[1]" in first_line, first_line

    # The checked answer: [n] markers that link to cards in the Sources panel.
    assert "answer" in (final.get_attribute("class") or ""), final.inner_text()
    cite = run.last_bot().locator("a.cite").first
    cite.wait_for()
    anchor = (cite.get_attribute("href") or "").lstrip("#")
    number = cite.inner_text().strip("[]")
    card = page.locator(f"#sources-panel #{anchor}")
    card.wait_for()
    assert card.locator(".src-num").inner_text() == number
    title = card.locator(".src-title").inner_text()
    source_file = card.locator(".src-file").inner_text()
    corpus_files = {p.name for p in settings.corpus_dir.iterdir()}
    assert source_file in corpus_files
    assert title and title in (cite.get_attribute("title") or "")
    assert card.locator(".src-snippet").inner_text().strip()
    assert "score" in card.locator(".src-score").inner_text()
    cite.click()
    assert page.url.endswith(f"#{anchor}")
    run.shot("ui_answer")

    # Thumbs up lands in the feedback store with the question, answer and citations.
    answer_text = final.inner_text()
    page.locator('#chat [aria-label="Like"]').last.click()
    deadline = time.monotonic() + 20
    rows = _feedback_rows(settings.state_db, QUESTION)
    while not rows and time.monotonic() < deadline:
        time.sleep(0.3)
        rows = _feedback_rows(settings.state_db, QUESTION)
    assert rows, "no feedback row stored"
    rating, channel, stored_answer, citations = rows[-1]
    assert (rating, channel) == (1, "ui")
    assert stored_answer.split("[")[0].strip()[:40] in answer_text
    assert title in {c["title"] for c in json.loads(citations)}

    assert run.external == [], f"the page called out: {run.external}"


def test_off_collection_question_abstains_with_related_passages(run: PageRun) -> None:
    run.ask(OFF_COLLECTION)
    final = run.wait_final()
    assert "abstain" in (final.get_attribute("class") or ""), final.inner_text()
    assert "Not in the collection" in final.inner_text()
    assert final.locator(".related li").count() >= 1
    # The panel offers the related passages, marked as not cited.
    panel = run.page.locator("#sources-panel")
    assert "Related passages" in panel.inner_text()
    assert panel.locator(".src-card").count() >= 1
    run.shot("ui_abstain")


def test_follow_up_and_new_chat(run: PageRun) -> None:
    """Two turns stay in the chat; "New chat" empties chat and Sources."""
    run.ask(QUESTION)
    run.wait_final()
    run.ask("What does it reduce?")
    run.page.locator('#chat [data-testid="bot"]').nth(1).locator(
        ":is(.answer, .abstain, .error-msg)"
    ).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert run.page.locator('#chat [data-testid="user"]').count() == 2
    run.page.click("#new-chat")
    run.page.locator('#chat [data-testid="user"]').first.wait_for(state="detached")
    assert run.page.locator("#sources-panel .src-card").count() == 0


def test_empty_question_is_a_chat_message(run: PageRun) -> None:
    run.page.click("#ask")
    err = run.wait_final()
    assert "error-msg" in (err.get_attribute("class") or "")
    assert "empty" in err.inner_text().lower()
    assert "Traceback" not in run.page.content()


def test_chat_api_from_gradio_client(ui_url: str) -> None:
    """The chat endpoint works from Python, here with hybrid retrieval off (vector only)."""
    from gradio_client import Client

    client = Client(ui_url, verbose=False)
    _, chat, sources = client.predict(QUESTION, [], 3, False, api_name="/chat")
    assert chat[0]["content"] == QUESTION or QUESTION in str(chat[0]["content"])
    reply = str(chat[-1]["content"])
    assert 'class="answer"' in reply or 'class="abstain"' in reply
    assert "src-card" in sources


@pytest.fixture(scope="module")
def broken_ui_url() -> Iterator[str]:
    """`rag ui` behind a login, told to use an assistant API where nothing listens."""
    import os

    env = dict(os.environ)
    env.update(
        {
            "RAG_API_URL": f"http://127.0.0.1:{free_port()}",
            "RAG_UI__USERNAME": "ada",
            "RAG_UI__PASSWORD": "s3cret-pass",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "HF_HUB_OFFLINE": "1",
        }
    )
    port, server = _start_ui(env, "ui_server_unreachable")
    with server:
        yield f"http://127.0.0.1:{port}"


def test_login_then_unreachable_backend_is_a_chat_message(browser: Any, broken_ui_url: str) -> None:
    import httpx

    assert httpx.get(f"{broken_ui_url}/config").status_code in (401, 403)
    r = PageRun(browser, broken_ui_url, login=("ada", "s3cret-pass"))
    try:
        r.ask(QUESTION)
        err = r.wait_final()
        assert "error-msg" in (err.get_attribute("class") or "")
        assert "reached" in err.inner_text() or "unavailable" in err.inner_text().lower()
        assert "Traceback" not in r.page.content()
        r.shot("ui_error")
    finally:
        r.ctx.close()
