"""The Gradio chat UI, driven in headless Chromium against `rag ui` on 127.0.0.1.

Real parts only: the app runs as its own process with the local LLM, over its own copy of the
session's index (the tests upload and delete documents), its own uploads folder and state
database; Chromium is Debian's (`make browser`); feedback is read back from the SQLite store.
Screenshots (1360x1000 and phone width, 390x844), the measured time to the first answer and the
time from uploading a 20-page PDF to its first answer go to tests/artifacts/ (git-ignored); the
README's screenshot, docs/img/ui.png, is taken here from the real app with a correct answer.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
from pdfs import KESTREL_PAGES, KESTREL_THROUGHPUT_Q, KESTREL_TITLE, filler_pages, make_pdf
from servers import VENV_BIN, free_port, isolated_env, running

from rag.core.settings import PROJECT_DIR, Settings

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_DIR / "tests" / "artifacts"
README_SHOT = PROJECT_DIR / "docs" / "img" / "ui.png"
ADMIN = "ui-admin-token-0123456789"
HASHED_NAME = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")
QUESTION = "Which paper quantizes the KV cache by identifying salient tokens?"
OFF_COLLECTION = "Which papers study EEG signal decoding?"  # refused, with related reading
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


@dataclass
class UI:
    url: str
    state_db: Path
    uploads: Path


@pytest.fixture(scope="module")
def ui(
    rag_env: dict[str, str], settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UI]:
    """`rag ui` over a copy of the session's index, with the default local LLM and an admin
    token (uploads need it)."""
    where = tmp_path_factory.mktemp("ui")
    env = {**isolated_env(rag_env, settings.index_dir, where), "RAG_SECURITY__ADMIN_TOKEN": ADMIN}
    port, server = _start_ui(env, "ui_server")
    with server:
        yield UI(f"http://127.0.0.1:{port}", where / "state.sqlite3", where / "uploads")


@pytest.fixture(scope="module")
def ui_url(ui: UI) -> str:
    return ui.url


class PageRun:
    """A browser page that remembers every request leaving 127.0.0.1."""

    def __init__(
        self,
        browser: Any,
        url: str,
        login: tuple[str, str] | None = None,
        viewport: tuple[int, int] = (1360, 1000),
    ) -> None:
        self.url = url
        self.external: list[str] = []
        phone = viewport[0] < 600
        self.ctx = browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            is_mobile=phone,
            has_touch=phone,
        )
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

    def bot(self, i: int) -> Any:
        """The final content of the i-th answer bubble (0-based), once there."""
        final = self.page.locator('#chat [data-testid="bot"]').nth(i)
        inner = final.locator(":is(.answer, .abstain, .error-msg)")
        inner.wait_for(timeout=ANSWER_TIMEOUT_MS)
        return inner


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


def test_answer_streams_cites_sources_and_takes_feedback(run: PageRun, ui: UI) -> None:
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
    # A readable source: the listing's own name and date, not its hashed file name (on hover).
    label = card.locator(".src-file").inner_text()
    assert label.startswith(("Daily Papers · ", "Trending papers")), label
    assert HASHED_NAME.match(card.locator(".src-file").get_attribute("title") or "")
    assert title and title in (cite.get_attribute("title") or "")
    assert card.locator(".src-snippet").inner_text().strip()
    # Relevance in words (and a bar); the raw scores only on hover.
    score = card.locator(".src-score")
    assert score.inner_text().strip() in ("high", "medium", "low")
    assert "retrieval score" in (score.get_attribute("title") or "")
    assert not re.search(r"\d\.\d{3}", card.inner_text()), card.inner_text()
    cite.click()
    assert page.url.endswith(f"#{anchor}")
    run.shot("ui_answer")
    # The [n] also shows its source, over the Sources column (test_ui_source_panel.py); closed,
    # the lit card is there.
    page.locator("#source-panel").wait_for()
    page.click("#source-panel-close")
    page.locator("#source-panel").wait_for(state="hidden")
    # The README's picture: the question, its correct cited answer and the lit card, in view.
    for panel in ("Settings", "Index"):
        page.get_by_text(panel, exact=True).first.click()
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(500)
    README_SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(README_SHOT))

    # Thumbs up lands in the feedback store with the question, answer and citations.
    answer_text = final.inner_text()
    page.locator('#chat [aria-label="Like"]').last.click()
    deadline = time.monotonic() + 20
    rows = _feedback_rows(ui.state_db, QUESTION)
    while not rows and time.monotonic() < deadline:
        time.sleep(0.3)
        rows = _feedback_rows(ui.state_db, QUESTION)
    assert rows, "no feedback row stored"
    rating, channel, stored_answer, citations = rows[-1]
    assert (rating, channel) == (1, "ui")
    assert stored_answer.split("[")[0].strip()[:40] in answer_text
    assert title in {c["title"] for c in json.loads(citations)}

    # The notice sits under the question box, not over the Sources heading, and goes away.
    note = page.locator("#feedback-note .fb-note")
    note.wait_for()
    assert "feedback saved" in note.inner_text()
    assert not _overlap(note.bounding_box(), page.locator("#sources-h").bounding_box())
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('#feedback-note .fb-note'))"
        ".visibility === 'hidden'",
        timeout=10_000,
    )

    assert run.external == [], f"the page called out: {run.external}"


def _overlap(a: dict[str, float] | None, b: dict[str, float] | None) -> bool:
    if not a or not b:
        return False
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


SOURCE_VIEW_SHOT = PROJECT_DIR / "docs" / "img" / "source-view.png"
CITED_IN_VIEW_JS = """
() => { const r = document.getElementById('cited').getBoundingClientRect();
  return r.top >= 0 && r.top < window.innerHeight; }
