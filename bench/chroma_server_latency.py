"""Query latency through a Chroma server against the embedded store, on the same questions.

    python -m bench.chroma_server_latency [--index-dir DIR] [--n 60] [--k 5]

Starts `chroma run` on 127.0.0.1 (a free port, a temporary folder), copies the embedded
collection into it row for row (same ids, vectors, texts and metadata, so both stores hold the
same data; indexing over HTTP itself is covered by tests/storage/test_chroma_server.py), then times:

- `store_query`: `collection.query` with a precomputed question vector, i.e. the store alone;
- `retrieve_<mode>`: `Assistant.retrieve` end to end (embedding the question, the store, BM25,
  fusion) for vector, hybrid and bm25 modes.

Embedded and server calls alternate question by question, so the shared machine's load falls
on both alike. Writes `bench/results/chroma_server_latency.json`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import bench_settings, latency_stats, load_window, questions, write_result
from rag.core.settings import Settings, StoreSettings
from tests.support.servers import chroma_launch, free_port, running

MODES = ("vector", "hybrid", "bm25")


@contextmanager
def chroma_server(data_dir: Path) -> Iterator[int]:
    """`chroma run` until the block ends (the tests' launcher, tests/support/servers.py); yields
    its port once its heartbeat answers."""
    port = free_port()
    with running(*chroma_launch(port, data_dir), data_dir / "server.log", timeout=60.0):
        yield port


def copy_collection(src: Any, dst: Any, batch: int) -> int:
    """Every row of `src` (a rag Store) into `dst`, in batches within the server's limit."""
    rows = list(src.iter_rows(include=["embeddings", "documents", "metadatas"]))
    for i in range(0, len(rows), batch):
        part = rows[i : i + batch]
        dst.collection.add(
            ids=[r["id"] for r in part],
            embeddings=[list(r["embeddings"]) for r in part],
            documents=[r["documents"] for r in part],
            metadatas=[r["metadatas"] for r in part],
        )
    return len(rows)


def time_pair(fns: dict[str, Any], args: list[Any], warmup: int = 4) -> dict[str, Any]:
    """Call each of `fns` on each arg, alternating which goes first; latency stats per name."""
    for a in args[:warmup]:
        for fn in fns.values():
            fn(a)
    samples: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for i, a in enumerate(args[warmup:]):
        for name in names if i % 2 == 0 else reversed(names):
            t0 = time.perf_counter()
            fns[name](a)
            samples[name].append(time.perf_counter() - t0)
    return {name: latency_stats(s) for name, s in samples.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, help="an embedded index of the corpus (else built)")
    ap.add_argument("--n", type=int, default=60, help="timed questions (4 more warm up)")
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args(argv)

    from rag.service.assistant import Assistant
    from rag.storage.chroma import Store

    tmp = Path(tempfile.mkdtemp(prefix="bench-chroma-server-"))
    index_dir = args.index_dir or tmp / "index"
    record: dict[str, Any] = {"index_dir": str(index_dir), "k": args.k, "n": args.n}
    with load_window(record), chroma_server(tmp) as port:
        embedded = Assistant(bench_settings(index_dir), progress=False)
        server_cfg: Settings = bench_settings(tmp / "server-index").model_copy(
            update={"store": StoreSettings(mode="server", host="127.0.0.1", port=port)}
        )
        server_store = Store(server_cfg)
        t0 = time.perf_counter()
        record["rows"] = copy_collection(embedded.store, server_store, server_store.batch_size())
        record["copy_s"] = round(time.perf_counter() - t0, 2)
        server = Assistant(server_cfg, build_index=False, progress=False)

        qs = questions(args.n + 4, seed=5)
        vecs = {q: embedded.retriever.embed_model.get_query_embedding(q) for q in qs}
        record["store_query"] = time_pair(
            {
                name: (
                    lambda q, c=a.store.collection: c.query(
                        query_embeddings=[vecs[q]], n_results=args.k
                    )
                )
                for name, a in (("embedded", embedded), ("server", server))
            },
            qs,
        )
        for mode in MODES:
            record[f"retrieve_{mode}"] = time_pair(
                {
                    name: (lambda q, a=a, m=mode: a.retrieve(q, k=args.k, mode=m))
                    for name, a in (("embedded", embedded), ("server", server))
                },
                qs,
            )
        same = [
            embedded.retrieve(q, k=args.k, mode="hybrid")[0].doc_id
            == server.retrieve(q, k=args.k, mode="hybrid")[0].doc_id
            for q in qs
        ]
        record["hybrid_top1_agreement"] = round(sum(same) / len(same), 3)
    write_result("chroma_server_latency", record)
    return record


if __name__ == "__main__":
    main()
