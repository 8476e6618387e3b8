"""Where the UI's source panel opens, and how it closes from inside its frame (issue 25).

Driven like test_ui_browser.py (whose fixtures these are: its own `rag ui` over a copy of the
session's index, Debian's headless Chromium): on a wide window the panel lies beside the chat,
so the answer being read stays in view while its source is shown; where the columns stack it
opens below the chat. Escape closes it also when focus is inside the framed source view (whose
keys go to the framed document, not the page). A screenshot at 1280x900 goes to
tests/artifacts/ui_source_panel_1280.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_ui_browser import (  # noqa: F401  (fixtures, used by name)
    ARTIFACTS,
    MARK_IN_FRAME_VIEW_JS,
    QUESTION,
    PageRun,
    browser,
    ui,
    ui_url,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def wide(browser: Any, ui_url: str) -> Iterator[PageRun]:  # noqa: F811
    r = PageRun(browser, ui_url, viewport=(1280, 900))
    yield r
    r.ctx.close()


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box, locator
    return dict(box)


def _in_view(box: dict[str, float], height: float) -> bool:
    return box["y"] >= -1 and box["y"] + box["height"] <= height + 1  # a pixel for rounding


def _answered(run: PageRun) -> tuple[Any, Any]:
    """Ask QUESTION and wait for the final answer: that answer and its first [n]."""
    run.ask(QUESTION)
    run.wait_final()
    answer = run.last_bot()
    cite = answer.locator("a.cite").first
    cite.wait_for()
    return answer, cite


def _open_and_settle(run: PageRun, opener: Any) -> Any:
    """Click `opener`, then wait until the panel shows the source with its cited sentence in
    the frame's view (the frame's own scroll to it is the last thing that moves)."""
    page = run.page
    opener.click()
    panel = page.locator("#source-panel")
    panel.wait_for(state="visible")
    mark = page.frame_locator("#source-panel-frame").locator("mark#cited")
    mark.wait_for()
    for _ in range(50):
        if mark.evaluate(MARK_IN_FRAME_VIEW_JS):
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(400)
    return panel


def test_source_panel_opens_beside_the_answer_wide_and_below_it_narrow(
    wide: PageRun,
    browser: Any,  # noqa: F811
    ui_url: str,  # noqa: F811
) -> None:
    page = wide.page
    answer, cite = _answered(wide)
    assert _in_view(_box(answer), 900)

    # An answer's [n]: its source beside the chat, the answer where it was, still in view.
    panel = _open_and_settle(wide, cite)
    chat = _box(page.locator("#chat"))
    shown = _box(panel)
    assert _in_view(_box(answer), 900), (_box(answer), page.evaluate("scrollY"))
    assert shown["x"] >= chat["x"] + chat["width"], (shown, chat)  # to the right of the chat
    assert shown["y"] < chat["y"] + chat["height"] and shown["y"] + shown["height"] > chat["y"]
    assert _in_view(shown, 900) and shown["x"] + shown["width"] <= 1280, shown
    share = shown["width"] / (shown["width"] + chat["width"])
    assert 0.3 <= share <= 0.5, share
    assert shown["height"] >= 0.8 * chat["height"], (shown, chat)  # about as tall as the chat
    page.screenshot(path=str(ARTIFACTS / "ui_source_panel_1280.png"))

    # The card's "Show source" does the same, once the panel is closed.
    page.click("#source-panel-close")
    panel.wait_for(state="hidden")
    show = page.locator("#sources-panel .src-card button.src-show").first
    _open_and_settle(wide, show)
    assert _in_view(_box(answer), 900), _box(answer)
    assert _box(panel)["x"] >= _box(page.locator("#chat"))["x"] + chat["width"]

    # Where the columns stack, the panel opens below the chat, its title bar in view.
    narrow = PageRun(browser, ui_url, viewport=(700, 900))
    try:
        npage = narrow.page
        npanel = _open_and_settle(narrow, _answered(narrow)[1])
        nchat = _box(npage.locator("#chat"))
        nbox = _box(npanel)
        assert nbox["y"] >= nchat["y"] + nchat["height"], (nbox, nchat)
        assert nbox["x"] < nchat["x"] + nchat["width"]  # not beside it
        assert -1 <= nbox["y"] < 900, nbox
        assert npage.locator("#source-panel-close").is_visible()
    finally:
        narrow.ctx.close()


def test_escape_inside_the_source_frame_closes_the_panel(wide: PageRun) -> None:
    """Escape pressed with focus inside the framed source view closes the panel and gives
    focus back to what opened it: an answer's [n], then (a second page in the frame) a card's
    "Show source"."""
    page = wide.page
    _, cite = _answered(wide)
    frame = page.frame_locator("#source-panel-frame")
    panel = page.locator("#source-panel")

    for opener, mark in ((cite, "cite"), (None, "src-show")):
        if opener is None:
            opener = page.locator("#sources-panel .src-card button.src-show").first
        _open_and_settle(wide, opener)
        frame.get_by_text("original file").focus()
        assert page.evaluate("document.activeElement.id") == "source-panel-frame"
        page.keyboard.press("Escape")
        panel.wait_for(state="hidden", timeout=5_000)
        assert page.evaluate(f"document.activeElement.classList.contains('{mark}')"), mark
        src = page.locator("#source-panel-frame").get_attribute("src")
        assert src == "about:blank", src


# Records every scroll of the page, and of any element in it, from now on: [scrollY, target].
WATCH_SCROLL_JS = """
() => {
  window.__scrolls = [];
  document.addEventListener('scroll', (e) => {
    const t = e.target === document ? 'page' : (e.target.id || e.target.className || '?');
    window.__scrolls.push([window.scrollY, String(t)]);
  }, true);
}
"""


def test_clicking_a_citation_opens_the_panel_without_moving_the_page(wide: PageRun) -> None:
    """On a wide window an answer's [n] opens its source beside the chat and nothing else moves:
    not the page (the [n] is also a link to its card, whose jump used to scroll it), not the
    answer being read. The same by keyboard (Enter on the focused [n]); focus goes to the panel,
    and back to the [n] on Escape."""
    page = wide.page
    answer, cite = _answered(wide)
    # Room below, whatever the answer's length: the page can scroll (the card's jump would).
    page.evaluate("document.body.style.paddingBottom = '600px'")
    page.wait_for_timeout(500)  # the Sources panel and the chat done laying out

    for how in ("click", "keyboard"):
        y0 = page.evaluate("window.scrollY")
        top0 = _box(answer)["y"]
        page.evaluate(WATCH_SCROLL_JS)
        if how == "click":
            _open_and_settle(wide, cite)
        else:
            cite.focus()
            _open_and_settle(wide, _Enter(page))
        moved = page.evaluate("window.__scrolls")
        assert page.evaluate("window.scrollY") == y0, (how, moved)
        assert [m for m in moved if m[0] != y0] == [], (how, moved)
        assert _box(answer)["y"] == top0, (how, _box(answer), top0, moved)
        assert page.evaluate("document.activeElement.id") == "source-panel-h", how
        if how == "click":
            page.screenshot(path=str(ARTIFACTS / "ui_source_panel_cite_1280.png"))
        page.keyboard.press("Escape")
        page.locator("#source-panel").wait_for(state="hidden")
        assert page.evaluate("document.activeElement.classList.contains('cite')"), how
        assert page.evaluate("window.scrollY") == y0, how
        assert _box(answer)["y"] == top0, how


class _Enter:
    """An opener for _open_and_settle that presses Enter (on whatever has focus)."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def click(self) -> None:
        self.page.keyboard.press("Enter")


