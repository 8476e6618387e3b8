"""Sources a reader can use, without a server: PDF pages and document sections as documents,
listing labels, readable locations and relevance, consecutive citation numbers, safe upload
names, and the library's checks, list and delete over a small real index."""

from __future__ import annotations

from pathlib import Path

import pytest
from pdfs import KESTREL_PAGES, KESTREL_TITLE, make_pdf

from rag.core.errors import NotFoundError, RequestTooLargeError, UnsupportedFileError
from rag.core.settings import PROJECT_DIR, SecuritySettings, Settings
from rag.core.types import Answer, Citation, Passage
from rag.ingest.documents import load_documents
from rag.ingest.library import Library, safe_name
from rag.ingest.listing import listing_label
from rag.ingest.sources import (
    document_url,
    location,
    original_url,
    relevance_level,
    stored_label,
)
from rag.ui import render


def test_a_pdf_is_one_document_per_page_with_stable_ids(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "k.pdf", [*KESTREL_PAGES, "   "], title=KESTREL_TITLE)
    docs = load_documents([pdf]).documents
    assert [d.metadata["page"] for d in docs] == [1, 2, 3]  # the empty page is left out
    assert {d.metadata["title"] for d in docs} == {KESTREL_TITLE}
    assert "917 tokens" in docs[1].text
    again = load_documents([pdf]).documents
    assert [d.doc_id for d in docs] == [d.doc_id for d in again]
    assert all(d.doc_id.endswith(f"-p{i}") for i, d in enumerate(docs, 1))


def test_markdown_and_html_sections_carry_their_heading_path(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "# My paper\n\nIntro.\n\n## Methods\n\nWe do things.\n\n### Details\n\nFine print.\n\n"
        "## Results\n\nIt is 42 times faster.\n\n```\n# not a heading\n```\n"
    )
    (tmp_path / "b.html").write_text(
        "<html><head><title>Gizmo</title></head><body><h1>Gizmo X2</h1><p>It lasts 18 h.</p>"
        "<h2>Charging</h2><p>It charges in 2 h.</p></body></html>"
    )
    (tmp_path / "c.md").write_text("# Only a title\n\nOne section, one document.\n")
    docs = {
        (d.metadata["source"], d.metadata["section"]): d
        for d in load_documents([tmp_path]).documents
    }
    assert set(docs) == {
        ("a.md", ""),
        ("a.md", "Methods"),
        ("a.md", "Methods › Details"),
        ("a.md", "Results"),
        ("b.html", "Gizmo X2"),
        ("b.html", "Gizmo X2 › Charging"),
        ("c.md", ""),
    }
    assert "# not a heading" in docs[("a.md", "Results")].text
    assert docs[("a.md", "Results")].text.startswith("## Results")
    assert docs[("b.html", "Gizmo X2 › Charging")].metadata["title"] == "Gizmo"
    assert not docs[("c.md", "")].doc_id.split("-")[-1].startswith("s")  # one section: as before


def test_listing_labels_name_the_listing_not_its_hashed_file() -> None:
    corpus = PROJECT_DIR / "corpus"
    labels = {p.name: listing_label(p.read_text()) for p in sorted(corpus.iterdir())}
    assert labels["001_6a9130a22abd98d5.txt"] == "Daily Papers · Aug 8"
    assert labels["000_194d850b866ee11c.txt"] == "Trending papers"
    docs = load_documents([corpus / "002_a646dde5c7093f83.txt"]).documents
    assert {d.metadata["label"] for d in docs} == {"Daily Papers · Mar 14"}
    # An index built before labels were stored: read from the listing's first lines.
    meta = {"kind": "paper", "source": "002_a646dde5c7093f83.txt"}
    old = {**meta, "paths": f'["{corpus / "002_a646dde5c7093f83.txt"}"]'}
    assert stored_label(old) == "Daily Papers · Mar 14"
    assert stored_label({"source": "x.pdf", "label": "x.pdf"}) == "x.pdf"


def _citation(n: int, **kw: object) -> Citation:
    base = {"title": f"P{n}", "source": "f.txt", "snippet": "s", "score": 0.5, "doc_id": f"d{n}"}
    return Citation(number=n, **{**base, **kw})  # type: ignore[arg-type]


def test_locations_links_and_relevance_levels() -> None:
    assert location(4, "") == "p. 4"
    assert location(None, "Methods › Results") == "§ Results"
    assert location(None, "") == ""
    # The source view at the cited sentence (its snippet); the original file at its page.
    assert document_url(_citation(1, page=4, snippet="It is 42x faster.")) == (
        "/document/d1?hl=It%20is%2042x%20faster.#cited"
    )
    assert document_url(_citation(1, doc_id="")) == ""
    assert original_url("d/1", 4) == "/document/d%2F1/file#page=4"
    assert [relevance_level(x) for x in (0.8, 0.5, 0.2)] == ["high", "medium", "low"]


