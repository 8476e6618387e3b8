"""The lexical index alone at 1M rows: its build's peak memory, a one-document update, and
questions with and without a delta (issue 26, item 4).

    python -m bench.lexical_scale [--size 1000000] [--n 30] [--name NAME]
    PYTHONPATH=/tmp/wt-base:. python -m bench.lexical_scale --name before   # an older checkout

Why apart from `bench.scale` and `bench.update`: a 1M-chunk Chroma collection takes ~86 min to
write on this machine, and the lexical index's work does not depend on it. Here the index's rows
are `bench.scale`'s synthetic chunks (the same draws: seed 0, 3-7 abstract sentences and 4-9
title words each), counted without tokenizing every chunk: each sentence and title word of the
pool is tokenized once, as the index tokenizes (bm25s, stopwords, stemmer), and a chunk's counts
are the sum of its parts' (a sparse product; equal to tokenizing the chunk, since no token spans
two sentences). Then, in one process, each timed:
- build: `LexicalIndex.of_rows` (the segment: term counts by row and by term, row lengths), with
  the process's RSS before and its peak after (the read from the store is not in it: that part
  streams in pages of `READ_PAGE` rows, bench.scale measures it with the store);
- save, and load (memory-mapped, as a new process does);
- questions (`bench.common.questions`) searched on the loaded index;
- a one-document update as `Indexer` makes it (`LexicalVersions.build_changes`: `from_changes`,
  save, stamp): one synthetic row removed and one new chunk added, read from a real Chroma store
  holding that chunk (written by the real indexer from a listing file); then that document
  changed again; each with its save (the base's files linked, a delta written);
- the same questions on the index with its delta (scores computed the same way; the delta's rows
  and the removed ones are what differs).
Results: bench/results/lexical-scale-<size>.json.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from bench.common import (
    LoadMonitor,
    dir_size_mb,
    latency_stats,
    machine,
    peak_rss_mb,
    questions,
    rss_mb,
    write_result,
)
from bench.scale import _settings, sentence_pool


def _part_counts(
    parts: list[str], vocab: dict[str, int], cvocab: dict[str, int]
) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """Term counts and content-word presence of each part (a sentence or a title word)."""
    from rag.core.text import content_tokens
    from rag.storage.lexical import _counts_of, _presence_of, tokenize

    token_ids, batch_vocab = tokenize(parts)
    counts = _counts_of(token_ids, batch_vocab, vocab)
    content = _presence_of([content_tokens(p) for p in parts], cvocab)
    return counts, content


def synthetic_rows(size: int) -> dict[str, Any]:
    """The ids, keys, counts and content presence of bench.scale's first `size` chunks."""
    from rag.storage.lexical import _Counts, _vocab_list

    sentences, words = sentence_pool()
    vocab: dict[str, int] = {}
    cvocab: dict[str, int] = {}
    counts, content = _part_counts([*sentences, *words], vocab, cvocab)
    rng = random.Random(0)  # bench.scale.synthetic_nodes's draws, in its order
    rows: list[int] = []
    cols: list[int] = []
    for i in range(size):
        picks = rng.sample(range(len(sentences)), rng.randint(3, 7))
        title = rng.sample(range(len(words)), rng.randint(4, 9))
        cols.extend(picks)
        cols.extend(len(sentences) + w for w in title)
        rows.extend([i] * (len(picks) + len(title)))
    incidence = sparse.csr_matrix(
        (np.ones(len(cols), dtype=np.int32), (np.asarray(rows), np.asarray(cols))),
        shape=(size, len(sentences) + len(words)),
    )
    del rows, cols
    width = len(vocab)
    chunk_counts = sparse.csr_matrix(incidence @ sparse.csr_matrix(counts, shape=counts.shape))
    presence = incidence @ sparse.csr_matrix(content.astype(np.int32))
    presence.data[:] = 1
    chunk_content = sparse.csr_matrix(presence.astype(np.int8))
    ids = np.array([f"synth-{i:07d}:0".encode() for i in range(size)])
    keys = np.array([f"{i:024x}".encode() for i in range(size)])
    return {
        "ids": ids,
        "keys": keys,
        "counts": _Counts(sparse.csr_matrix(chunk_counts.astype(np.int32)), _vocab_list(vocab)),
        "content": _Counts(chunk_content, _vocab_list(cvocab)),
        "width": width,
    }