def test_source_line_stays_whole_above_the_cited_sentence(browser: Any) -> None:  # noqa: F811
    """The source view at the panel frame's size (1280x900: ~370x590), scrolled to the cited
    sentence as the panel scrolls it: the "label · date — original file ↗" line is whole at the
    top (sticky, opaque), never cut in half by the frame's edge, and the sentence lies below it."""
    from rag.service.documents import DocumentText
    from rag.service.source_view import source_view_html

    filler = " ".join(f"Sentence {i} says what the paper studies in detail." for i in range(40))
    cited = "Specifically, SnapKV achieves a 3.6x increase in generation speed."
    doc = DocumentText(
        doc_id="paper-snap",
        title="SnapKV: LLM Knows What You are Looking for Before Generation",
        label="Daily Papers · Aug 8",
        text=f"{filler} {cited} The end.",
    )
    ctx = browser.new_context(viewport={"width": 370, "height": 590})
    try:
        page = ctx.new_page()
        page.set_content(source_view_html(doc, cited, "/document/paper-snap/file"))
        # what the panel does once the frame has loaded (rag/ui/app.py SOURCE_PANEL_JS toCited)
        page.evaluate(
            """() => { const m = document.getElementById('cited');
            const margin = parseFloat(getComputedStyle(m).scrollMarginTop) || 0;
            scrollTo(0, scrollY + m.getBoundingClientRect().top - margin); }"""
        )
        assert page.evaluate("scrollY") > 200  # it did scroll past the title
        meta = page.locator(".meta").bounding_box()
        mark = page.locator("mark#cited").bounding_box()
        assert meta and mark
        assert meta["y"] >= -0.5, meta  # the whole line, not half of it
        assert mark["y"] >= meta["y"] + meta["height"], (mark, meta)
        assert mark["y"] + mark["height"] <= 590, mark
        assert page.get_by_text("original file").is_visible()
    finally:
        ctx.close()
