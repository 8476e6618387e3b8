"""Retrieval at scale: synthetic collections of 10k, 100k (and, opt-in, 1M) chunks.

    python -m bench.scale [--sizes 10000 100000] [--n 30] [--keep DIR]
    python -m bench.scale --sizes 1000000          # the separate 1M case

How the collections are made (and what that means for the numbers):
- Texts: every synthetic chunk is a short title made of words from the shipped titles plus 3-7
  sentences drawn at random from the shipped abstracts, so BM25 sees the real vocabulary and
  realistic document lengths (~1 kB).
- Vectors: embedding a million texts with MiniLM on 2 cores would take hours, so each sentence of
  the corpus is embedded once with the real model, and a chunk's vector is the normalised mean of
  its sentences' vectors. The vectors therefore live in the model's own space with realistic
  neighbourhoods, but they are not what MiniLM would give the whole chunk.
- Storage: the chunks are written the way the core writes them: llama-index `TextNode`s with the
  indexer's metadata, through `Indexer.vector_store.add` (llama-index's `ChromaVectorStore`) into
  the core's `Store` collection, in the store's batch size.
- Retrieval: a new process opens each collection with `Assistant(build_index=False)` and times
  `retrieve` per mode, as `bench.retrieval` does on the shipped collection (questions are embedded
  by the real model on every call). Memory is that process's RSS; size is the folder on disk.
Each size is built in one process and queried in another, so neither's memory pollutes the other.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import (
    bench_settings,
    dir_size_mb,
    load_papers,
    load_window,
    peak_rss_mb,
    questions,
    rss_mb,
    write_result,
)

CACHE_DIR = Path(tempfile.gettempdir()) / "rag-bench-cache"
GENERATOR_VERSION = "1"  # bump when synthetic_nodes() changes: cached collections are rebuilt
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def sentence_pool() -> tuple[list[str], list[str]]:
    """(sentences of every shipped abstract, words of every shipped title)."""
    sentences: list[str] = []
    words: list[str] = []
    for p in load_papers():
        sentences.extend(s.strip() for s in SENTENCE.split(p.abstract) if len(s.split()) >= 5)
        words.extend(w for w in p.title.split() if len(w) > 2)
    return sentences, words


def sentence_vectors(sentences: list[str]) -> Any:
    """MiniLM vectors of `sentences` (normalised), cached on disk by content hash."""
    import numpy as np

    key = hashlib.sha1("\n".join(sentences).encode()).hexdigest()[:16]
    path = CACHE_DIR / f"sentences-{key}.npy"
    if path.exists():
        return np.load(path)
    from rag.embeddings import make_embedding
    from rag.settings import EmbeddingSettings

    model = make_embedding(EmbeddingSettings())
    t0 = time.perf_counter()
    vecs = np.asarray(model.get_text_embedding_batch(sentences), dtype=np.float32)
    print(f"[bench] embedded {len(sentences)} sentences in {time.perf_counter() - t0:.1f}s")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs)
    return vecs


def synthetic_nodes(size: int, batch: int, seed: int = 0) -> Iterator[list[Any]]:
    """`size` synthetic chunks as TextNodes with vectors and the indexer's metadata, in batches."""
    import numpy as np
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    from rag.documents import BOOKKEEPING_KEYS

    sentences, words = sentence_pool()
    vecs = sentence_vectors(sentences)
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    out: list[Any] = []
    for i in range(size):
        picks = rng.sample(range(len(sentences)), rng.randint(3, 7))
        title = " ".join(rng.sample(words, rng.randint(4, 9)))
        text = " ".join(sentences[j] for j in picks)
        v = vecs[picks].mean(axis=0)
        v = v / (np.linalg.norm(v) or 1.0)
        doc_id = f"synth-{i:07d}"
        meta = {
            "doc_id": doc_id,
            "title": title,
            "source": f"synthetic-{i // 1000:04d}.txt",
            "sources": json.dumps([f"synthetic-{i // 1000:04d}.txt"]),
            "paths": json.dumps([f"/synthetic/synthetic-{i // 1000:04d}.txt"]),
            "position": i % 1000,
            "doc_hash": hashlib.sha1(text.encode()).hexdigest()[:20],
            "n_chunks": 1,
            "kind": "paper",
        }
        node = TextNode(
            id_=f"{doc_id}:0",
            text=text,
            metadata=meta,
            embedding=v.astype(np.float32).tolist(),
            excluded_embed_metadata_keys=list(BOOKKEEPING_KEYS),
            excluded_llm_metadata_keys=[*BOOKKEEPING_KEYS, "title"],
            metadata_template="{value}",
            text_template="{metadata_str}\n{content}",
            relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc_id)},
        )
        out.append(node)
        if len(out) == batch:
            yield out
            out = []
        _ = nprng  # reserved for perturbations; the mean of distinct sentences is already unique
    if out:
        yield out


