"""The question's lean retrieval path gives what the llama-index path gives, and stays fresh.

Real parts: the shipped corpus indexed by a real Assistant (MiniLM in onnxruntime, Chroma, the
saved lexical index), questions of eval/dev.jsonl. The llama-index path (`QueryFusionRetriever`
over llama-index's Chroma vector retriever and the BM25 retriever, through bm25s's own `retrieve`)
is the reference: same passages, same order, same scores.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from rag.core.settings import PROJECT_DIR, Settings
from rag.core.types import Passage
from rag.ingest.listing import clean_lines
from rag.search.retrieval import MODES, fuse
from rag.service.assistant import Assistant
from rag.storage.lexical import SIGNAL, VERSION_KEY

DEV = PROJECT_DIR / "eval" / "dev.jsonl"
CORPUS = PROJECT_DIR / "corpus"
N_QUESTIONS = 30


def _questions(n: int = N_QUESTIONS) -> list[str]:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]
    return [str(r["question"]) for r in rows][:n]


def _both(assistant: Any, question: str, mode: str, k: int = 5) -> tuple[list[Passage], ...]:
    retriever = assistant.retriever
    try:
        retriever.lean = False
        reference = assistant.retrieve(question, k=k, mode=mode)
    finally:
        retriever.lean = True
    return assistant.retrieve(question, k=k, mode=mode), reference


def _same(lean: list[Passage], reference: list[Passage]) -> None:
    assert [p.chunk_id for p in lean] == [p.chunk_id for p in reference]
    for a, b in zip(lean, reference, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-6)
        for name in ("vector_score", "bm25_score"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None), name
            if x is not None:
                assert x == pytest.approx(y, abs=1e-6), name
        fields = set(type(a).model_fields) - {"score", "vector_score", "bm25_score"}
        assert {f: getattr(a, f) for f in fields} == {f: getattr(b, f) for f in fields}


@pytest.mark.parametrize("mode", MODES)
def test_lean_path_gives_the_llama_index_passages(assistant: Any, mode: str) -> None:
    found = 0
    for question in _questions():
        lean, reference = _both(assistant, question, mode)
        _same(lean, reference)
        found += len(lean)
    assert found >= 5 * N_QUESTIONS - 5  # questions that find passages, not empty lists


def test_bm25_straight_on_the_arrays_is_bm25s(assistant: Any) -> None:
    lexical = assistant.retriever.fresh_lexical()
    questions = [
        *_questions(),
        "the of and",  # stopwords only: nothing
        "",
        "KV cache cache cache quantization",  # a repeated term counts each time
        "zzzunknownword",
    ]
    for question in questions:
        for k in (1, 5, 20, lexical.n + 10):
            fast, ref = lexical.search(question, k), lexical.search_bm25s(question, k)
            assert [c for c, _ in fast] == [c for c, _ in ref], question
            assert [s for _, s in fast] == [s for _, s in ref], question


class _Fixed:
    """A llama-index retriever that returns fixed (chunk id, score) hits."""

    @staticmethod
    def make(hits: list[tuple[str, float]]) -> Any:
        from llama_index.core.retrievers import BaseRetriever
        from llama_index.core.schema import NodeWithScore, TextNode

        class Fixed(BaseRetriever):
            def _retrieve(self, query_bundle: Any) -> list[NodeWithScore]:
                return [NodeWithScore(node=TextNode(id_=c, text=c), score=s) for c, s in hits]

        return Fixed()


def _llama_fused(bm25: list[tuple[str, float]], vector: list[tuple[str, float]], w: float) -> Any:
    from llama_index.core.schema import QueryBundle

    from rag.search.llama import fusion_retriever

    fused = fusion_retriever([_Fixed.make(bm25), _Fixed.make(vector)], [w, 1 - w], 100)
    return [(r.node.node_id, r.score) for r in fused.retrieve(QueryBundle("q"))]


@pytest.mark.parametrize("seed", range(20))
def test_fusion_is_llama_index_fusion(seed: int) -> None:
    """Overlapping lists, tied scores, an empty list, a list of one or of equal scores: the same
    chunks, order (ties included) and scores as llama-index's `QueryFusionRetriever`."""
    import random

    rnd = random.Random(seed)
    ids = [f"c{i}" for i in range(30)]

    def hits() -> list[tuple[str, float]]:
        n = rnd.choice([0, 1, 3, 20])
        scores = [round(rnd.uniform(0, 5), rnd.choice([0, 1, 6])) for _ in range(n)]
        if rnd.random() < 0.2:
            scores = [1.5] * n
        return list(zip(rnd.sample(ids, n), sorted(scores, reverse=True), strict=True))

    bm25, vector = hits(), hits()
    w = rnd.choice([0.6, 0.5, 0.0, 1.0])
    assert fuse([(bm25, w), (vector, 1 - w)]) == _llama_fused(bm25, vector, w)


