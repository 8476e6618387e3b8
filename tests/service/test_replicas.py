"""Two `rag serve` replicas on one `chroma run`: an index update made through one is answered by
the other on its next request, even when the update keeps the chunk count equal.

Real processes only: a Chroma server, two API servers with index folders of their own (as on two
hosts: the second finds no saved lexical index for the new version and rebuilds it from the
Chroma server), a tiny corpus, and the embedded LLM with one slot (it is not used: retrieval only).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import (
    Launch,
    chroma_launch,
    free_port,
    replica_env,
    running,
    running_together,
    serve_command,
)

from rag.core.settings import PROJECT_DIR, Settings, StoreSettings
from rag.ingest.listing import clean_lines
from rag.storage.lexical import VERSION_KEY, LexicalVersions

pytestmark = pytest.mark.slow

TOKEN = "replica-token-0123456789"
ADMIN = "replica-admin-0123456789"
LISTING = PROJECT_DIR / "corpus" / "001_6a9130a22abd98d5.txt"


def _papers() -> list[tuple[str, str]]:
    lines = clean_lines(LISTING.read_text(encoding="utf-8"))
    return [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]


def _listing(path: Path, picks: list[int]) -> None:
    papers = _papers()
    body = "\n\n".join(f"{papers[i][0]}\n\n{papers[i][1]}" for i in picks)
    path.write_text("Daily Papers\n\n" + body + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A Chroma server holding a 4-paper collection, and two `rag serve` replicas on it."""
    from rag.service.assistant import Assistant

    root = tmp_path_factory.mktemp("replicas")
    corpus = root / "corpus"
    corpus.mkdir()
    _listing(corpus / "papers.txt", [0, 1, 2, 3])
    chroma_port = free_port()
    with ExitStack() as stack:
        stack.enter_context(
            running(*chroma_launch(chroma_port, root / "chroma"), root / "chroma.log")
        )
        store = StoreSettings(mode="server", host="127.0.0.1", port=chroma_port)
        first = Settings(
            corpus_dir=corpus,
            index_dir=root / "indexer",
            state_db=root / "indexer.sqlite3",
            store=store,
        )
        Assistant(first, build_index=False, progress=False).index()  # `rag index` on the side

        launches, urls = [], []
        for name in ("a", "b"):
            port = free_port()
            env = replica_env(
                port,
                chroma_port,
                corpus,
                root / f"index-{name}",  # a host of its own
                root / f"state-{name}.sqlite3",
                API__TOKEN=TOKEN,
                SECURITY__ADMIN_TOKEN=ADMIN,
                LLM__PARALLEL="1",
            )
            url = f"http://127.0.0.1:{port}"
            launches.append(
                Launch(serve_command(), f"{url}/health", root / f"serve-{name}.log", env)
            )
            urls.append(url)
        stack.enter_context(running_together(launches))
        yield {"a": urls[0], "b": urls[1], "corpus": corpus, "root": root, "settings": first}


def _retrieve(url: str, question: str, mode: str = "bm25", k: int = 3) -> list[dict[str, Any]]:
    r = httpx.post(
        f"{url}/v1/retrieve",
        json={"question": question, "k": k, "mode": mode},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    passages: list[dict[str, Any]] = r.json()["passages"]
    return passages


def test_update_through_one_replica_is_answered_by_the_other(cluster: dict[str, Any]) -> None:
    from rag.storage.chroma import Store

    titles = [t for t, _ in _papers()]
    a, b = cluster["a"], cluster["b"]
    for url in (a, b):  # both serve the collection as indexed
        assert _retrieve(url, titles[1])[0]["title"] == titles[1]
    assert titles[5] not in {p["title"] for p in _retrieve(b, titles[5])}

    # Through replica a: paper 0 leaves, paper 5 arrives. Four chunks before and after.
    _listing(cluster["corpus"] / "papers.txt", [1, 2, 3, 5])
    r = httpx.post(
        f"{a}/v1/index",
        json={"paths": [str(cluster["corpus"])]},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=300,
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["added"], report["removed"], report["chunks"]) == (1, 1, 4)

    # Replica b (another host: its own lexical folder, the shared Chroma server) reads the
    # collection's stamp at most every `retrieval.version_check_s` (0.5 s): it answers with
    # the new collection within that period, BM25 and hybrid.
    deadline = time.monotonic() + 5 * Settings().retrieval.version_check_s + 1
    while _retrieve(b, titles[5])[0]["title"] != titles[5] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _retrieve(b, titles[5])[0]["title"] == titles[5]
    assert titles[0] not in {p["title"] for p in _retrieve(b, titles[0], k=4)}
    assert _retrieve(b, titles[5], mode="hybrid")[0]["title"] == titles[5]
    assert _retrieve(a, titles[5])[0]["title"] == titles[5]

    # b found no saved index of the new version on its host, rebuilt it from the Chroma server
    # and saved it there under the collection's stamp.
    store = Store(cluster["settings"])
    version = store.fresh_metadata()[VERSION_KEY]
    b_settings = cluster["settings"].model_copy(update={"index_dir": cluster["root"] / "index-b"})
    saved = LexicalVersions(b_settings, store).load(version)
    assert saved is not None and saved.n == 4 and titles[5] in _titles(store, saved.ids)


def _titles(store: Any, ids: Any) -> set[str]:
    got = store.collection.get(ids=list(ids), include=["metadatas"])
    return {str(m.get("title")) for m in got["metadatas"] or []}
