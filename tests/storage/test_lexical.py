"""The persistent lexical (BM25) index: the same scores as bm25s, saved by the index run under a
version stamp the collection carries, loaded (not rebuilt) at start, and seen by another
retriever on the same store when an update keeps the chunk count equal."""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np
import pytest
import Stemmer

from rag.core.settings import PROJECT_DIR, Settings
from rag.ingest.listing import clean_lines
from rag.service.assistant import Assistant
from rag.storage.lexical import (
    PENDING,
    TOKEN_PATTERN,
    VERSION_KEY,
    LexicalIndex,
    LexicalVersions,
    bm25_scores,
    is_final,
    tokenize,
    unmark,
)

CORPUS = PROJECT_DIR / "corpus"


def _papers() -> list[tuple[str, str]]:
    """(title, abstract) pairs of one shipped listing file."""
    lines = clean_lines((CORPUS / "001_6a9130a22abd98d5.txt").read_text(encoding="utf-8"))
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


def _listing(path: Path, picks: list[int]) -> list[str]:
    """Write a listing of the shipped papers `picks`; returns their titles."""
    papers = _papers()
    body = "\n\n".join(f"{papers[i][0]}\n\n{papers[i][1]}" for i in picks)
    path.write_text("Daily Papers\n\n" + body + "\n", encoding="utf-8")
    return [papers[i][0] for i in picks]


def _settings(tmp: Path, corpus: Path) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=tmp / "index", state_db=tmp / "state.sqlite3")


def _scores_by_token(scores: dict, vocab: list[str]) -> dict[tuple[int, str], float]:
    out = {}
    indptr, indices, data = scores["indptr"], scores["indices"], scores["data"]
    for col, token in enumerate(vocab):
        for j in range(int(indptr[col]), int(indptr[col + 1])):
            out[(int(indices[j]), token)] = float(data[j])
    return out


def test_scores_are_bm25s_own() -> None:
    """The vectorised builder gives bm25s's matrix bit for bit (so results match llama-index's
    BM25Retriever, which used bm25s's builder)."""
    texts = [f"{t}\n{a}" for t, a in _papers()[:60]]
    ref = bm25s.BM25()
    ref.index(
        bm25s.tokenize(
            [unmark(t) for t in texts],  # the one step before bm25s's own tokenizer
            stopwords="english",
            stemmer=Stemmer.Stemmer("english"),
            token_pattern=TOKEN_PATTERN,
            show_progress=False,
        ),
        show_progress=False,
    )
    ref_vocab = [""] * len(ref.vocab_dict)
    for token, i in ref.vocab_dict.items():
        if i < len(ref_vocab):
            ref_vocab[i] = token

    from rag.storage.lexical import _counts_of

    ids, batch_vocab = tokenize(texts)
    vocab: dict[str, int] = {}
    counts = _counts_of(ids, batch_vocab, vocab)
    mine = bm25_scores(counts)
    inverse = [""] * len(vocab)
    for token, i in vocab.items():
        inverse[i] = token
    expected = _scores_by_token(ref.scores, ref_vocab[: len(ref.scores["indptr"]) - 1])
    assert _scores_by_token(mine, inverse) == expected