# -- over a small index of its own: changes made by another writer --------------------------------


def _papers() -> list[tuple[str, str]]:
    lines = clean_lines((CORPUS / "001_6a9130a22abd98d5.txt").read_text(encoding="utf-8"))
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


def _listing(path: Path, picks: list[int]) -> list[str]:
    papers = _papers()
    body = "\n\n".join(f"{papers[i][0]}\n\n{papers[i][1]}" for i in picks)
    path.write_text("Daily Papers\n\n" + body + "\n", encoding="utf-8")
    return [papers[i][0] for i in picks]


def _settings(tmp: Path, corpus: Path, **retrieval: Any) -> Settings:
    return Settings(
        corpus_dir=corpus,
        index_dir=tmp / "index",
        state_db=tmp / "state.sqlite3",
        retrieval=retrieval,
    )


def test_a_chunk_deleted_under_the_reader_is_left_out_as_llama_index_does(
    tmp_path: Path,
) -> None:
    """A chunk gone from the store but still in the lexical index (no stamp written): both
    paths leave it out before fusion, so they still agree. (With every row read: the row cache
    trusts the stamp, as `test_rows_shown_before_are_not_read_again` shows.)"""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    titles = _listing(corpus / "a.txt", list(range(8)))
    a = Assistant(_settings(tmp_path, corpus, row_cache=0), build_index=False, progress=False)
    a.index()
    top = a.retrieve(titles[2], k=5, mode="bm25")[0]
    assert top.title == titles[2]
    a.store.collection.delete(ids=[top.chunk_id])  # behind the lexical index's back
    for mode in MODES:
        lean, reference = _both(a, titles[2], mode)
        assert top.chunk_id not in {p.chunk_id for p in lean}
        _same(lean, reference)


def test_a_writer_on_this_host_is_seen_at_once_without_reading_the_stamp(
    tmp_path: Path,
) -> None:
    """The writer pushes its stamp to the lexical folder; a reader that reads the collection's
    stamp only every hour still answers from the new content on its next question."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _listing(corpus / "a.txt", [0, 1, 2, 3, 4])
    writer = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    writer.index()
    reader = Assistant(
        _settings(tmp_path, corpus, version_check_s=3600), build_index=False, progress=False
    )
    titles = [t for t, _ in _papers()]
    assert reader.retrieve(titles[0], k=1)[0].title == titles[0]
    signal = reader.retriever.versions.signal_path
    assert signal.name == SIGNAL
    assert signal.read_text() == writer.store.fresh_metadata()[VERSION_KEY]

    _listing(corpus / "a.txt", [1, 2, 3, 4, 5])
    writer.index()
    assert signal.read_text() == writer.store.fresh_metadata()[VERSION_KEY]
    assert reader.retrieve(titles[5], k=1)[0].title == titles[5]
    assert titles[0] not in {p.title for p in reader.retrieve(titles[0], k=5)}
    assert reader.retriever.lexical.version == writer.store.fresh_metadata()[VERSION_KEY]


def test_a_writer_elsewhere_is_seen_within_the_check_period(tmp_path: Path) -> None:
    """A writer whose pushed stamp the reader cannot see (another host: here another lexical
    folder): the collection's stamp, read every `version_check_s`, tells the reader."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _listing(corpus / "a.txt", [0, 1, 2, 3, 4])
    writer = Assistant(
        _settings(tmp_path, corpus).model_copy(update={"lexical_dir": tmp_path / "elsewhere"}),
        build_index=False,
        progress=False,
    )
    writer.index()
    period = 1.0
    reader = Assistant(
        _settings(tmp_path, corpus, version_check_s=period), build_index=False, progress=False
    )
    titles = [t for t, _ in _papers()]
    assert reader.retrieve(titles[0], k=1, mode="bm25")[0].title == titles[0]
    before = reader.retriever.lexical.version

    _listing(corpus / "a.txt", [1, 2, 3, 4, 5])
    writer.index()
    stamp = writer.store.fresh_metadata()[VERSION_KEY]
    deadline = time.monotonic() + period + 0.5
    seen = False
    while time.monotonic() < deadline and not seen:
        hits = reader.retrieve(titles[5], k=1, mode="bm25")
        seen = bool(hits) and hits[0].title == titles[5]
        time.sleep(0.1)
    assert seen, "the update was not seen within the check period"
    assert reader.retriever.lexical.version == stamp != before


