"""Details of the chat page that the browser tests also see (test_ui_browser.py), checked here on
the HTML the page is given (rag/ui/render.py): the "Not stated" notice says so once and does not
list the cited paper again; the passage that answers reads "high"; two saved conversations that
would read the same are told apart."""

from __future__ import annotations

import re

from rag.core.types import Answer, Citation, ConversationSummary, Passage


def _passage(n: int, title: str, score: float, vector: float, text: str) -> Passage:
    return Passage(
        text=text,
        score=score,
        title=title,
        source=f"{n}.txt",
        doc_id=f"paper-{n}",
        number=n,
        vector_score=vector,
        label="Daily Papers · Aug 8",
    )


def test_not_stated_says_it_once_and_does_not_relist_the_cited_paper() -> None:
    from rag.ui.render import abstention_message

    cited = _passage(1, "ZipCache", 1.0, 0.6, "ZipCache compresses the KV cache by 4.98x.")
    other = _passage(2, "RazorAttention", 0.6, 0.5, "RazorAttention keeps retrieval heads.")
    answer = Answer(
        question="What GPU did ZipCache use?",
        text="Not stated: the abstract of ZipCache [1] does not give the GPU. What it does say: "
        "ZipCache compresses the KV cache by 4.98x [1].",
        citations=[
            Citation(
                number=1,
                title="ZipCache",
                source="1.txt",
                snippet="ZipCache compresses the KV cache by 4.98x.",
                score=1.0,
                doc_id="paper-1",
            )
        ],
        passages=[cited, other],
        abstained=True,
        not_stated="attribute",
    )
    html = abstention_message(answer, "k")
    text = re.sub(r"<[^>]+>", " ", html)
    assert text.count("Not stated") == 1, text
    assert "The abstract of ZipCache" in text
    related = re.search(r'<div class="related">(.*)</div>', html)
    assert related and "RazorAttention" in related.group(1)
    assert "ZipCache" not in related.group(1), related.group(1)


def test_the_passage_that_answers_reads_high() -> None:
    from rag.ui.render import sources_panel

    question = "Which paper quantizes the KV cache by identifying salient tokens?"
    # The real scores of this question's passages (hybrid, shipped corpus): the answering paper
    # has a modest evidence score (0.5·0.60 similarity + 0.5·its share of the question's words).
    best = _passage(1, "ZipCache", 1.0928, 0.60, "ZipCache quantizes the KV cache.")
    next_ = _passage(2, "EMS", 0.6297, 0.50, "An evict-then-merge strategy.")
    answer = Answer(
        question=question,
        text="ZipCache [1] quantizes the KV cache; EMS [2] evicts.",
        citations=[
            Citation(
                number=p.number,
                title=p.title,
                source=p.source,
                snippet=p.text,
                score=p.score,
                doc_id=p.doc_id,
            )
            for p in (best, next_)
        ],
        passages=[best, next_],
    )
    html = sources_panel(answer, "k")
    levels = re.findall(r'class="src-score rel-(\w+)"', html)
    assert levels == ["high", "medium"], levels  # 58% of the best: not "high"
    assert "100% of the best passage" in html


def test_conversations_with_the_same_first_question_are_told_apart() -> None:
    from rag.ui.render import conversation_labels

    now = 1_780_000_000.0
    same = [
        ConversationSummary(id=f"c{i}", title="What is ZipCache?", created=now - i, updated=now - i)
        for i in range(3)
    ]
    other = ConversationSummary(id="d", title="Other", created=now, updated=now)
    labels = conversation_labels([same[0], other, same[1], same[2]], now)
    assert len(set(labels)) == 4, labels
    assert labels[3] == labels[0].removesuffix(" (3)") and labels[0].endswith(" (3)")
    assert not labels[1].endswith(")")


def test_each_card_shows_its_source_in_the_panel_and_keeps_the_new_tab_link() -> None:
    """A card's "Show source" button (a real button, for the keyboard) opens the source panel
    on the same source view URL as its "in new tab" link; a snippet cannot break out of it."""
    from html import unescape

    from rag.ui.render import sources_panel

    cited = _passage(1, "ZipCache", 1.0, 0.6, 'It cuts "latency" <b>by</b> half.')
    answer = Answer(
        question="q",
        text="ZipCache cuts latency [1].",
        citations=[
            Citation(
                number=1,
                title=cited.title,
                source=cited.source,
                snippet=cited.text,
                score=cited.score,
                doc_id=cited.doc_id,
            )
        ],
        passages=[cited],
    )
    html = sources_panel(answer, "k")
    show = re.findall(r'<button type="button" class="src-show" data-view="([^"]+)"', html)
    opened = re.findall(r'<a class="src-open" href="([^"]+)" target="_blank"', html)
    assert len(show) == 1 and show == opened, html
    view = unescape(show[0])
    assert view.startswith("/document/paper-1?hl=") and view.endswith("#cited"), view
    assert "<b>" not in view and '"' not in view
    assert 'aria-controls="source-panel"' in html and "in new tab ↗</a>" in html


def test_the_theme_sets_text_in_complete_fonts_only() -> None:
    """Every font face the UI's theme declares is a complete font Gradio serves itself (Gradio's
    SemiBold files are subsets of a few letters, ~5 KB: bold capitals fell back to another font),
    and nothing is fetched from the network."""
    from pathlib import Path

    import gradio

    from rag.ui.theme import make_theme

    theme = make_theme()
    css = "".join(theme._font_css) if isinstance(theme._font_css, list) else theme._font_css
    files = re.findall(r"url\('static/fonts/([^']+)'\)", css)
    assert files and not re.search(r"url\('(?:https?:)?//", css), css
    static = Path(gradio.__file__).parent / "templates" / "frontend" / "static" / "fonts"
    for name in files:
        assert (static / name).stat().st_size > 20_000, name  # a whole font, not a subset
    weights = {int(w) for w in re.findall(r"font-weight:\s*(\d+)", css)}
    assert max(weights) >= 600, weights  # bold text has a face of its own