def test_citation_numbers_a_reader_sees_are_consecutive() -> None:
    passages = [
        Passage(
            text="ZipCache cuts latency.",
            score=1.06,
            title="P1",
            source="f",
            doc_id="d1",
            number=1,
            vector_score=0.7,
        ),
        Passage(
            text="Other text.",
            score=0.03,
            title="P3",
            source="f",
            doc_id="d3",
            number=3,
            vector_score=0.2,
        ),
    ]
    answer = Answer(
        question="How much does ZipCache cut latency?",
        text="ZipCache cuts latency [3] and more [1].",
        citations=[_citation(1), _citation(3)],
        passages=passages,
    )
    assert render.display_numbers(answer) == {3: 1, 1: 2}
    html = render.answer_message(answer, "k")
    assert "[1]</a>" in html and "[2]</a>" in html and "[3]" not in html
    panel = render.sources_panel(answer, "k")
    assert 'id="src-k-1"' in panel and 'id="src-k-2"' in panel
    cards = panel.split('class="src-card"')[1:]
    assert "rel-low" in cards[0] and "rel-high" in cards[1]  # [3] is the weak passage
    assert 'title="evidence' in cards[0] and "retrieval score 0.500" in cards[0]  # on hover


def test_safe_names() -> None:
    assert safe_name("../../Mon Papier (v2).PDF") == "Mon_Papier_v2.pdf"
    assert safe_name("..\\..\\etc\\passwd") == "passwd"
    assert safe_name(".hidden.md") == "hidden.md"
    assert safe_name("résumé.txt") == "résumé.txt"  # names keep their characters (issue 23)
    assert safe_name("") == "document"


@pytest.fixture
def library(tmp_path: Path) -> Library:
    from rag.service.assistant import Assistant

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    settings = Settings(
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        uploads_dir=tmp_path / "uploads",
        state_db=tmp_path / "state.sqlite3",
        security=SecuritySettings(max_file_bytes=50_000),
    )
    return Library(settings, Assistant(settings, build_index=False, progress=False))


def test_library_checks_stores_lists_opens_and_deletes(library: Library, tmp_path: Path) -> None:
    src = tmp_path / "in"
    pdf = make_pdf(src / "My Report.pdf", KESTREL_PAGES, title=KESTREL_TITLE)
    (src / "x.docx").write_bytes(b"PK")
    (src / "big.txt").write_text("w " * 40_000)
    with pytest.raises(UnsupportedFileError, match=r"x\.docx: unsupported type \.docx"):
        library.add([(pdf.name, pdf), ("x.docx", src / "x.docx")])
    with pytest.raises(RequestTooLargeError, match=r"big\.txt: too large"):
        library.add([("big.txt", src / "big.txt")])
    assert not library.folder.exists() or not any(library.folder.iterdir())  # nothing stored

    seen: list[tuple[int, int, str]] = []
    result = library.add([(pdf.name, pdf)], on_progress=lambda *a: seen.append(a))
    assert seen == [(0, 1, "My Report.pdf"), (1, 1, "")]
    (outcome,) = result.files
    assert (outcome.id, outcome.status, outcome.pages, outcome.chunks) == (
        "My_Report.pdf",
        "added",
        3,
        3,
    )
    (doc,) = library.list()
    assert (doc.id, doc.title, doc.pages) == ("My_Report.pdf", KESTREL_TITLE, 3)
    hit = library.assistant.retrieve("How many tokens per second does Kestrel decode?", k=1)[0]
    assert (hit.page, hit.label) == (2, "My_Report.pdf")
    assert library.open(hit.doc_id) == library.folder / "My_Report.pdf"
    with pytest.raises(NotFoundError):
        library.open("../../etc/passwd")

    library.delete("My_Report.pdf")
    assert library.list() == [] and library.assistant.store.count() == 0
    with pytest.raises(NotFoundError):
        library.delete("My_Report.pdf")
    with pytest.raises(NotFoundError):
        library.open(hit.doc_id)


def test_a_list_answer_renders_its_lines_as_a_list() -> None:
    """One "- " line per paper is a list item in the UI, the lead a paragraph above it."""
    from rag.core.types import Answer, Citation

    cites = [
        Citation(number=n, title=t, source="x.txt", snippet="s", score=1.0)
        for n, t in ((1, "A"), (2, "B"))
    ]
    answer = Answer(
        question="Which papers …?",
        text="Two papers in the collection: A [1] and B [2].\n- A [1]: does x.\n- B [2]: does y.",
        citations=cites,
    )
    html = render.answer_message(answer, "k")
    assert html.index("<p>Two papers") < html.index('<ul class="answer-items">')
    assert html.count("<li>A ") == 1 and html.count("<li>B ") == 1