def test_a_question_process_imports_no_llama_index_nor_torch(rag_env: dict[str, str]) -> None:
    """`rag ask`'s process: the CLI, the assistant, a retrieval and the answerer, without the
    seconds of importing llama-index (indexing only) or torch (the ONNX export only)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import rag.cli\n"
        "from rag.core.settings import Settings\n"
        "from rag.service.assistant import Assistant\n"
        "a = Assistant(Settings(), build_index=False, progress=False)\n"
        "assert a.retrieve('How much does ZipCache cut prefill latency?', k=3)\n"
        "_ = a.answerer\n"
        "heavy = ('llama_index', 'torch', 'transformers', 'sentence_transformers', 'sklearn')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=rag_env
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_checking_no_hits_asks_the_store_nothing(tmp_path: Path) -> None:
    """A vector-only search whose hit another process deleted retries with no lexical hits to
    check: none are held, where Chroma itself refuses an empty list of ids (a served
    /v1/retrieve answered 500 during a folder-sync rename)."""
    from rag.search.retrieval import _held

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _listing(corpus / "a.txt", list(range(3)))
    a = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    a.index()
    collection = a.store.collection
    with pytest.raises(ValueError):
        collection.get(ids=[], include=[])  # the store's own refusal, which _held must avoid
    assert _held(collection, []) == []
    some = collection.get(include=[])["ids"][:1]
    assert _held(collection, [(some[0], 1.0), ("gone", 0.5)]) == [(some[0], 1.0)]


def test_rows_shown_before_are_not_read_again(tmp_path: Path) -> None:
    """A question whose passages were shown before makes one Chroma call, the vector query (no
    row read); the same passages as with every row read; a writer's new stamp empties the
    cache, so the next question reads its rows again."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    titles = _listing(corpus / "a.txt", list(range(8)))
    a = Assistant(_settings(tmp_path, corpus), build_index=False, progress=False)
    a.index()
    collection = a.store.collection
    reads: list[list[str]] = []
    real_get = collection.get

    def get(*args: Any, **kwargs: Any) -> Any:
        reads.append(list(kwargs.get("ids") or []))
        return real_get(*args, **kwargs)

    object.__setattr__(collection, "get", get)
    first = a.retrieve(titles[3], k=5)
    assert len(reads) == 1 and len(reads[0]) == 5  # the five rows, read once
    again = a.retrieve(titles[3], k=5)
    assert len(reads) == 1  # from memory
    assert [(p.chunk_id, p.score, p.text, p.title) for p in again] == [
        (p.chunk_id, p.score, p.text, p.title) for p in first
    ]
    uncached = Assistant(
        _settings(tmp_path, corpus, row_cache=0), build_index=False, progress=False
    )
    assert [(p.chunk_id, p.text) for p in uncached.retrieve(titles[3], k=5)] == [
        (p.chunk_id, p.text) for p in again
    ]

    before = a.retriever.rows.version
    _listing(corpus / "a.txt", list(range(1, 9)))  # a change: a new stamp
    a.index()
    n = len(reads)
    a.retrieve(titles[3], k=5)
    assert a.retriever.rows.version == a.retriever.lexical.version != before
    assert len(reads) == n + 1  # read again under the new stamp


def test_the_row_cache_keeps_the_rows_of_one_final_stamp_up_to_its_size() -> None:
    from rag.search.retrieval import RowCache
    from rag.storage.lexical import pending_version

    rows = RowCache(2)
    cache = rows.of("v1")
    cache.put({"a": ("A", {}, None), "b": ("B", {}, None)})
    assert set(cache.get(["a", "b", "c"])) == {"a", "b"}
    cache.get(["a"])  # used last: "b" leaves first
    cache.put({"c": ("C", {}, None)})
    assert set(cache.get(["a", "b", "c"])) == {"a", "c"}
    assert rows.of("v1").get(["a"]) and not rows.of("v2").get(["a"])  # a new stamp: emptied
    pending = rows.of(pending_version())  # a run writing: nothing kept
    pending.put({"a": ("A", {}, None)})
    assert pending.get(["a"]) == {} and len(pending) == 0
    off = RowCache(0).of("v1")
    off.put({"a": ("A", {}, None)})
    assert off.get(["a"]) == {}
