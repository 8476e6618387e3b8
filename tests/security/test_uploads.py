"""Attacks on uploads through a real `rag serve` (issue 23, rows 2, 4, 8 and 9): an upload
must not replace or remove anyone else's documents, nor lose one of its own.

Before: an upload listing a paper under a corpus paper's title replaced that paper (document id =
hash of the title) and its deletion removed it from the index; two Unicode names were both stored
as `document.txt`; six concurrent uploads of one name gave 500s (a shared temp name); a broken
re-upload replaced the good file. Row 10 (a server killed mid-upload): test_upload_interrupted.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from attack_corpus import rag_env_for, write_corpus
from pdfs import make_pdf
from servers import VENV_BIN, free_port, running

pytestmark = pytest.mark.slow

USER = "user-token-0123456789"
ADMIN = "admin-token-9876543210"

SHIPPED_TITLE = "Plover: a streaming tokenizer for edge devices"
SHIPPED_FACT = "cuts tokenizer latency by 37 percent"
# The shipped listing format: a title line, then its abstract paragraph (rag/ingest/listing.py).
LISTING = f"""Daily Papers
{SHIPPED_TITLE}
Plover tokenizes text in a single streaming pass and {SHIPPED_FACT} on edge devices, compared
 with a standard byte pair encoding implementation, without changing the token ids it produces.
Heron: sparse attention for long legal documents
Heron attends to a sparse set of clause boundaries and reads contracts of two hundred pages with
 a memory footprint of four gigabytes, while matching the accuracy of dense attention on review.
""".replace("\n ", " ")
FAKE_FACT = "Plover is 99 percent slower than a byte pair encoder"
RACE_PAD_BYTES = 8_000_000
UPLOAD_LISTING = f"""{SHIPPED_TITLE}
{FAKE_FACT} on every edge device that was measured in the second benchmark of the study.
Wren: a compiler for tiny accelerators
Wren compiles quantized networks for accelerators with sixteen kilobytes of memory and schedules
 their kernels so that no activation is ever written back to the external flash storage.
