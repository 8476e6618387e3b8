"""The source view a citation opens (rag/service/source_view.py): the cited document's title, its
readable source and its own text as stored (a listed paper's abstract, never the listing file's
page chrome), the cited sentence in <mark id="cited">, everything escaped, the original file one
link away. Over the session's real index; the UI's and the API's routes are driven in
test_ui_browser.py and test_openai_annotations.py."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from rag.core.types import Citation
from rag.service.documents import DocumentText

ZIPCACHE = (
    "ZipCache: Accurate and Efficient KV Cache Quantization with Salient Token Identification"
)
CITED = (
    "For instance, when evaluating Mistral-7B model on GSM8k dataset, ZipCache is capable of "
    "compressing the KV cache by 4.98times, with only a 0.38% drop in accuracy."
)


def _marked(page: str) -> str:
    found = re.search(r'<mark id="cited">(.*?)</mark>', page, re.S)
    assert found, page[-2000:]
    return unescape(found.group(1))


@pytest.fixture(scope="module")
def zipcache(assistant: Any) -> DocumentText:
    from rag.service.documents import list_documents
    from rag.service.source_view import find_document

    doc_id = next(e.doc_id for e in list_documents(assistant.store) if e.title == ZIPCACHE)
    return find_document([None, assistant.store], doc_id)


def test_listing_paper_shows_its_abstract_with_the_cited_sentence_marked(
    zipcache: DocumentText,
) -> None:
    from rag.ingest.sources import document_url
    from rag.service.source_view import source_view_html

    # The UI's link for a citation of it carries the (shortened) snippet and opens at #cited.
    cite = Citation(
        number=1,
        title=ZIPCACHE,
        source="001_6a9130a22abd98d5.txt",
        snippet=CITED[:90] + "…",
        score=1.0,
        doc_id=zipcache.doc_id,
        label=zipcache.label,
    )
    url = urlsplit(document_url(cite))
    assert url.path == f"/document/{zipcache.doc_id}" and url.fragment == "cited"
    hl = parse_qs(url.query)["hl"][0]

    page = source_view_html(zipcache, hl, f"/document/{zipcache.doc_id}/file")
    assert f'<h1 id="title">{ZIPCACHE}</h1>' in page
    assert zipcache.label.startswith(("Daily Papers · ", "Trending papers")), zipcache.label
    assert zipcache.label in page
    # The abstract, not the listing file: no page chrome, no other paper.
    assert "In this paper, we present ZipCache" in page
    assert "Get trending papers" not in page and "Subscribe" not in page
    assert len(zipcache.text) < 3000, len(zipcache.text)
    # The whole cited sentence is marked, though the link carried only its start.
    # shown cleaned, as in answers and cards ("4.98times" -> "4.98×")
    assert _marked(page) == CITED.replace("4.98times", "4.98×")
    assert page.count("<mark") == 1
    assert f'href="/document/{zipcache.doc_id}/file"' in page and "original file" in page
    assert "<script" not in page


def test_everything_from_the_document_and_the_url_is_escaped() -> None:
    from rag.service.source_view import VIEW_HEADERS, source_view_html

    doc = DocumentText(
        doc_id="up-1",
        title="<img src=x onerror=alert(1)>",
        label='notes.md"><script>alert(2)</script>',
        section="Results",
        text="Intro <b>bold</b>.\n\nThe <script>alert(3)</script> Merlin sampler is 42x faster.",
    )
    page = source_view_html(doc, "The <script>alert(3)</script> Merlin sampler", 'x" onclick="1')
    assert "<script>" not in page and "<img" not in page and "<b>" not in page
    assert 'onclick="1' not in page
    # markup is taken out as everywhere else a document's text is shown (clean_display), and
    # whatever is left is escaped
    assert _marked_raw(page).startswith("The alert(3) Merlin sampler"), _marked_raw(page)
    assert "§ Results" in page
    assert "script-src" not in VIEW_HEADERS["Content-Security-Policy"]  # no script runs
    assert "default-src 'none'" in VIEW_HEADERS["Content-Security-Policy"]


def _marked_raw(page: str) -> str:
    found = re.search(r'<mark id="cited">(.*?)</mark>', page, re.S)
    assert found, page
    return found.group(1)


def test_the_cited_sentence_is_found_by_its_words_or_not_at_all() -> None:
    from rag.service.source_view import highlight_span

    text = "First one. Extensive experiments show speedups of 2.37x to 6.17x on x86. The end."
    span = highlight_span(text, "Extensive   experiments show speedups of 2.37x …")
    assert span and text[span[0] : span[1]].endswith("on x86.")  # not cut at "2."
    span = highlight_span(text, "experiments on x86 show 6.17x speedups")  # reworded
    assert span and text[span[0] : span[1]].startswith("Extensive")
    assert highlight_span(text, "sourdough bread recipe") is None
    assert highlight_span(text, "") is None


def test_cli_ask_open_writes_the_source_view(
    rag_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rag ask … --open 1`: the CLI has no server; it writes the same view to a file, prints its
    file:// URL (opened where there is a graphical browser) and links the original file."""
    from typer.testing import CliRunner

    from rag.cli import app

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"):
        monkeypatch.delenv(name, raising=False)  # nothing is opened here
    question = "Which paper quantizes the KV cache by identifying salient tokens?"
    env = {k: v for k, v in rag_env.items() if k.startswith(("RAG_", "HF_"))}
    got = CliRunner().invoke(
        app, ["ask", question, "--no-stream", "--open", "1"], env={**env, "COLUMNS": "300"}
    )
    assert got.exit_code == 0, got.output
    found = re.search(r"Source \[1\]: (file://\S+)#cited", got.output)
    assert found, got.output
    page = Path(urlsplit(found.group(1)).path).read_text("utf-8")
    assert "<h1" in page and "Get trending papers" not in page
    assert _marked(page).strip()
    original = re.search(r'<a href="file://([^"#]+)', page)
    assert original and "Get trending papers" in Path(unquote(original.group(1))).read_text()
    bad = CliRunner().invoke(app, ["ask", question, "--no-stream", "--open", "9"], env=env)
    assert bad.exit_code != 0 and "No source [9]" in " ".join(bad.output.split())