"""


def test_open_link_shows_the_cited_sentence_of_the_abstract(run: PageRun, ui: UI) -> None:
    """A cited listing paper opens as its title, listing label and abstract, the cited sentence
    marked and in view (not the listing file's ~800 lines of page chrome); the original file is
    one link away. The answering passage reads "high"."""
    page = run.page
    run.ask(QUESTION)
    run.wait_final()
    card = page.locator("#sources-panel .src-card").first
    assert "ZipCache" in card.locator(".src-title").inner_text()
    assert card.locator(".src-score").inner_text().strip() == "high"
    snippet = " ".join(card.locator(".src-snippet").inner_text().split()).rstrip("…")
    link = card.locator("a.src-open")
    with run.ctx.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.set_viewport_size({"width": 1000, "height": 640})
    assert "/document/paper-" in tab.url and tab.url.endswith("#cited"), tab.url
    mark = tab.locator("mark#cited")
    mark.wait_for()
    assert "ZipCache" in tab.locator("h1").inner_text()
    meta = tab.locator(".meta").inner_text()
    assert meta.startswith(("Daily Papers · ", "Trending papers")), meta
    body = tab.locator("body").inner_text()
    assert "Get trending papers" not in body and "Subscribe" not in body
    assert len(body) < 4000, len(body)  # the abstract, not the listing
    marked = " ".join(mark.inner_text().split())
    assert marked.startswith(snippet[:60]), (marked, snippet)
    SOURCE_VIEW_SHOT.parent.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SOURCE_VIEW_SHOT))
    # The link scrolls the cited sentence into view by itself (its #cited), even in a window
    # too short to show it without scrolling.
    short = run.ctx.new_page()
    short.set_viewport_size({"width": 900, "height": 200})
    short.goto(tab.url)
    short.locator("mark#cited").wait_for()
    short.wait_for_function(CITED_IN_VIEW_JS, timeout=5_000)
    assert short.evaluate("window.scrollY") > 0
    short.close()
    href = tab.get_by_text("original file").get_attribute("href") or ""
    original = run.ctx.request.get(urljoin(tab.url, href))
    assert original.status == 200 and original.headers["content-type"].startswith("text/plain")
    assert "Get trending papers" in original.text()  # the raw listing is still there
    tab.close()
    assert run.external == [], f"the page called out: {run.external}"


def _sentences(text: str) -> list[str]:
    """The sentences of a passage, whitespace made single."""
    return [" ".join(x.split()) for x in re.split(r"(?<=[.!?])\s+", text) if x.strip()]


MARK_IN_FRAME_VIEW_JS = """
(m) => { const r = m.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }
"""


def test_citation_shows_its_source_in_the_panel_and_closes(run: PageRun) -> None:
    """Clicking an answer's [n] shows its source in the page's source panel (the source view:
    title, listing label, the abstract with the cited sentence marked and in view, the original
    file a click away), with a new-tab link to the same view; Close (or Escape) hides it and
    gives focus back. The card's "Show source" button does the same from the keyboard."""
    page = run.page
    run.ask(QUESTION)
    run.wait_final()
    cite = run.last_bot().locator("a.cite").first
    cite.wait_for()
    card = page.locator(f"#sources-panel {cite.get_attribute('href')}")
    card.wait_for()
    title = card.locator(".src-title").inner_text()
    snippet = " ".join(card.locator(".src-snippet").inner_text().split()).rstrip("…")
    full = card.locator("details p")
    passage = full.first.text_content() if full.count() else snippet
    view = card.locator("a.src-open").get_attribute("href") or ""
    panel = page.locator("#source-panel")
    assert panel.is_hidden()

    cite.click()
    panel.wait_for(state="visible")
    frame = page.frame_locator("#source-panel-frame")
    mark = frame.locator("mark#cited")
    mark.wait_for()
    marked = " ".join(mark.inner_text().split())
    # whole sentences of the passage, one or a run of them (a lead may cite two in a row)
    whole = _sentences(passage or "")
    assert _sentences(marked) and all(s in whole for s in _sentences(marked)), (marked, passage)
    assert marked in " ".join(whole), (marked, passage)
    # the snippet's sentence that the claim carrying [n] rests on (rag/answer/citations.py)
    assert any(marked.startswith(s[:60]) for s in _sentences(snippet)), (marked, snippet)
    assert "ZipCache" in frame.locator("h1").inner_text()
    meta = frame.locator(".meta").inner_text()
    assert meta.startswith(("Daily Papers · ", "Trending papers")), meta
    assert "Get trending papers" not in frame.locator("body").inner_text()
    original = frame.get_by_text("original file").get_attribute("href") or ""
    assert original.startswith("/document/") and "/file" in original, original
    assert title in page.locator("#source-panel-h").inner_text()
    # The same source view as the new-tab link, which is kept (and also in the panel's bar);
    # the frame loads it without its #cited, whose jump would also scroll the page, and is
    # scrolled to the cited sentence by the page (test_ui_source_panel.py).
    src = page.locator("#source-panel-frame").get_attribute("src") or ""
    assert src + "#cited" == view and view.startswith("/document/"), (src, view)
    tab = page.locator("#source-panel a#source-panel-tab")
    assert tab.get_attribute("href") == view and tab.get_attribute("target") == "_blank"
    # The cited sentence is scrolled into view in the panel, the panel into the window, and
    # focus moved to it; the page did not leave the chat.
    deadline = time.monotonic() + 5
    while not mark.evaluate(MARK_IN_FRAME_VIEW_JS) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert mark.evaluate(MARK_IN_FRAME_VIEW_JS)
    box = panel.bounding_box()
    assert box and box["y"] < 1000 and box["y"] + box["height"] > 0, box
    assert page.evaluate("document.activeElement.id") == "source-panel-h"
    assert len(run.ctx.pages) == 1
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "ui_source_panel.png"))

    page.click("#source-panel-close")
    panel.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('cite')")

    # From the keyboard: the card's "Show source" button, then Escape.
    show = card.locator("button.src-show")
    show.focus()
    page.keyboard.press("Enter")
    panel.wait_for(state="visible")
    frame.locator("mark#cited").wait_for()
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('src-show')")
    assert run.external == [], f"the page called out: {run.external}"


