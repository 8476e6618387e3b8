"""PDF files for the tests, written with fpdf2 (a dev dependency): one string per page."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def make_pdf(path: Path, pages: Sequence[str], title: str | None = None) -> Path:
    """A PDF at `path` whose page N holds `pages[N-1]` (wrapped), with `title` as its metadata
    title when given."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


# A report whose facts are on known pages (none of them is in the shipped corpus).
KESTREL_TITLE = "Kestrel: an inference engine for small boards"
KESTREL_PAGES = [
    "Kestrel: an inference engine for small boards. This report from the Harbor Lab describes "
    "the Kestrel inference engine. It covers its throughput, its power draw and its memory use.",
    "Throughput. The Kestrel engine decodes 917 tokens per second on a single Raspberry Pi 5 "
    "board when it serves a model of one billion parameters.",
    "Power and memory. The Kestrel engine draws 3.2 watts at full load, and its memory "
    "footprint is 640 megabytes.",
]
KESTREL_THROUGHPUT_Q = "How many tokens per second does the Kestrel engine decode?"
KESTREL_POWER_Q = "How many watts does the Kestrel engine draw at full load?"


def filler_pages(n: int, topic: str = "the Osprey compiler") -> list[str]:
    """`n` pages of distinct, plausible text about `topic` (a long PDF for timings)."""
    pages = []
    for i in range(1, n + 1):
        pages.append(
            f"Section {i}. This page of the report on {topic} discusses design choice number "
            f"{i}: how its scheduler orders {i * 3} kernels, how it fuses {i + 2} operators into "
            f"one pass, and why the cache holds {i * 16} entries. Measurements on board {i} "
            f"show a latency of {i * 7} milliseconds for batch size {i}."
        )
    return pages