SNAPKV = (
    "Large Language Models (LLMs) have made remarkable progress in processing extensive "
    "contexts. To address this problem, this paper introduces SnapKV, an innovative and "
    "fine-tuning-free approach that efficiently minimizes KV cache size. Drawing on this "
    "insight, SnapKV automatically compresses KV caches by selecting clustered important KV "
    "positions for each attention head. Specifically, SnapKV achieves a consistent decoding "
    "speed with a 3.6x increase in generation speed and an 8.2x enhancement in memory "
    "efficiency compared to baseline when processing inputs of 16K tokens."
)
# what the two-sentence claim below rests on: the passage's two sentences it says, in a row
SNAPKV_CLAIM = SNAPKV[SNAPKV.index("Drawing on") :]


def test_every_face_highlights_the_sentence_the_claim_rests_on(tmp_path: Path) -> None:
    """The view marks the passage sentences that the claim carrying [1] rests on (its figures,
    its words), not the first sentence of the passage's snippet; the core sets it once on the
    citation, and every face's link (UI, API annotation, Slack, CLI) carries it."""
    from rag.core.settings import Settings
    from rag.core.types import Answer, AnswerEvent, Passage, SourcesEvent, TokenEvent
    from rag.ingest.sources import cited_text, document_url
    from rag.service.assistant import Assistant
    from rag.service.export import view_url
    from rag.service.source_view import source_view_html

    passage = Passage(
        text=SNAPKV, score=1.0, title="SnapKV", source="001.txt", doc_id="paper-snap", number=1
    )
    text = (
        "SnapKV compresses KV caches by selecting clustered important KV positions. It reaches "
        "a 3.6x increase in generation speed and an 8.2x enhancement in memory efficiency [1]."
    )
    # the snippet a composed lead carries: the passage from its naming sentence on
    snippet = SNAPKV[SNAPKV.index("To address") :]
    cite = Citation(
        number=1, title="SnapKV", source="001.txt", snippet=snippet, score=1.0, doc_id="paper-snap"
    )

    class Answerer:  # stands in for rag/answer/answering.py
        def stream(self, question: str, history: Any, **_: Any) -> Any:
            yield SourcesEvent(passages=[passage])
            yield TokenEvent(text=text, citations=[cite])
            yield AnswerEvent(
                answer=Answer(question=question, text=text, citations=[cite], passages=[passage])
            )

    settings = Settings(index_dir=tmp_path / "index", state_db=tmp_path / "state.sqlite3")
    a = Assistant(settings, build_index=False, progress=False)
    a._answerer = Answerer()  # type: ignore[assignment]
    events = list(a.stream("How fast is SnapKV?"))
    streamed = next(e for e in events if isinstance(e, TokenEvent)).citations
    answer = next(e for e in events if isinstance(e, AnswerEvent)).answer
    doc = DocumentText(doc_id="paper-snap", title="SnapKV", text=SNAPKV)
    for c in (answer.citations[0], (streamed or [])[0]):
        assert cited_text(c) == SNAPKV_CLAIM
        for url in (document_url(c), view_url("http://127.0.0.1:8000")(c)):
            hl = parse_qs(urlsplit(url).query)["hl"][0]
            assert _marked(source_view_html(doc, hl, "")) == SNAPKV_CLAIM, url
