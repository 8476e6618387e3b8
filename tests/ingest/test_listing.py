"""Parsing the shipped collection: papers, not page chrome; each paper once."""

from __future__ import annotations

from pathlib import Path

from rag.core.settings import PROJECT_DIR
from rag.ingest.documents import load_documents
from rag.ingest.listing import merge_duplicates, parse_listing

CORPUS = PROJECT_DIR / "corpus"
NOISE = {"new", "subscribe", "daily papers", "byak and the research community"}


def _all_papers() -> list:
    papers = []
    for f in sorted(CORPUS.glob("*.txt")):
        papers.extend(parse_listing(f.read_text(encoding="utf-8"), f.name))
    return papers


def test_known_title_and_abstract() -> None:
    papers = {p.title: p for p in _all_papers()}
    light = papers[
        "Light4GS: Lightweight Compact 4D Gaussian Splatting Generation via Context Model"
    ]
    assert light.abstract.startswith("3D Gaussian Splatting (3DGS) has emerged")
    assert "120x compression" in light.abstract


def test_glued_subscribe_is_stripped() -> None:
    titles = {p.title for p in _all_papers()}
    name = (
        "Boosting Inference Efficiency: Unleashing the Power of Parameter-Shared "
        "Pre-trained Language Models"
    )
    assert name in titles
    assert not any(t.startswith("Subscribe") for t in titles)


def test_noise_lines_are_not_documents() -> None:
    for p in _all_papers():
        assert p.title.lower() not in NOISE
        assert not p.title.lower().startswith("get trending papers")
        assert len(p.abstract) > 120
        assert p.title not in {"Aug 8", "Mar 14", "Mar 12"}


def test_duplicates_are_one_document_with_every_source() -> None:
    papers = _all_papers()
    merged = merge_duplicates(papers)
    assert len(papers) - len(merged) >= 30
    multi = [p for p in merged if len(p.sources) > 1]
    assert len(multi) == 30
    docs = load_documents([CORPUS]).documents
    assert len(docs) == len(merged)
    assert len({d.doc_id for d in docs}) == len(docs)
    titles = [d.metadata["title"] for d in docs]
    assert len(titles) == len(set(titles))


def test_other_formats_and_a_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Sparse attention notes\n\nSliding windows cut cost.\n")
    (tmp_path / "page.html").write_text(
        "<html><head><title>Pruning page</title><script>var x=1;</script></head>"
        "<body><p>Magnitude pruning removes small weights.</p></body></html>"
    )
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf \x00\x01")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (tmp_path / "image.png").write_bytes(b"\x89PNG")  # unsupported: ignored, not an error
    result = load_documents([tmp_path])
    titles = {d.metadata["title"] for d in result.documents}
    assert titles == {"Sparse attention notes", "Pruning page"}
    html = next(d for d in result.documents if d.metadata["title"] == "Pruning page")
    assert "Magnitude pruning" in html.text and "var x" not in html.text
    failed = {Path(f.path).name: f.reason for f in result.failed}
    assert set(failed) == {"broken.pdf", "latin1.txt"}
    assert "UTF-8" in failed["latin1.txt"]
    assert "RetryError" not in failed["broken.pdf"] and "Future" not in failed["broken.pdf"]
    assert failed["broken.pdf"].startswith("Pdf"), failed["broken.pdf"]  # pypdf's own error
