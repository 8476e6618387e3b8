"""Chroma as a server: `chroma run` on 127.0.0.1, the collection indexed into it over HTTP, and
the same top results as the embedded store on the same questions."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import chroma_launch, free_port, running

from rag.core.errors import EmbeddingMismatchError, StoreError
from rag.core.settings import EmbeddingSettings, Settings, StoreSettings
from rag.ingest.listing import merge_duplicates, parse_listing

pytestmark = pytest.mark.slow


def corpus_questions(corpus_dir: Path, n: int = 10, seed: int = 11) -> list[str]:
    """`n` questions cut from the middle of random abstracts (not their titles' words)."""
    papers = []
    for f in sorted(corpus_dir.glob("*.txt")):
        papers.extend(parse_listing(f.read_text(encoding="utf-8"), f.name))
    rng = random.Random(seed)
    out: list[str] = []
    for p in rng.sample(merge_duplicates(papers), k=4 * n):
        sents = [s for s in p.abstract.split(". ") if len(s.split()) >= 10]
        if sents:
            out.append(" ".join(sents[len(sents) // 2].split()[:20]) + "?")
        if len(out) == n:
            break
    return out


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server-data")
    with running(*chroma_launch(port, data), data / "server.log"):
        yield port


def server_settings(settings: Settings, port: int, index_dir: Path, **store: Any) -> Settings:
    cfg = StoreSettings(mode="server", host="127.0.0.1", port=port, **store)
    return settings.model_copy(update={"store": cfg, "index_dir": index_dir})


@pytest.fixture(scope="module")
def server_assistant(
    settings: Settings, chroma_server: int, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """An Assistant whose collection lives in the Chroma server, indexed from the corpus."""
    from rag.service.assistant import Assistant

    cfg = server_settings(settings, chroma_server, tmp_path_factory.mktemp("server-index"))
    a = Assistant(cfg, build_index=False, progress=False)
    report = a.index()
    assert report.added > 600 and not report.failed
    return a


def test_server_collection_matches_embedded(assistant: Any, server_assistant: Any) -> None:
    embedded, server = assistant.status(), server_assistant.status()
    assert server.chunks == embedded.chunks and server.documents == embedded.documents
    assert "server" in server.store
    again = server_assistant.index()  # incremental over HTTP as well
    assert again.chunks_embedded == 0 and again.skipped == embedded.documents


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
def test_same_top_results_as_embedded(
    assistant: Any, server_assistant: Any, settings: Settings, mode: str
) -> None:
    questions = corpus_questions(Path(settings.corpus_dir))
    assert len(questions) == 10
    overlaps = []
    for q in questions:
        local = [p.doc_id for p in assistant.retrieve(q, k=5, mode=mode)]
        remote = [p.doc_id for p in server_assistant.retrieve(q, k=5, mode=mode)]
        assert local[0] == remote[0], f"top-1 differs for {q!r}"
        overlaps.append(len(set(local) & set(remote)))
    assert sum(overlaps) / len(overlaps) >= 4.5, overlaps


def test_writes_are_batched_within_server_limit(server_assistant: Any) -> None:
    store = server_assistant.store
    limit = store.client.get_max_batch_size()
    assert 1 <= store.batch_size() <= limit


def test_other_embedding_model_is_refused(
    settings: Settings, chroma_server: int, server_assistant: Any, tmp_path: Path
) -> None:
    """Vectors of two models never share a collection: opening it with another is an error."""
    from rag.storage.chroma import Store

    cfg = server_settings(settings, chroma_server, tmp_path)
    other = cfg.model_copy(update={"embedding": EmbeddingSettings(model="another-model")})
    with pytest.raises(EmbeddingMismatchError, match="another-model"):
        Store(other)
    Store(cfg)  # the right model still opens it


def test_server_down_is_a_store_error(settings: Settings, tmp_path: Path) -> None:
    from rag.storage.chroma import Store

    port = free_port()
    with pytest.raises(StoreError, match=f"127.0.0.1:{port}"):
        Store(server_settings(settings, port, tmp_path))
