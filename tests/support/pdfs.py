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


def shared_stream_pdf(path: Path, pages: int = 40, stream_bytes: int = 2_000_000) -> Path:
    """A small PDF whose `pages` pages all draw one Flate-compressed content stream of
    `stream_bytes` bytes of text operators (written by hand: fpdf2 gives each page its own
    stream). 40 pages of 2 MB: a 12 KB file with 1.7 M characters of text a page."""
    import zlib

    line = b"(The Osprey compiler fuses kernels into one pass.) Tj T*\n"
    content = b"BT /F1 9 Tf 11 TL 72 720 Td\n" + line * (stream_bytes // len(line)) + b"ET\n"
    packed = zlib.compress(content, 9)
    first_page = 5
    kids = " ".join(f"{first_page + i} 0 R" for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    )
    objects += [page] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path