def test_index_run_saves_a_stamped_index_that_a_new_process_loads(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    titles = _listing(corpus / "a.txt", [0, 1, 2, 3])
    a = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    a.index()
    meta = a.store.fresh_metadata()
    version = meta[VERSION_KEY]
    assert is_final(version)
    # The stamp joins the collection's metadata: the model tag stays, the distance stays cosine.
    assert meta["embedding_model"] == a.store.embedding
    col = a.store.client.get_collection(a.store.name, embedding_function=None)
    assert col.configuration_json["hnsw"]["space"] == "cosine"
    folder = LexicalVersions(a.settings, a.store).path(version)
    saved = json.loads((folder / "meta.json").read_text())
    assert saved["version"] == version and saved["chunks"] == a.store.count() == 4

    # A second retriever over the same store (as a new process would) loads it from disk.
    b = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    top = b.retrieve(titles[2], k=1, mode="bm25")
    assert top[0].title == titles[2]
    assert b.retriever.lexical is not None
    assert b.retriever.lexical.origin == "loaded" and b.retriever.lexical.version == version
    # A no-op run changes nothing, not even the stamp.
    again = a.index()
    assert again.chunks_embedded == 0 and a.store.fresh_metadata()[VERSION_KEY] == version


def test_update_keeping_the_count_is_seen_by_another_retriever(tmp_path: Path) -> None:
    """One chunk deleted and one added: the count is unchanged, the stamp is not."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _listing(corpus / "a.txt", [0, 1, 2, 3, 4])
    writer = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    writer.index()
    reader = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    titles = [t for t, _ in _papers()]
    assert reader.retrieve(titles[0], k=1, mode="bm25")[0].title == titles[0]
    before = reader.retriever.lexical
    assert before is not None and before.n == 5

    _listing(corpus / "a.txt", [1, 2, 3, 4, 5])
    report = writer.index()
    assert (report.added, report.removed) == (1, 1) and writer.store.count() == 5

    hits = reader.retrieve(titles[5], k=5, mode="bm25")
    assert hits[0].title == titles[5]
    assert titles[0] not in {p.title for p in reader.retrieve(titles[0], k=5, mode="bm25")}
    after = reader.retriever.lexical
    assert after is not None and after.version != before.version
    assert after.version == writer.store.fresh_metadata()[VERSION_KEY]
    assert reader.retrieve(titles[5], k=1)[0].title == titles[5]  # hybrid too


def test_incremental_sync_equals_a_rebuild(tmp_path: Path) -> None:
    """Brought up to date from an older index (only new chunks tokenized), the index is the one
    a rebuild from the store gives: same rows in the same order, same scores, same statistics."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _listing(corpus / "a.txt", [0, 1, 2, 3, 4, 5])
    a = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    a.index()
    old = LexicalIndex.from_store(a.store, "x")
    _listing(corpus / "a.txt", [0, 2, 4, 6, 7])
    a.index()
    synced = LexicalIndex.from_store(a.store, "y", base=old)
    rebuilt = LexicalIndex.from_store(a.store, "z")
    assert synced.origin == "synced" and list(synced.ids) == list(rebuilt.ids)
    assert synced.doc_freq == rebuilt.doc_freq
    s = _scores_by_token(synced.scores, synced.counts.vocab)
    assert s == _scores_by_token(rebuilt.scores, rebuilt.counts.vocab)
    for title, _ in _papers()[:8]:
        assert synced.search(title, 3) == rebuilt.search(title, 3)


def test_incomplete_or_foreign_saved_index_is_not_loaded(tmp_path: Path) -> None:
    """A folder without meta.json (a save cut short), or of another version, is never used."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _listing(corpus / "a.txt", [0, 1])
    a = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    a.index()
    versions = LexicalVersions(a.settings, a.store)
    version = a.store.fresh_metadata()[VERSION_KEY]
    assert versions.load(version) is not None
    assert LexicalIndex.load(versions.path(version), "another") is None
    (versions.path(version) / "meta.json").unlink()
    assert versions.load(version) is None
    # The retriever then rebuilds it from the store and saves it again.
    b = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    b.retrieve("language models", k=1, mode="bm25")
    assert b.retriever.lexical is not None and b.retriever.lexical.origin == "built"
    assert versions.load(version) is not None


def test_pending_stamp_is_served_in_memory_and_not_saved(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    titles = _listing(corpus / "a.txt", [0, 1, 2])
    a = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    a.index()
    pending = PENDING + "test"
    a.store.update_metadata({VERSION_KEY: pending})  # as a run killed after its first write
    b = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    assert b.retrieve(titles[1], k=1, mode="bm25")[0].title == titles[1]
    assert b.retriever.lexical is not None and b.retriever.lexical.version == pending
    assert not LexicalVersions(a.settings, a.store).path(pending).exists()
    report = a.index()  # the next run ends with a final stamp and its saved index
    assert report.chunks_embedded == 0
    assert is_final(a.store.fresh_metadata()[VERSION_KEY])


@pytest.mark.parametrize("n", [0, 1])
def test_tiny_collections(tmp_path: Path, n: int) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    titles = _listing(corpus / "a.txt", list(range(n))) if n else []
    a = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    a.index()
    assert is_final(a.store.fresh_metadata()[VERSION_KEY])
    hits = a.retrieve(titles[0] if titles else "anything at all", k=5)
    assert len(hits) == n
    assert len(a.retrieve(titles[0] if titles else "anything", k=5, mode="vector")) == n
    assert a.retrieve("zzzqqq", k=5, mode="bm25") == []
    assert np.isfinite(a.retriever.idf()("model"))


def test_a_tex_subscript_is_the_word_a_reader_types(tmp_path: Path) -> None:
    """A title written "Q_2X: …" is found by "Q2X" (BM25 sees one word either way), and an index
    saved by an older release (another tokenization) is replaced, not loaded."""
    from rag.storage.lexical import query_terms

    assert unmark("Q_2X and T_{12} in z_i") == "Q2X and T12 in zi"
    assert unmark("the R$^{2}$Net model") == "the R2Net model"
    assert query_terms("Q2X") == query_terms("Q_2X")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Q_2X keeps the heavy tokens of the cache.\n", encoding="utf-8")
    (corpus / "b.txt").write_text("Forests of trees grow on tabular data.\n", encoding="utf-8")
    a = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    a.index()
    hits = a.retrieve("What does Q2X do?", k=1, mode="bm25")
    assert hits and hits[0].source == "a.txt" and (hits[0].bm25_score or 0) > 0
    versions = LexicalVersions(a.settings, a.store)
    version = a.store.fresh_metadata()[VERSION_KEY]
    meta_path = versions.path(version) / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, "format": 1}), encoding="utf-8")
    assert versions.load(version) is None
    b = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    b.retrieve("Q2X", k=1, mode="bm25")  # rebuilt from the store, saved over the old one
    assert versions.load(version) is not None