def test_ui_exports_the_conversation_as_json(run: PageRun, ui: UI) -> None:
    """ "Export as JSON": the conversation's id, turns and citations, each with the URL of its
    source view, as the API's `format=json` gives them."""
    page = run.page
    run.ask(QUESTION)
    final = run.wait_final()
    page.locator("#conversations label", has_text=QUESTION).first.wait_for()
    page.get_by_text("Rename or delete", exact=True).click()
    page.click("#conv-export-json")
    link = page.locator('#conv-exported a[href$=".json"]').first
    link.wait_for()
    got = run.ctx.request.get(urljoin(run.url + "/", link.get_attribute("href") or ""))
    assert got.status == 200
    data = json.loads(got.text())
    with sqlite3.connect(ui.state_db) as con:
        ids = {
            r[0] for r in con.execute("SELECT id FROM conversations WHERE title = ?", (QUESTION,))
        }
    assert data["id"] in ids and data["title"] == QUESTION
    assert (link.get_attribute("href") or "").endswith(f"conversation-{data['id']}.json")
    turn = data["turns"][-1]
    assert turn["question"] == QUESTION and not turn["abstained"]
    assert turn["answer"].split("[")[0].strip()[:40] in final.inner_text()
    assert turn["citations"], turn
    for c in turn["citations"]:
        assert c["doc_id"] and c["title"] and c["snippet"]
        assert c["url"].startswith(f"{run.url}/document/{c['doc_id']}?hl="), c["url"]
        assert c["url"].endswith("#cited"), c["url"]
    # Each URL opens the source view at the cited sentence.
    view = run.ctx.request.get(turn["citations"][0]["url"].split("#")[0])
    assert view.status == 200 and '<mark id="cited">' in view.text()


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
        # No admin token here: no upload box, and the panel says how to turn uploads on.
        r.page.get_by_text("Index", exact=True).first.click()
        hint = r.page.locator("#index-off")
        hint.wait_for()
        assert "RAG_SECURITY__ADMIN_TOKEN" in hint.inner_text(), hint.inner_text()
        assert "restart" in hint.inner_text()
        assert not r.page.locator("#upload input[type=file]").count()
    finally:
        r.ctx.close()