def _search_stats(index: Any, qs: list[str], rounds: int = 2) -> dict[str, Any]:
    times: list[float] = []
    for _ in range(rounds):
        for q in qs:
            t0 = time.perf_counter()
            index.search(q, 20)
            times.append(time.perf_counter() - t0)
    return latency_stats(times[len(qs) :])  # the first round warms the memory-mapped pages


def _one_chunk_store(root: Path, text: str) -> tuple[Any, list[str]]:
    """A real Chroma store holding one new document, written by the indexer."""
    from rag.ingest.indexer import Indexer
    from rag.storage.chroma import Store

    index_dir = root / "store"
    (root / "empty-corpus").mkdir(parents=True, exist_ok=True)
    settings = _settings(index_dir)
    store = Store(settings)
    listing = root / "update.txt"
    listing.write_text(f"Daily Papers\n\nUpdate {text[:40]}\n\n{text}\n", encoding="utf-8")
    Indexer(settings, store).index([listing], progress=False)
    got = store.collection.get(include=[])
    return store, list(got["ids"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--name", default="", help="suffix of the result file (e.g. before)")
    args = ap.parse_args(argv)

    from rag.storage.lexical import LexicalIndex, LexicalVersions, new_version

    out: dict[str, Any] = {"size": args.size, "machine": machine()}
    t0 = time.perf_counter()
    rows = synthetic_rows(args.size)
    out["rows_s"] = round(time.perf_counter() - t0, 1)
    out["rss_before_build_mb"] = rss_mb()
    out["peak_rss_before_build_mb"] = peak_rss_mb()
    with LoadMonitor() as mon:
        t0 = time.perf_counter()
        args_ = (new_version(), rows["ids"], rows["keys"], rows["counts"], rows["content"])
        of_rows = getattr(LexicalIndex, "of_rows", None)  # absent before the segments
        index = of_rows(*args_) if of_rows else LexicalIndex(*args_)  # type: ignore[call-arg]
        out["build_s"] = round(time.perf_counter() - t0, 2)
    out["build_load"] = mon.summary
    out["peak_rss_after_build_mb"] = peak_rss_mb()
    out["nonzeros"] = int(rows["counts"].matrix.nnz)
    out["vocabulary"] = rows["width"]
    del rows

    tmp = tempfile.TemporaryDirectory(prefix="bench-lexical-")
    root = Path(tmp.name)
    store, added = _one_chunk_store(root, " ".join(sentence_pool()[0][:5]))
    versions = LexicalVersions(_settings(root / "store"), store)
    t0 = time.perf_counter()
    versions.save(index)
    versions.stamp(str(index.version))
    out["save_s"] = round(time.perf_counter() - t0, 2)
    out["disk_mb"] = dir_size_mb(versions.path(str(index.version)))
    del index
    t0 = time.perf_counter()
    loaded = versions.load(str(store.fresh_metadata()["lexical_version"]))
    out["load_s"] = round(time.perf_counter() - t0, 3)
    assert loaded is not None
    qs = questions(args.n)
    out["search_base"] = _search_stats(loaded, qs)

    updates = []
    base = loaded
    for what, remove in (("add (one row removed)", ["synth-0000007:0"]), ("change", [])):
        with LoadMonitor() as mon:
            t0 = time.perf_counter()
            changed = versions.build_changes(base, [*remove, *added], added)
            wall = time.perf_counter() - t0
        updates.append(
            {"what": what, "seconds": round(wall, 3), **changed.timings, "load": mon.summary}
        )
        print(f"[bench] update {what}: {wall:.2f} s", flush=True)
        base = changed
    out["updates"] = updates
    reloaded = versions.load(str(store.fresh_metadata()["lexical_version"]))
    assert reloaded is not None and getattr(getattr(reloaded, "delta", None), "n", 1) == 1
    out["search_delta"] = _search_stats(reloaded, qs)
    out["disk_after_updates_mb"] = dir_size_mb(versions.folder)
    import rag

    out["code"] = str(Path(rag.__file__).resolve().parent.parent)  # which checkout ran
    suffix = f"-{args.name}" if args.name else ""
    write_result(f"lexical-scale-{args.size // 1000}k{suffix}", out)
    tmp.cleanup()
    return out


if __name__ == "__main__":
    main()