def build(size: int, index_dir: Path) -> dict[str, Any]:
    """Write a synthetic collection of `size` chunks through the core's store write path."""
    from rag.indexer import Indexer
    from rag.store import Store

    settings = bench_settings(index_dir, corpus_dir=index_dir.parent / "empty-corpus")
    store = Store(settings)
    indexer = Indexer(settings, store)
    step = store.batch_size()
    gen_s = write_s = 0.0
    t_gen = time.perf_counter()
    written = 0
    for nodes in synthetic_nodes(size, step):
        t_write = time.perf_counter()
        gen_s += t_write - t_gen
        indexer.vector_store.add(nodes)
        t_gen = time.perf_counter()
        write_s += t_gen - t_write
        written += len(nodes)
        if written % (step * 20) == 0:
            print(f"[bench] {index_dir.name}: {written}/{size} chunks written", flush=True)
    return {
        "size": size,
        "count": store.count(),
        "generate_s": round(gen_s, 2),
        "write_s": round(write_s, 2),
        "write_chunks_per_s": round(size / write_s, 1) if write_s else None,
        "build_peak_rss_mb": peak_rss_mb(),
    }


def query(index_dir: Path, n: int, k: int) -> dict[str, Any]:
    """Open the collection as a user would and time `retrieve` per mode."""
    from bench.common import RESULTS_DIR
    from bench.retrieval import profile_mode, time_modes
    from rag.assistant import Assistant

    settings = bench_settings(index_dir, corpus_dir=index_dir.parent / "empty-corpus")
    rss0 = rss_mb()
    t0 = time.perf_counter()
    assistant = Assistant(settings, build_index=False, progress=False)
    open_s = time.perf_counter() - t0
    qs = questions(n + 4, seed=5)
    modes = time_modes(assistant, qs, k)
    rss = rss_mb()
    profile = profile_mode(
        assistant, qs[4:14], k, "hybrid", RESULTS_DIR / f"{index_dir.name}-hybrid.prof.txt"
    )
    return {
        "open_s": round(open_s, 3),
        "modes": modes,
        "profile_hybrid_top": profile,
        "rss_mb_before_open": rss0,
        "rss_mb": rss,
        "peak_rss_mb": peak_rss_mb(),
    }


def format_key() -> str:
    """What a cached collection depends on: the core's storage code, the generator, chromadb."""
    import chromadb

    from bench.common import PROJECT_DIR

    h = hashlib.sha1(f"{chromadb.__version__} {GENERATOR_VERSION}".encode())
    for rel in ("rag/indexer.py", "rag/documents.py", "rag/store.py"):
        h.update((PROJECT_DIR / rel).read_bytes())
    return h.hexdigest()[:16]


def _child(args: list[str], timeout: float) -> dict[str, Any]:
    """Run this module in a new process and return the JSON it prints last."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.scale", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    sys.stderr.write(proc.stderr[-3000:])
    if proc.returncode != 0:
        raise RuntimeError(f"bench.scale {' '.join(args)} failed ({proc.returncode})")
    last = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    data: dict[str, Any] = json.loads(last)
    return data


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--n", type=int, default=30, help="questions per mode (4 more warm up)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="build (or reuse) the collections under this folder")
    ap.add_argument("--timeout", type=float, default=3600.0, help="per child process, seconds")
    ap.add_argument("--build-one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--query-one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.build_one:  # child: build one collection
        print(json.dumps(build(args.build_one, args.dir)))
        return {}
    if args.query_one:  # child: query one collection
        print(json.dumps(query(args.dir, args.n, args.k)))
        return {}

    tmp = tempfile.TemporaryDirectory(prefix="bench-scale-")
    root = args.keep or Path(tmp.name)
    (root / "empty-corpus").mkdir(parents=True, exist_ok=True)
    sentences, _ = sentence_pool()
    sentence_vectors(sentences)  # once, cached for the children
    name = "scale" if sorted(args.sizes) != [1_000_000] else "scale-1m"
    record: dict[str, Any] = {
        "method": "synthetic texts from corpus sentences; vectors = mean of MiniLM sentence "
        "vectors; written via Indexer.vector_store.add (ChromaVectorStore) into Store",
        "sentence_pool": len(sentences),
        "sizes": [],
    }
    with load_window(record):
        for size in args.sizes:
            index_dir = root / f"synthetic-{size}"
            entry: dict[str, Any] = {"size": size}
            marker = index_dir / "bench-built.json"
            cached = json.loads(marker.read_text()) if marker.exists() else {}
            if cached.get("format_key") == format_key():
                entry["build"] = cached
                entry["build_reused"] = True
            else:
                shutil.rmtree(index_dir, ignore_errors=True)
                t0 = time.perf_counter()
                entry["build"] = _child(
                    ["--build-one", str(size), "--dir", str(index_dir)], args.timeout
                )
                entry["build"]["wall_s"] = round(time.perf_counter() - t0, 2)
                entry["build"]["format_key"] = format_key()
                marker.write_text(json.dumps(entry["build"]))
            entry["index_size_mb"] = dir_size_mb(index_dir)
            entry["query"] = _child(
                ["--query-one", "--dir", str(index_dir), "--n", str(args.n), "--k", str(args.k)],
                args.timeout,
            )
            print(f"[bench] scale {size}: {json.dumps(entry['query']['modes'])}", flush=True)
            record["sizes"].append(entry)
            if args.keep is None:
                shutil.rmtree(index_dir, ignore_errors=True)
    write_result(name, record)
    tmp.cleanup()
    return record


if __name__ == "__main__":
    main()