# -- own documents, saved conversations, sources that open, layout -------------------------------

# Records what the upload's progress tracker and report show: the texts seen, in order.
WATCH_PROGRESS_JS = """
() => {
  window.__progress = [];
  const note = (t) => {
    t = (t || '').trim();
    if (t && window.__progress[window.__progress.length - 1] !== t) window.__progress.push(t);
  };
  const obs = new MutationObserver(() => {
    for (const el of document.querySelectorAll(
      '#upload-report [data-testid="status-tracker"], #upload-report .progress-text, '
      + '#upload-report .progress-level-inner')) note(el.textContent);
  });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


def _open_index(run: PageRun) -> None:
    page = run.page
    page.get_by_text("Index", exact=True).first.click()
    page.fill("#admin-token input", ADMIN)


def _upload(run: PageRun, *paths: Path) -> str:
    """Drop `paths` on the upload box; the report once it is there."""
    page = run.page
    report = page.locator("#upload-report .upload-report")
    before = report.get_attribute("data-run") if report.count() else ""
    page.set_input_files("#upload input[type=file]", [str(p) for p in paths])
    page.wait_for_function(
        "(before) => { const r = document.querySelector('#upload-report .upload-report');"
        " return r && r.dataset.run !== before; }",
        arg=before,
        timeout=ANSWER_TIMEOUT_MS,
    )
    return str(report.inner_text())


def _cited_titles(run: PageRun) -> list[str]:
    return [str(t) for t in run.page.locator("#sources-panel .src-title").all_inner_texts()]


def test_upload_pdf_ask_open_at_page_then_delete(
    run: PageRun, ui: UI, tmp_path: Path, browser: Any
) -> None:
    page = run.page
    pdf = make_pdf(tmp_path / "kestrel.pdf", KESTREL_PAGES, title=KESTREL_TITLE)
    notes = tmp_path / "merlin-notes.md"
    notes.write_text(
        "# Merlin notes\n\nIntro.\n\n## Results\n\nThe Merlin sampler is 42x faster.\n"
    )
    _open_index(run)
    page.evaluate(WATCH_PROGRESS_JS)
    report = _upload(run, pdf, notes)  # several files at once
    progress = page.evaluate("window.__progress")
    assert any("Indexing" in t or "Checking" in t for t in progress), progress
    assert "kestrel.pdf — added: 3 pages" in report, report
    assert "merlin-notes.md — added" in report, report
    assert "Index: added" in report
    docs = page.locator("#documents").inner_text()
    assert "kestrel.pdf (3 pages" in docs and KESTREL_TITLE in docs, docs
    assert sorted(p.name for p in ui.uploads.iterdir()) == ["kestrel.pdf", "merlin-notes.md"]
    run.shot("ui_upload")

    run.ask(KESTREL_THROUGHPUT_Q)
    final = run.wait_final()
    assert "917" in final.inner_text(), final.inner_text()
    card = page.locator("#sources-panel .src-card").first
    assert card.locator(".src-title").inner_text() == KESTREL_TITLE
    assert card.locator(".src-where").inner_text() == "p. 2"
    assert card.locator(".src-file").inner_text() == "kestrel.pdf"
    assert "(p. 2)" in run.last_bot().locator(".src-foot").inner_text()
    run.shot("ui_pdf_answer")

    # The card opens the source view: page 2's text, the cited sentence marked; the original
    # file (the PDF, at the cited page, served from the uploads folder) one link away.
    link = card.locator("a.src-open")
    assert link.inner_text().startswith("Open p. 2")
    with run.ctx.expect_page() as opened:
        link.click()
    tab = opened.value
    assert tab.url.endswith("#cited"), tab.url
    tab.locator("#cited").wait_for()
    assert "917" in tab.locator(".doc").inner_text()
    assert tab.locator("h1").inner_text() == KESTREL_TITLE
    original = tab.get_by_text("original file")
    assert (original.get_attribute("href") or "").endswith("/file#page=2")
    served = run.ctx.request.get(urljoin(tab.url, original.get_attribute("href") or ""))
    tab.close()
    assert served.status == 200 and served.headers["content-type"] == "application/pdf"
    assert served.body()[:5] == b"%PDF-"
    for bad in ("/document/nope", "/document/..%2F..%2Fstate.sqlite3", "/document/nope/file"):
        assert run.ctx.request.get(ui.url + bad).status == 404

    # Delete it: it leaves the list and the index, and no longer answers.
    documents = page.locator("#documents")
    documents.get_by_text("kestrel.pdf", exact=False).click()
    page.click("#delete-docs")
    page.locator("#upload-report .up-deleted").wait_for()
    page.wait_for_function(
        "() => !document.querySelector('#documents').textContent.includes('kestrel.pdf')"
    )
    assert [p.name for p in ui.uploads.iterdir()] == ["merlin-notes.md"]
    run.ask(KESTREL_THROUGHPUT_Q)
    run.bot(1)
    assert KESTREL_TITLE not in _cited_titles(run)
    assert "917" not in run.last_bot().inner_text()
    assert run.ctx.request.get(served.url).status == 404
    assert run.external == [], f"the page called out: {run.external}"


IN_VIEW_JS = """
(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }
"""


def test_upload_limits_are_clear(run: PageRun, tmp_path: Path) -> None:
    run.page.set_viewport_size({"width": 1360, "height": 560})  # the report below the fold
    _open_index(run)
    run.page.evaluate("window.scrollTo(0, 0)")
    odd = tmp_path / "slides.pptx"
    odd.write_bytes(b"PK\x03\x04 not a document we read")
    report = _upload(run, odd)
    assert "slides.pptx: unsupported type .pptx" in report and ".pdf" in report, report
    # The report is brought into view, wherever the page was scrolled.
    run.page.wait_for_function(IN_VIEW_JS, arg="#upload-report .upload-report", timeout=5_000)
    run.page.set_viewport_size({"width": 1360, "height": 1000})
    fake = tmp_path / "scan.pdf"
    fake.write_text("a text file pretending to be a PDF")
    assert "scan.pdf: not a PDF" in _upload(run, fake)
    # Without the admin token Gradio's upload route itself refuses the file (rag/ui/login.py,
    # UploadGuard): nothing reaches the server's disk, the page says why, and no list is shown.
    no_token = PageRun(run.page.context.browser, run.url)
    try:
        page = no_token.page
        page.get_by_text("Index", exact=True).first.click()
        page.set_input_files("#upload input[type=file]", [str(odd)])
        toast = page.locator(".toast-body", has_text="Uploading needs the admin token")
        toast.wait_for(timeout=ANSWER_TIMEOUT_MS)
        assert "HTTP 403" in toast.inner_text()
        assert not page.locator("#documents input[type=checkbox]").count()
    finally:
        no_token.ctx.close()


def _saved_turns(db: Path, title: str) -> list[int]:
    """How many turns each stored conversation titled `title` holds."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT turns FROM conversations WHERE title = ?", (title,)).fetchall()
    return [len(json.loads(r[0])) for r in rows]


