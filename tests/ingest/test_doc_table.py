"""The document table (rag/storage/doctable.py): a one-document update reads that document's rows
only, never every chunk's metadata, and ends with the store, the table and the lexical index as a
full read and a rebuild would give them. An index made before the table is upgraded once; a run
killed midway (pending stamp) makes the next one read the store again."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from rag.core.settings import PROJECT_DIR, Settings
from rag.ingest.indexer import Indexer
from rag.ingest.listing import clean_lines
from rag.storage.chroma import Store
from rag.storage.lexical import VERSION_KEY, LexicalIndex, LexicalVersions, pending_version

CORPUS = PROJECT_DIR / "corpus"


def _papers() -> list[tuple[str, str]]:
    lines = clean_lines((CORPUS / "001_6a9130a22abd98d5.txt").read_text(encoding="utf-8"))
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


def _listing(path: Path, papers: list[tuple[str, str]]) -> None:
    body = "\n\n".join(f"{t}\n\n{a}" for t, a in papers)
    path.write_text("Daily Papers\n\n" + body + "\n", encoding="utf-8")


class _Spy:
    """Counts the store's reads: every `get` (with the ids it named, or none: a scan)."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[dict[str, Any]] = []
        collection = store.collection
        real_get = collection.get

        def get(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(kwargs)
            return real_get(*args, **kwargs)

        monkeypatch.setattr(collection, "get", get, raising=False)

    @property
    def scans(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if not c.get("ids")]

    @property
    def ids_read(self) -> set[str]:
        return {i for c in self.calls for i in c.get("ids") or []}


def _same_as_rebuild(store: Store, index: LexicalIndex | None) -> None:
    assert index is not None
    rebuilt = LexicalIndex.from_store(store, "rebuilt")
    assert list(index.ids) == list(rebuilt.ids)  # same rows, in the store's order
    assert list(index.keys) == list(rebuilt.keys)
    assert index.doc_freq == rebuilt.doc_freq
    for title, _ in _papers()[:14]:
        assert index.search(title, 3) == rebuilt.search(title, 3)


def _setup(tmp_path: Path) -> tuple[Settings, Path, list[tuple[str, str]]]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    corpus = corpus.resolve()  # as the store records its paths
    papers = _papers()[:12]
    _listing(corpus / "a.txt", papers[:4])
    _listing(corpus / "b.txt", papers[4:8])
    _listing(corpus / "c.txt", papers[8:12])
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    return settings, corpus, papers


def test_changed_document_is_synced_without_reading_every_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the indexer's public path only (no table API): the second run changes one
    document and reads neither the store's metadata in full nor any other document's chunks."""
    settings, corpus, papers = _setup(tmp_path)
    store = Store(settings)
    Indexer(settings, store).index(progress=False)
    others = {
        i: m
        for i, m in zip(
            store.collection.get()["ids"], store.collection.get()["metadatas"] or [], strict=True
        )
    }
    title, abstract = papers[5]
    new_abstract = abstract.split(". ")[0] + ". Quokka-guided retrieval halves the latency."
    _listing(corpus / "b.txt", [papers[4], (title, new_abstract), papers[6], papers[7]])
    indexer = Indexer(settings, store)
    spy = _Spy(store, monkeypatch)
    monkeypatch.setattr(store, "iter_rows", _forbidden)
    report = indexer.index(progress=False)
    monkeypatch.undo()
    assert (report.updated, report.skipped, report.chunks_embedded) == (1, 11, 1)
    assert spy.scans == []
    got = store.collection.get()
    changed = {
        i for i, m in zip(got["ids"], got["metadatas"] or [], strict=True) if m != others.get(i)
    }
    assert len(changed) == 1 and spy.ids_read <= changed
    _same_as_rebuild(store, indexer.last_lexical)
    lexical = indexer.last_lexical
    assert lexical is not None and lexical.search("quokka-guided retrieval", 1)[0][0] in changed


def test_one_document_update_reads_only_that_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from rag.storage.doctable import DocTable, table_path

    settings, corpus, papers = _setup(tmp_path)
    store = Store(settings)
    indexer = Indexer(settings, store)
    with caplog.at_level(logging.INFO, logger="rag.ingest.indexer"):
        first = indexer.index(progress=False)
    assert first.added == 12 and indexer.last_path == "scan"
    assert "document table" in caplog.text  # built once, from the store, and said so
    table = DocTable(table_path(settings.index_dir, store.name))
    before = table.get(f"{d}" for d in table.under([corpus]))
    assert len(before) == 12

    # One paper of a.txt changes: a new process-like indexer reads only that document.
    changed_title = papers[1][0]
    marker = "Zygomorphic quokkas outperform baselines on twelve benchmarks."
    new_abstract = papers[1][1].split(". ")[0] + ". " + marker
    _listing(corpus / "a.txt", [papers[0], (changed_title, new_abstract), papers[2], papers[3]])
    indexer = Indexer(settings, store)
    spy = _Spy(store, monkeypatch)
    monkeypatch.setattr(store, "iter_rows", _forbidden)
    report = indexer.index([corpus / "a.txt"], progress=False)
    assert (report.updated, report.added, report.removed, report.skipped) == (1, 0, 0, 3)
    assert report.chunks_embedded == 1 and report.documents == 12
    assert indexer.last_path == "table"
    assert spy.scans == []  # no read of every chunk's metadata
    after = table.get(before)
    changed = [d for d in before if before[d].hashes != after[d].hashes]
    assert len(changed) == 1
    assert spy.ids_read <= set(after[changed[0]].chunk_ids)  # its own new chunk, nothing else
    assert indexer.docs.reads == 4  # the rows of the file's 4 documents, nothing else
    for d in before:
        if d not in changed:
            assert after[d] == before[d]
    monkeypatch.undo()

    # Correct: the new text is found by BM25 and by the store, the old one is gone.
    lexical = indexer.last_lexical
    _same_as_rebuild(store, lexical)
    assert lexical is not None and lexical.version == store.fresh_metadata()[VERSION_KEY]
    assert lexical.timings["tokenized"] == 1
    hit = lexical.search("zygomorphic quokkas", 1)
    assert hit and hit[0][0] in after[changed[0]].chunk_ids
    docs = store.collection.get(ids=hit[0][0], include=["documents"])["documents"] or []
    assert marker in docs[0]
    old_words = papers[1][1][-60:]  # the end of the old abstract, which the new one lacks
    assert not any(old_words in (t or "") for t in store.collection.get()["documents"] or [])
    loaded = LexicalVersions(settings, store).load(str(lexical.version))
    assert loaded is not None and list(loaded.ids) == list(lexical.ids)

    # A file removed, then one forgotten: the same, without a scan.
    (corpus / "b.txt").unlink()
    indexer = Indexer(settings, store)
    spy = _Spy(store, monkeypatch)
    monkeypatch.setattr(store, "iter_rows", _forbidden)
    report = indexer.index(progress=False)
    assert report.removed == 4 and report.chunks_embedded == 0 and report.documents == 8
    assert spy.scans == [] and indexer.last_path == "table"
    removed = indexer.forget([corpus / "c.txt"])
    assert removed == 4 and spy.scans == [] and indexer.last_path == "table"
    monkeypatch.undo()
    _same_as_rebuild(store, indexer.last_lexical)
    assert store.count() == 4 and table.count() == 4


def _forbidden(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the store's metadata was read in full")


def test_index_without_table_is_upgraded_once_and_a_killed_run_reads_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from rag.storage.doctable import DocTable, table_path

    settings, corpus, _ = _setup(tmp_path)
    store = Store(settings)
    Indexer(settings, store).index(progress=False)
    path = table_path(settings.index_dir, store.name)
    path.unlink()  # an index made before the table existed

    indexer = Indexer(settings, store)
    with caplog.at_level(logging.INFO, logger="rag.ingest.indexer"):
        report = indexer.index(progress=False)
    assert report.skipped == 12 and indexer.last_path == "scan"
    assert "built from the store (12 documents)" in caplog.text
    indexer.index(progress=False)
    assert indexer.last_path == "table"  # upgraded once

    # A run killed after its pending stamp, with a chunk already gone: the next run reads the
    # store, re-embeds what is missing and rebuilds the table.
    LexicalVersions(settings, store).stamp(pending_version())
    table = DocTable(path)
    entry = next(iter(table.get(table.under([corpus / "a.txt"])).values()))
    store.delete_ids(entry.chunk_ids)
    report = indexer.index(progress=False)
    assert indexer.last_path == "scan" and report.added == 1 and report.documents == 12
    _same_as_rebuild(store, indexer.last_lexical)
    report = indexer.index(progress=False)
    assert indexer.last_path == "table" and report.skipped == 12 and report.chunks_embedded == 0


def _base_inode(settings: Settings, store: Store, version: str) -> int:
    return (LexicalVersions(settings, store).path(version) / "base_counts_data.npy").stat().st_ino


def test_updates_keep_the_saved_base_and_write_a_delta(tmp_path: Path) -> None:
    """A one-document update writes the changed rows only (a delta, and the base rows it
    removes); the base's files are the same files as before (linked), through several updates
    and the pruning of older versions, and every version searches as a rebuild does, loaded
    from disk too."""
    settings, corpus, papers = _setup(tmp_path)
    store = Store(settings)
    Indexer(settings, store).index(progress=False)
    first = str(store.fresh_metadata()[VERSION_KEY])
    inode = _base_inode(settings, store, first)
    marker = "Zygomorphic quokkas outperform baselines on twelve benchmarks."

    def change(i: int, text: str) -> LexicalIndex:
        rows = [papers[j] for j in range(4)]
        rows[i] = (papers[i][0], papers[i][1].split(". ")[0] + ". " + text)
        _listing(corpus / "a.txt", rows)
        indexer = Indexer(settings, store)
        indexer.index(progress=False)
        assert indexer.last_path == "table" and indexer.last_lexical is not None
        return indexer.last_lexical

    built = LexicalVersions(settings, store).load(first)
    assert built is not None and built.scoring == "precomputed"  # a whole base, as bm25s
    one = change(1, marker)
    assert (one.delta.n, len(one.removed), one.timings["base_files"]) == (1, 1, "linked")
    assert one.scoring == "counts"  # the statistics changed: scored from the counts
    _same_as_rebuild(store, one)
    assert one.search("zygomorphic quokkas", 1) == one.search_bm25s("zygomorphic quokkas", 1)

    (corpus / "b.txt").unlink()  # four documents removed: rows removed from the base only
    indexer = Indexer(settings, store)
    indexer.index(progress=False)
    two = indexer.last_lexical
    assert two is not None and (two.delta.n, len(two.removed)) == (1, 5)
    _same_as_rebuild(store, two)

    three = change(1, "Hexapod ferrets now lead two leaderboards.")  # the delta row replaced
    assert (three.delta.n, len(three.removed)) == (1, 5) and three.n == store.count() == 8
    _same_as_rebuild(store, three)
    assert three.search("zygomorphic quokkas", 3) == []  # its words are in no row now

    version = str(store.fresh_metadata()[VERSION_KEY])
    versions = LexicalVersions(settings, store)
    assert not versions.path(first).exists()  # pruned; its base lives on in the new folder
    assert _base_inode(settings, store, version) == inode
    loaded = versions.load(version)
    assert loaded is not None and loaded.origin == "loaded"
    assert (loaded.delta.n, len(loaded.removed)) == (1, 5)
    _same_as_rebuild(store, loaded)


def test_changes_past_the_delta_share_are_merged_into_one_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.storage import lexical

    settings, corpus, papers = _setup(tmp_path)
    store = Store(settings)
    Indexer(settings, store).index(progress=False)
    inode = _base_inode(settings, store, str(store.fresh_metadata()[VERSION_KEY]))
    monkeypatch.setattr(lexical, "DELTA_MIN_ROWS", 0)  # 10% of 12 rows: two changes pass it
    rows = [(t, a.split(". ")[0] + ". Quokka-guided retrieval.") for t, a in papers[:2]]
    _listing(corpus / "a.txt", [*rows, papers[2], papers[3]])
    indexer = Indexer(settings, store)
    indexer.index(progress=False)
    merged = indexer.last_lexical
    assert merged is not None and merged.timings["merged"] is True
    assert (merged.delta.n, len(merged.removed), merged.timings["base_files"]) == (0, 0, "written")
    assert merged.scoring == "precomputed"
    _same_as_rebuild(store, merged)
    version = str(store.fresh_metadata()[VERSION_KEY])
    assert _base_inode(settings, store, version) != inode