""".replace("\n ", " ")


class Server:
    def __init__(self, url: str, root: Path) -> None:
        self.url, self.root = url, root
        self.uploads = root / "uploads"

    def upload(self, *files: tuple[str, bytes]) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/documents",
            files=[("files", (name, data)) for name, data in files],
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=300,
        )

    def documents(self) -> dict[str, dict[str, Any]]:
        r = httpx.get(
            f"{self.url}/v1/documents", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=120
        )
        assert r.status_code == 200, r.text
        return {d["id"]: d for d in r.json()["documents"]}

    def delete(self, doc_id: str) -> httpx.Response:
        return httpx.delete(
            f"{self.url}/v1/documents/{doc_id}",
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=120,
        )

    def texts(self, question: str) -> list[tuple[str, str]]:
        """(source, text) of every passage retrieval gives for `question` (the collection is
        small: k covers it)."""
        r = httpx.post(
            f"{self.url}/v1/retrieve",
            json={"question": question, "k": 30},
            headers={"Authorization": f"Bearer {USER}"},
            timeout=60,
        )
        assert r.status_code == 200, r.text
        return [(p["source"], p["text"]) for p in r.json()["passages"]]


def _env(root: Path, port: int) -> dict[str, str]:
    return rag_env_for(
        root,
        RAG_API__PORT=str(port),
        RAG_API__TOKEN=USER,
        RAG_SECURITY__ADMIN_TOKEN=ADMIN,
    )


def _start(root: Path) -> tuple[list[str], str, dict[str, str]]:
    port = free_port()
    return [str(VENV_BIN / "rag"), "serve"], f"http://127.0.0.1:{port}", _env(root, port)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("uploads")
    write_corpus(root / "corpus")
    (root / "corpus" / "daily.txt").write_text(LISTING)
    (root / "uploads").mkdir()
    cmd, url, env = _start(root)
    with running(cmd, f"{url}/health", root / "serve.log", env):
        yield Server(url, root)


def _leftovers(uploads: Path) -> list[str]:
    """What an upload left in the uploads folder besides the stored files: staged copies,
    earlier versions, journals, folders."""
    return sorted(p.name for p in uploads.iterdir() if p.name.startswith(".") or not p.is_file())


def test_row2_an_upload_cannot_replace_or_remove_a_corpus_paper(server: Server) -> None:
    before = server.texts("Plover streaming tokenizer latency")
    assert any(SHIPPED_FACT in t for s, t in before if s == "daily.txt"), before

    r = server.upload(("plover-notes.txt", UPLOAD_LISTING.encode()))
    assert r.status_code == 200, r.text
    (outcome,) = r.json()["files"]
    assert outcome["status"] == "added", outcome
    assert r.json()["report"]["updated"] == 0, r.json()["report"]  # was: "updated 1"
    after = server.texts("Plover streaming tokenizer latency")
    assert any(SHIPPED_FACT in t for s, t in after if s == "daily.txt"), after  # still there
    assert any(FAKE_FACT in t for s, t in after if s == outcome["id"])  # the upload: its own

    r = server.delete(outcome["id"])
    assert r.status_code == 200, r.text
    gone = server.texts("Plover streaming tokenizer latency")
    assert any(SHIPPED_FACT in t for s, t in gone if s == "daily.txt"), gone  # was: removed
    assert not any(FAKE_FACT in t or "Wren compiles" in t for _, t in gone)  # the upload: gone


def test_row4_unicode_names_are_kept_and_never_merged(server: Server) -> None:
    files = [
        ("отчёт за май….txt", b"Report for May. The Kestrel board shipped 1200 units in May."),
        ("报告.txt", b"Quarterly report. The Osprey board shipped 3400 units this quarter."),
        ("same.md", b"# Same A\n\nThe Merlin sampler draws 12 samples per step."),
        ("same.md", b"# Same B\n\nThe Merlin sampler needs 5 gigabytes of memory."),
    ]
    r = server.upload(*files)
    assert r.status_code == 200, r.text
    out = r.json()["files"]
    assert [o["status"] for o in out] == ["added"] * 4, out
    ids = [o["id"] for o in out]
    assert ids == ["отчёт_за_май.txt", "报告.txt", "same.md", "same-2.md"], ids
    for (name, data), o in zip(files, out, strict=True):
        assert o["name"] == name
        assert (server.uploads / o["id"]).read_bytes() == data  # nothing lost
    listed = server.documents()
    assert set(ids) <= set(listed) and all(listed[i]["chunks"] > 0 for i in ids), listed
    sources = {s for s, _ in server.texts("How many units did the board ship?")}
    assert {"отчёт_за_май.txt", "报告.txt"} <= sources, sources

    # A same-name re-upload is still an update of that file, not a new name.
    r = server.upload(("报告.txt", b"Quarterly report, corrected. The Osprey board shipped 3500."))
    assert [(o["id"], o["status"]) for o in r.json()["files"]] == [("报告.txt", "updated")]
    # A different file whose name only reduces to a stored one's gets a name of its own.
    r = server.upload(("same .md", b"# Same C\n\nThe Merlin sampler was written in Rust."))
    assert [(o["id"], o["status"]) for o in r.json()["files"]] == [("same-3.md", "added")]
    assert (server.uploads / "same.md").read_bytes() == files[2][1]
    for doc_id in [*ids, "same-3.md"]:
        assert server.delete(doc_id).status_code == 200
    assert _leftovers(server.uploads) == []


def _padded(pdf: Path, size: int = RACE_PAD_BYTES) -> bytes:
    """`pdf` with a large attachment (no text): copying it takes long enough for six requests
    to overlap, as real uploads of a few MB do."""
    import io
    import os

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(pdf))
    writer.add_attachment("pad.bin", os.urandom(size))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_row8_concurrent_uploads_of_one_name_end_consistent(server: Server, tmp_path: Path) -> None:
    versions = []
    for i in range(6):
        pdf = make_pdf(
            tmp_path / f"v{i}.pdf",
            [f"Race report version {i}. The Plover cache held {1000 + i} entries in run {i}."],
        )
        versions.append(_padded(pdf))
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda data: server.upload(("race.pdf", data)), versions))
    codes = [r.status_code for r in responses]
    assert codes == [200] * 6, [r.text[:300] for r in responses]  # was: three 500s, two 400s
    outcomes = [r.json()["files"][0] for r in responses]
    assert {o["id"] for o in outcomes} == {"race.pdf"}, outcomes
    statuses = sorted(o["status"] for o in outcomes)
    assert statuses.count("added") == 1 and "failed" not in statuses, statuses

    stored = (server.uploads / "race.pdf").read_bytes()
    assert stored in versions
    kept = versions.index(stored)
    listed = server.documents()
    assert listed["race.pdf"]["complete"] and listed["race.pdf"]["pages"] == 1, listed
    race = [
        t for s, t in server.texts("Race report version Plover cache entries") if s == "race.pdf"
    ]
    assert race and all(f"version {kept}." in t for t in race), (kept, race)  # in step
    assert _leftovers(server.uploads) == []
    assert server.delete("race.pdf").status_code == 200


def test_row9_a_broken_reupload_keeps_the_good_file(server: Server, tmp_path: Path) -> None:
    good = make_pdf(
        tmp_path / "ok.pdf", ["The Heron reader parsed 812 contracts per hour in the trial."]
    ).read_bytes()
    r = server.upload(("ok.pdf", good))
    assert r.json()["files"][0]["status"] == "added", r.text
    broken = good[: len(good) // 2]  # a truncated PDF: its header passes the type check
    r = server.upload(("ok.pdf", broken))
    assert r.status_code == 200, r.text
    (outcome,) = r.json()["files"]
    assert outcome["status"] == "failed", outcome
    assert "earlier version is kept" in outcome["reason"], outcome
    assert (server.uploads / "ok.pdf").read_bytes() == good  # was: replaced by the broken one
    listed = server.documents()
    assert listed["ok.pdf"]["pages"] == 1 and listed["ok.pdf"]["complete"], listed
    texts = [t for s, t in server.texts("How many contracts per hour?") if s == "ok.pdf"]
    assert any("812 contracts" in t for t in texts), texts
    assert _leftovers(server.uploads) == []
    assert server.delete("ok.pdf").status_code == 200


def test_row2_corpus_ids_stay_and_upload_ids_are_scoped(tmp_path: Path) -> None:
    """The corpus's paper ids are what they were (an index built before keeps its chunks);
    the same title in an upload is another document."""
    import hashlib

    from rag.ingest.documents import load_documents

    (tmp_path / "corpus").mkdir()
    (tmp_path / "uploads").mkdir()
    (tmp_path / "corpus" / "daily.txt").write_text(LISTING)
    (tmp_path / "uploads" / "notes.txt").write_text(UPLOAD_LISTING)
    docs = load_documents([tmp_path], separate=[tmp_path / "uploads"]).documents
    ids = {(d.metadata["source"], d.metadata["title"]): d.doc_id for d in docs}
    title_id = "paper-" + hashlib.sha1(SHIPPED_TITLE.lower().encode()).hexdigest()[:16]
    assert ids[("daily.txt", SHIPPED_TITLE)] == title_id
    assert ids[("notes.txt", SHIPPED_TITLE)] != title_id
    assert len(set(ids.values())) == len(ids) == 4