def _until(check: Any, what: str, timeout: float = ANSWER_TIMEOUT_MS / 1000) -> None:
    """Wait until `check()` is true (polled), or fail saying `what` never happened."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_reload_reopens_a_conversation_with_working_citations(
    run: PageRun, browser: Any, ui: UI
) -> None:
    question = "What is a layer-condensed KV cache?"
    run.ask(question)
    first = run.wait_final()
    answer_text = first.inner_text()
    # Saved once the answer is (the save follows the answer, queued behind it under load).
    _until(lambda: _saved_turns(ui.state_db, question) == [1], "the answer to be saved")
    run.page.locator("#conversations label", has_text=question).first.wait_for()
    run.ctx.close()

    # A new page (a reload, or tomorrow): the sidebar lists it; it reopens as it was.
    again = PageRun(browser, run.url)
    run.ctx = again.ctx  # closed by the fixture
    page = again.page
    entry = page.locator("#conversations label", has_text=question).first
    entry.wait_for()
    assert re.search(r" · (\d\d:\d\d|\w{3} \d\d)", entry.inner_text()), entry.inner_text()
    entry.click()
    reopened = again.bot(0)
    assert reopened.inner_text() == answer_text
    assert page.locator('#chat [data-testid="user"]').first.inner_text().strip() == question
    cite = again.last_bot().locator("a.cite").first
    href = cite.get_attribute("href") or ""
    cite.click()
    card = page.locator(f"#sources-panel {href}")
    card.wait_for()
    assert card.locator(".src-title").inner_text() in (cite.get_attribute("title") or "")
    opened = again.ctx.request.get(
        again.url + (card.locator("a.src-open").get_attribute("href") or "").split("#")[0]
    )
    assert opened.status == 200 and opened.headers["content-type"].startswith("text/html")
    assert card.locator(".src-title").inner_text()[:30] in opened.text()
    assert '<mark id="cited">' in opened.text() and "Get trending papers" not in opened.text()

    # Follow-ups go on in the reopened conversation, which keeps one entry.
    again.ask("Which model does it evaluate?")
    again.bot(1)
    # Once the follow-up is saved: into the same conversation (its second turn, no new one),
    # which the sidebar, listed again by that save, shows once.
    _until(lambda: _saved_turns(ui.state_db, question) == [2], "the follow-up to be saved")
    page.locator("#conversations label", has_text=question).first.wait_for()
    assert page.locator("#conversations label", has_text=question).count() == 1

    # Rename, then delete.
    page.get_by_text("Rename or delete", exact=True).click()
    page.fill("#conv-title input", "Layer-condensed KV cache")
    page.click("#conv-rename")
    # The new title itself (has_text="Layer-condensed…" also matches the old one, ignoring case).
    renamed = re.compile(r"^\s*Layer-condensed KV cache · ")
    page.locator("#conversations label", has_text=renamed).wait_for()

    # Export as Markdown: each answer with its numbered sources, linked to the document route.
    page.click("#conv-export")
    link = page.locator("#conv-exported a[href]").first
    link.wait_for()
    exported = again.ctx.request.get(urljoin(again.url + "/", link.get_attribute("href") or ""))
    assert exported.status == 200
    md = exported.text()
    assert md.startswith("# Layer-condensed KV cache\n") and f"## {question}" in md
    assert re.search(r"^1\. \[.+\]\(\S*/document/\S+\)$", md, re.MULTILINE), md

    page.click("#conv-delete")
    page.locator("#conversations label", has_text="Layer-condensed KV cache").wait_for(
        state="detached"
    )
    assert page.locator('#chat [data-testid="user"]').count() == 0


def test_layout_numbers_and_highlight_at_desktop_width(run: PageRun) -> None:
    page = run.page
    run.ask("Compare ZipCache and Big Little Decoder")
    run.bot(0)
    run.ask(QUESTION)
    run.bot(1)
    # Numbers as the reader sees them are consecutive, in the text and in the panel.
    for bubble in page.locator('#chat [data-testid="bot"]').all():
        shown = sorted({int(n) for n in re.findall(r"\[(\d+)\]", bubble.inner_text())})
        assert shown == list(range(1, len(shown) + 1)), bubble.inner_text()
    panel = [int(n) for n in page.locator("#sources-panel .src-num").all_inner_texts()]
    assert panel == list(range(1, len(panel) + 1)), panel

    # The chat fills the window: the question box is in view without scrolling, and the chat
    # is most of the window's height; the question asked stays in view above its answer.
    chat = page.locator("#chat").bounding_box()
    ask = page.locator("#question").bounding_box()
    assert chat and ask and ask["y"] + ask["height"] <= 1000
    assert chat["height"] >= 600, chat
    user = page.locator('#chat [data-testid="user"]').last.bounding_box()
    assert user and chat["y"] <= user["y"] < chat["y"] + chat["height"], (user, chat)

    run.shot("ui_desktop_1360")

    # A highlighted card belongs to the answer whose [n] was clicked, never to another's: not
    # to the next answer's, nor to the first answer of a new chat.
    first_cite = page.locator('#chat [data-testid="bot"]').nth(0).locator("a.cite").first
    first_cite.click()  # an earlier answer's [n]: the panel shows that answer, the card lit
    page.locator("#sources-panel .src-h", has_text="Sources of answer 1").wait_for()
    lit = page.locator("#sources-panel .src-card.hl")
    lit.wait_for()
    assert lit.get_attribute("id") == (first_cite.get_attribute("href") or "").lstrip("#")
    page.click("#new-chat")
    page.locator('#chat [data-testid="user"]').first.wait_for(state="detached")
    run.ask(QUESTION)
    run.bot(0)
    assert page.locator("#sources-panel .src-card").count() >= 1
    assert page.locator("#sources-panel :is(.src-card.hl, .src-card:target)").count() == 0


def test_phone_width(browser: Any, ui_url: str) -> None:
    r = PageRun(browser, ui_url, viewport=(390, 844))
    try:
        page = r.page
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        sidebar = page.locator("#conv-sidebar")
        page.wait_for_function("() => !document.querySelector('#conv-sidebar.open')")
        assert sidebar.bounding_box() is None or (sidebar.bounding_box() or {})["x"] < 0
        r.ask(QUESTION)
        final = r.wait_final()
        assert "ZipCache" in final.inner_text()
        box = page.locator("#chat").bounding_box()
        assert box and box["width"] <= 390 and box["height"] >= 400
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(ARTIFACTS / "ui_phone_390.png"))
        r.shot("ui_phone_390_full")
    finally:
        r.ctx.close()


def test_upload_to_first_answer_time_for_a_20_page_pdf(run: PageRun, tmp_path: Path) -> None:
    """The time from dropping a 20-page PDF to its first checked answer, in the browser."""
    pages = filler_pages(20)
    pages[16] = (
        "Cold start. The Osprey compiler brings the cold-start time of a model down to 41 "
        "milliseconds on the Jetson Orin board, against 900 milliseconds before."
    )
    pdf = make_pdf(tmp_path / "osprey-report.pdf", pages, title="The Osprey compiler")
    _open_index(run)
    start = time.monotonic()
    report = _upload(run, pdf)
    indexed = time.monotonic() - start
    assert "osprey-report.pdf — added: 20 pages" in report, report
    run.ask("What cold-start time does the Osprey compiler reach on the Jetson Orin board?")
    final = run.wait_final()
    total = time.monotonic() - start
    assert "41" in final.inner_text(), final.inner_text()
    card = run.page.locator("#sources-panel .src-card").first
    assert card.locator(".src-where").inner_text() == "p. 17"
    result = {
        "pdf_pages": 20,
        "pdf_bytes": pdf.stat().st_size,
        "upload_to_indexed_s": round(indexed, 2),
        "upload_to_first_answer_s": round(total, 2),
        "what": "browser: drop the PDF on the upload box, wait for the report, ask, wait for "
        "the checked answer (local SmolLM2-135M)",
    }
    (ARTIFACTS / "upload_to_answer.json").write_text(json.dumps(result, indent=2))
    print(f"\n20-page PDF: indexed {indexed:.1f}s after upload, first answer at {total:.1f}s")
    with httpx.Client() as http:  # the same server still answers its health of /config
        assert http.get(f"{run.url}/config").status_code == 200
