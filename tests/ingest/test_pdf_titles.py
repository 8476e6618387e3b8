"""A PDF's title: its metadata title when readable, else its first title-like line, else the
file name (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.ingest.documents import _file_documents, plausible_title
from tests.support.pdfs import KESTREL_PAGES, KESTREL_TITLE, make_pdf


def _title(path: Path) -> str:
    _, docs, _ = _file_documents(path)
    return str(docs[0].metadata["title"])


@pytest.mark.parametrize(
    "meta",
    [
        "about:blank",
        "Untitled",
        "untitled document",
        "Microsoft Word - kestrel_final_v3.docx",
        "C:\\Users\\ann\\Desktop\\kestrel.pdf",
        "/home/ann/reports/kestrel.pdf",
        "kestrel_final.pdf",
        "https://example.org/kestrel.pdf",
        "   ",
    ],
)
def test_implausible_metadata_title_gives_the_first_line(tmp_path: Path, meta: str) -> None:
    pdf = make_pdf(tmp_path / "k.pdf", ["Kestrel: an inference engine\n" + KESTREL_PAGES[1]], meta)
    assert _title(pdf) == "Kestrel: an inference engine"
    assert not plausible_title(meta)


def test_readable_metadata_title_is_kept(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "k.pdf", KESTREL_PAGES, "Kestrel, the report")
    assert _title(pdf) == "Kestrel, the report"
    assert plausible_title(KESTREL_TITLE)


def test_no_title_like_line_gives_the_file_name(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "kestrel-report.pdf", ["12\n" + "3.5 % 42 " * 40], "about:blank")
    assert _title(pdf) == "kestrel-report"
