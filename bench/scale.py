"""Retrieval at scale: synthetic collections of 10k, 100k (and, opt-in, 1M) chunks.

    python -m bench.scale [--sizes 10000 100000] [--n 20] [--keep DIR] [--quiet-wait 600]
    python -m bench.scale --sizes 1000000          # the 1M case (see the extrapolation first)

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
  the core's `Store` collection, in the store's batch size; then the lexical index is built from
  the store, saved and stamped (`LexicalVersions.build`, what an index run ends with).

What is measured, per size (each phase in its own process, so that no memory is shared):
- build: the vector write, the lexical build from the store, and a one-document update through
  `Indexer.index` (the real incremental path: the store's metadata scans, one embedding, the
  lexical index brought up to date with only the new chunk tokenized, saved and stamped);
- disk: the Chroma folder and the lexical index folder, apart;
- start: `--start-runs` new processes, each timed from its creation to its first answered
  question (imports, `Assistant(...)`, the lexical index loaded from disk, one hybrid query);
- retrieve p50/p95 per mode with one thread (OMP/MKL/torch), the questions interleaved across
  modes, repeated in rounds until two rounds' medians agree within 10% (`bench.common`);
- memory: RSS once loaded and peak RSS of the querying process.
The machine is shared: before each timed phase the benchmark waits (up to `--quiet-wait` s) for
the 1-minute load average to fall to half the CPUs, samples the load while it measures, and
writes those conditions beside every figure (`busy`: more runnable work than CPUs meanwhile).
Results: bench/results/scale.json (scale-1m.json for the 1M case), scale.md, scale.png.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import (
    RESULTS_DIR,
    LoadMonitor,
    bench_settings,
    dir_size_mb,
    load_papers,
    load_window,
    machine,
    peak_rss_mb,
    questions,
    rss_mb,
    stable_rounds,
    wait_for_quiet,
    write_result,
)

CACHE_DIR = Path(tempfile.gettempdir()) / "rag-bench-cache"
GENERATOR_VERSION = "1"  # bump when synthetic_nodes() changes: cached collections are rebuilt
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
MODES = ("vector", "bm25", "hybrid")
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "RAG_EMBEDDING__THREADS": "1",  # onnxruntime's own pool (rag/storage/onnx_embedding.py)
}


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
    from rag.core.settings import EmbeddingSettings
    from rag.storage.embeddings import make_embedding

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

    from rag.ingest.documents import BOOKKEEPING_KEYS

    sentences, words = sentence_pool()
    vecs = sentence_vectors(sentences)
    rng = random.Random(seed)
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
    if out:
        yield out


def _settings(index_dir: Path) -> Any:
    return bench_settings(index_dir, corpus_dir=index_dir.parent / "empty-corpus")


def write_vectors(size: int, index_dir: Path) -> dict[str, Any]:
    """Write a synthetic collection of `size` chunks through the core's store write path."""
    from rag.ingest.indexer import Indexer
    from rag.storage.chroma import Store

    settings = _settings(index_dir)
    store = Store(settings)
    indexer = Indexer(settings, store)
    step = store.batch_size()
    gen_s = write_s = 0.0
    t_gen = time.perf_counter()
    written = 0
    with LoadMonitor() as mon:
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
        "write_load": mon.summary,
        "build_peak_rss_mb": peak_rss_mb(),
    }


def _update_listing(folder: Path) -> Path:
    """A listing file with one new paper (unique per call), for the one-document update."""
    sentences, words = sentence_pool()
    rng = random.Random(time.time_ns())
    title = "Update " + " ".join(rng.sample(words, 6)) + f" {rng.randrange(10**9)}"
    abstract = " ".join(rng.sample(sentences, 5))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"update-{rng.randrange(10**9)}.txt"
    path.write_text(f"Daily Papers\n\n{title}\n\n{abstract}\n", encoding="utf-8")
    return path


def build_lexical(index_dir: Path, quiet_wait: float) -> dict[str, Any]:
    """The lexical index built from the store and saved; then a one-document update."""
    from rag.ingest.indexer import Indexer
    from rag.storage.chroma import Store
    from rag.storage.embeddings import make_embedding
    from rag.storage.lexical import LexicalIndex, LexicalVersions, new_version

    settings = _settings(index_dir)
    store = Store(settings)
    versions = LexicalVersions(settings, store)
    out: dict[str, Any] = {"chunks": store.count()}
    out["quiet"] = wait_for_quiet(quiet_wait)
    out["rss_before_build_mb"] = rss_mb()
    with LoadMonitor() as mon:
        t0 = time.perf_counter()
        # From scratch (every chunk read and tokenized), saved, stamped: what the first index
        # run on a store, or a host without any saved index, does.
        index = LexicalIndex.from_store(store, new_version(), base=None)
        versions.save(index)
        versions.stamp(str(index.version))
        out["lexical_build_s"] = round(time.perf_counter() - t0, 2)
    # The process's peak so far: the store opened, then the build (nothing else ran in it).
    out["lexical_build_peak_rss_mb"] = peak_rss_mb()
    out["lexical_build"] = {**index.timings, "load": mon.summary}
    out["lexical_disk_mb"] = dir_size_mb(versions.path(str(index.version)))

    indexer = Indexer(settings, store)
    make_embedding(settings.embedding).get_text_embedding("warm up")  # model load not timed
    listing = _update_listing(index_dir.parent / "updates")
    with LoadMonitor() as mon:
        t0 = time.perf_counter()
        report = indexer.index([listing], progress=False)
        wall = time.perf_counter() - t0
    last = indexer.last_lexical
    out["update"] = {
        "what": "one new document via Indexer.index (metadata scans, 1 embedding, lexical sync)",
        "added": report.added,
        "chunks_embedded": report.chunks_embedded,
        "seconds": round(wall, 2),
        "lexical": last.timings if last is not None else None,
        "load": mon.summary,
    }
    return out


def start_once(index_dir: Path) -> dict[str, Any]:
    """From this process's creation to its first answered question (one thread)."""
    import psutil

    created = psutil.Process().create_time()
    from rag.service.assistant import (
        Assistant,  # one thread: ONE_THREAD in this child's environment
    )

    t_imports = time.time()
    t0 = time.perf_counter()
    assistant = Assistant(_settings(index_dir), build_index=False, progress=False)
    open_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lexical = assistant.retriever.fresh_lexical()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assistant.retrieve(questions(1, seed=5)[0], k=5, mode="hybrid")
    first_s = time.perf_counter() - t0
    return {
        "ready_s": round(time.time() - created, 2),
        "imports_s": round(t_imports - created, 2),
        "open_s": round(open_s, 2),
        "lexical_load_s": round(load_s, 3),
        "lexical_origin": lexical.origin if lexical is not None else None,
        "first_query_s": round(first_s, 3),
        "rss_mb": rss_mb(),
    }


def query(index_dir: Path, n: int, k: int, quiet_wait: float) -> dict[str, Any]:
    """Open the collection as a user would and time `retrieve` per mode on one thread (and
    hybrid through llama-index's retrievers, `hybrid_llama`: bench/retrieval.py)."""
    from bench.retrieval import MODES as QUERY_MODES
    from bench.retrieval import profile_mode, ratios_to_embed, retrieve, sample_round
    from rag.service.assistant import Assistant

    settings = _settings(index_dir)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    assistant = Assistant(settings, build_index=False, progress=False)
    lexical = assistant.retriever.fresh_lexical()
    open_s = time.perf_counter() - t0
    rss_loaded = rss_mb()
    qs = questions(n + 4, seed=5)
    for q in qs[:4]:  # warm-up
        for mode in QUERY_MODES:
            retrieve(assistant, q, k, mode)

    def one_round() -> dict[str, list[float]]:
        return sample_round(assistant, qs[4:], k, QUERY_MODES)

    quiet = wait_for_quiet(quiet_wait)
    modes = stable_rounds(one_round, list(QUERY_MODES), extra=("embed_only",))
    rss = rss_mb()
    profile = profile_mode(
        assistant, qs[4:14], k, "hybrid", RESULTS_DIR / f"{index_dir.name}-hybrid.prof.txt"
    )
    return {
        "open_s": round(open_s, 3),
        "lexical_origin": lexical.origin if lexical is not None else None,
        "threads": {"embedding_runtime": assistant.settings.embedding.runtime, **ONE_THREAD},
        "quiet": quiet,
        "modes": modes,
        "ratio_to_embed": ratios_to_embed(modes),
        "profile_hybrid_top": profile,
        "rss_mb_before_open": rss0,
        "rss_mb_loaded": rss_loaded,
        "rss_mb": rss,
        "peak_rss_mb": peak_rss_mb(),
    }


def format_key() -> str:
    """What a cached collection's rows depend on: chromadb, llama-index (the node format), the
    generator and the metadata layout. (The lexical index is built again on every run.)"""
    import chromadb
    import llama_index.core

    from rag.ingest.documents import BOOKKEEPING_KEYS

    key = f"{chromadb.__version__} {llama_index.core.__version__} {GENERATOR_VERSION}"
    return hashlib.sha1(f"{key} {BOOKKEEPING_KEYS}".encode()).hexdigest()[:16]


def _child(args: list[str], timeout: float) -> dict[str, Any]:
    """Run this module in a new process (one thread) and return the JSON it prints last."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.scale", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **ONE_THREAD},
    )
    sys.stderr.write(proc.stderr[-3000:])
    if proc.returncode != 0:
        raise RuntimeError(f"bench.scale {' '.join(args)} failed ({proc.returncode})")
    last = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    data: dict[str, Any] = json.loads(last)
    return data


def measure_size(size: int, root: Path, args: argparse.Namespace) -> dict[str, Any]:
    index_dir = root / f"synthetic-{size}"
    entry: dict[str, Any] = {"size": size}
    marker = index_dir / "bench-built.json"
    cached = json.loads(marker.read_text()) if marker.exists() else {}
    common = ["--dir", str(index_dir), "--quiet-wait", str(args.quiet_wait)]
    if cached.get("format_key") == format_key():
        entry["build"] = cached
        entry["build_reused"] = True
    else:
        shutil.rmtree(index_dir, ignore_errors=True)
        t0 = time.perf_counter()
        entry["build"] = _child(["--write-one", str(size), *common], args.timeout)
        entry["build"]["wall_s"] = round(time.perf_counter() - t0, 2)
        entry["build"]["format_key"] = format_key()
        marker.write_text(json.dumps(entry["build"]))
    entry["lexical"] = _child(["--lexical-one", *common], args.timeout)
    lexical_dir = index_dir / "papers.bm25"
    entry["chroma_size_mb"] = dir_size_mb(index_dir / "chroma")
    entry["lexical_size_mb"] = entry["lexical"]["lexical_disk_mb"]  # one version
    entry["lexical_dir_mb"] = dir_size_mb(lexical_dir)  # with the previous version kept
    entry["index_size_mb"] = dir_size_mb(index_dir)
    starts = []
    for _ in range(args.start_runs):
        quiet = wait_for_quiet(args.quiet_wait)
        with LoadMonitor() as mon:
            run = _child(["--start-one", *common], args.timeout)
        starts.append({**run, "quiet": quiet["quiet"], "load": mon.summary})
    entry["start"] = {
        "runs": starts,
        "ready_s_median": statistics.median(s["ready_s"] for s in starts),
        "lexical_load_s_median": statistics.median(s["lexical_load_s"] for s in starts),
        "busy": any(s["load"]["busy"] or not s["quiet"] for s in starts),
    }
    # The rounds inside one process agree; do two processes? Up to --query-runs of them, until
    # two in a row agree within 10% on every mode's p50 (the machine's state drifts in minutes).
    runs: list[dict[str, Any]] = []
    agreed = False
    for _ in range(max(1, args.query_runs)):
        quiet = wait_for_quiet(args.quiet_wait)
        run = _child(["--query-one", *common, "--n", str(args.n), "--k", str(args.k)], args.timeout)
        run["quiet"] = quiet  # the wait just before this process
        runs.append(run)
        if len(runs) >= 2:
            a, b = (r["modes"] for r in runs[-2:])
            agreed = all(
                abs(a[m]["p50_ms"] - b[m]["p50_ms"]) <= 0.10 * max(a[m]["p50_ms"], b[m]["p50_ms"])
                for m in MODES
            )
            if agreed:
                break
    entry["query"] = runs[-1]
    entry["query_processes"] = {
        "runs": len(runs),
        "agreed": agreed,
        "p50_ms": [{m: r["modes"][m]["p50_ms"] for m in (*MODES, "embed_only")} for r in runs],
        "load1": [r["modes"]["hybrid"]["conditions"]["load1_during_mean"] for r in runs],
    }
    m = entry["query"]["modes"]
    print(f"[bench] scale {size}: " + ", ".join(f"{x} {m[x]['p50_ms']}" for x in MODES))
    return entry


def extrapolate(sizes: list[dict[str, Any]], target: int = 1_000_000) -> dict[str, Any] | None:
    """What `target` chunks would take on this machine, scaled linearly from the largest size
    measured (a lower bound for the vector write, whose rate fell with size)."""
    if not sizes:
        return None
    big = max(sizes, key=lambda e: e["size"])
    f = target / big["size"]
    write_s = big["build"]["write_s"] * f
    lexical_s = big["lexical"]["lexical_build_s"] * f
    rates = [e["build"]["write_chunks_per_s"] for e in sorted(sizes, key=lambda e: e["size"])]
    return {
        "target": target,
        "from_size": big["size"],
        "vector_write_s": round(write_s),
        "lexical_build_s": round(lexical_s),
        "total_min": round((write_s + lexical_s) / 60, 1),
        "write_rate_by_size": rates,
        "chroma_disk_gb": round(big["chroma_size_mb"] * f / 1024, 1),
        "lexical_disk_gb": round(big["lexical_size_mb"] * f / 1024, 2),
        "runs_within_30_min": (write_s + lexical_s) < 1800,
    }


def _cond(load: dict[str, Any] | None, quiet: bool | None = None) -> str:
    """A figure's conditions, short: the load average while it was taken, and flags."""
    if not load:
        return "?"
    text = f"load {load['load1_during_mean']:.1f}"
    if load.get("busy"):
        text += ", BUSY"
    if quiet is False:
        text += ", not quiet before"
    return text


def write_report(name: str, record: dict[str, Any]) -> None:
    """bench/results/<name>.md (two tables, each figure with its conditions) and <name>.png."""
    build_rows, query_rows = [], []
    mach = machine()
    for e in record["sizes"]:
        q, b, lx, st = e["query"], e["build"], e["lexical"], e["start"]
        cond = q["modes"]["hybrid"]["conditions"]
        upd = lx["update"]
        upd_lexical = (upd["lexical"] or {}).get("total_s", float("nan"))
        starts = st["runs"]
        start_load = {
            "load1_during_mean": statistics.fmean(r["load"]["load1_during_mean"] for r in starts),
            "busy": any(r["load"]["busy"] for r in starts),
        }
        build_rows.append(
            f"| {e['size']:,} "
            f"| {b['write_s']:.0f} s, {b['write_chunks_per_s']:.0f} chunks/s "
            f"({_cond(b.get('write_load'))}{', cached build' if e.get('build_reused') else ''}) "
            f"| {lx['lexical_build_s']:.1f} s ({_cond(lx['lexical_build'].get('load'))}) "
            f"| {upd['seconds']:.1f} s / {upd_lexical:.1f} s ({_cond(upd.get('load'))}) "
            f"| {e['chroma_size_mb']:.0f} + {e['lexical_size_mb']:.0f} MB "
            f"| {st['ready_s_median']:.1f} s ({st['lexical_load_s_median'] * 1000:.0f} ms) "
            f"({_cond(start_load, all(r['quiet'] for r in starts))}) "
            f"| {q['rss_mb_loaded']:.0f} / {q['peak_rss_mb']:.0f} MB |"
        )

        qp = e.get("query_processes") or {}
        hyb = [r["hybrid"] for r in qp.get("p50_ms", [])]
        procs = (
            f"{qp['runs']} processes, {'agreeing' if qp['agreed'] else 'NOT agreeing'} "
            f"(hybrid p50 {min(hyb):.0f}–{max(hyb):.0f} ms)"
            if hyb
            else "1 process"
        )

        def pp(mode: str, q: dict[str, Any] = q) -> str:
            return f"{q['modes'][mode]['p50_ms']:.0f} / {q['modes'][mode]['p95_ms']:.0f}"

        query_rows.append(
            f"| {e['size']:,} | {pp('vector')} | {pp('bm25')} | {pp('hybrid')} "
            f"| {pp('embed_only')} "
            f"| {_cond(cond, q['quiet']['quiet'])} (max {cond['load1_during_max']:.1f}); "
            f"CPU {cond.get('cpu_busy_pct_mean')}% busy, {cond.get('cpu_steal_pct_mean')}% stolen; "
            f"{cond['rounds']} rounds of {q['modes']['hybrid']['n'] // 2}, "
            f"{'stable' if cond['stable'] else 'NOT stable'}; {procs} |"
        )
    lines = [
        f"# Retrieval at scale ({name})",
        "",
        f"Machine: {mach['cpus']} CPUs, {mach['total_memory_gb']} GB, shared with other jobs. "
        + record["method"]
        + ". Conditions: the 1-minute load average while the figure was taken; BUSY = more "
        "runnable work than CPUs meanwhile; 'not quiet before' = the wait for a load of at most "
        "half the CPUs timed out.",
        "",
        "| chunks | vector write | lexical build from scratch | 1-doc update: all / lexical "
        "| disk: Chroma + lexical | start to first answer, median of "
        f"{len(record['sizes'][0]['start']['runs']) if record['sizes'] else 0} "
        "(lexical load) | RSS loaded / peak |",
        "|---|---|---|---|---|---|---|",
        *build_rows,
        "",
        "`retrieve(k=5)` on one thread, p50 / p95 ms (the question's embedding included; "
        "'embed' is that embedding alone). Rounds of every question in every mode, repeated "
        "until two rounds' medians agree within 10% (the figures are those two rounds), in new "
        "processes until two agree within 10% (the figures are the last one's).",
        "",
        "| chunks | vector | BM25 | hybrid | embed | conditions |",
        "|---|---|---|---|---|---|",
        *query_rows,
        "",
    ]
    ext = record.get("extrapolation_1m")
    if ext:
        lines += [
            f"1M chunks (extrapolated linearly from {ext['from_size']:,}; not run): vector "
            f"write ≥ {ext['vector_write_s'] / 60:.0f} min, lexical build "
            f"{ext['lexical_build_s'] / 60:.1f} min, total ≥ {ext['total_min']:.0f} min; disk "
            f"≈ {ext['chroma_disk_gb']} GB (Chroma) + {ext['lexical_disk_gb']} GB (lexical).",
            "",
        ]
    (RESULTS_DIR / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")
    _plot(record, RESULTS_DIR / f"{name}.png")


def _plot(record: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(record["sizes"], key=lambda e: e["size"])
    xs = [e["size"] for e in sizes]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    colors = {"vector": "tab:blue", "bm25": "tab:orange", "hybrid": "tab:green"}
    for mode in MODES:
        p50 = [e["query"]["modes"][mode]["p50_ms"] for e in sizes]
        p95 = [e["query"]["modes"][mode]["p95_ms"] for e in sizes]
        ax1.plot(xs, p50, "o-", color=colors[mode], label=f"{mode} p50")
        ax1.plot(xs, p95, "x--", color=colors[mode], alpha=0.6, label=f"{mode} p95")
    embed = [e["query"]["modes"]["embed_only"]["p50_ms"] for e in sizes]
    ax1.plot(xs, embed, "s:", color="grey", label="question embedding alone, p50")
    ax1.set_xscale("log")
    ax1.set_xlabel("chunks")
    ax1.set_ylabel("retrieve(), ms (one thread)")
    ax1.set_title("Retrieval latency", fontsize=9)
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=7, ncol=2)
    parts = {
        "vector write": [e["build"]["write_s"] for e in sizes],
        "lexical build": [e["lexical"]["lexical_build_s"] for e in sizes],
        "1-doc update": [e["lexical"]["update"]["seconds"] for e in sizes],
        "start to first answer": [e["start"]["ready_s_median"] for e in sizes],
    }
    for label, ys in parts.items():
        ax2.plot(xs, ys, "o-", label=label)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("chunks")
    ax2.set_ylabel("seconds")
    ax2.set_title("Build, update and start", fontsize=9)
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--n", type=int, default=30, help="questions per mode and round")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--start-runs", type=int, default=3, help="new processes timed to ready")
    ap.add_argument(
        "--query-runs", type=int, default=3, help="max querying processes (until two agree)"
    )
    ap.add_argument("--keep", type=Path, help="build (or reuse) the collections under this folder")
    ap.add_argument("--timeout", type=float, default=7200.0, help="per child process, seconds")
    ap.add_argument(
        "--quiet-wait", type=float, default=600.0, help="max wait for a quiet machine, seconds"
    )
    ap.add_argument("--write-one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--lexical-one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--start-one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--query-one", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.write_one:  # children: one phase each, JSON on the last line
        print(json.dumps(write_vectors(args.write_one, args.dir)))
        return {}
    if args.lexical_one:
        print(json.dumps(build_lexical(args.dir, args.quiet_wait)))
        return {}
    if args.start_one:
        print(json.dumps(start_once(args.dir)))
        return {}
    if args.query_one:
        print(json.dumps(query(args.dir, args.n, args.k, args.quiet_wait)))
        return {}

    tmp = tempfile.TemporaryDirectory(prefix="bench-scale-")
    root = args.keep or Path(tmp.name)
    (root / "empty-corpus").mkdir(parents=True, exist_ok=True)
    sentences, _ = sentence_pool()
    sentence_vectors(sentences)  # once, cached for the children
    name = "scale" if sorted(args.sizes) != [1_000_000] else "scale-1m"
    record: dict[str, Any] = {
        "method": "synthetic texts from corpus sentences; vectors = mean of MiniLM sentence "
        "vectors; written via Indexer.vector_store.add (ChromaVectorStore) into Store; lexical "
        "index built from the store by LexicalVersions.build",
        "sentence_pool": len(sentences),
        "sizes": [],
    }
    with load_window(record):
        for size in args.sizes:
            record["sizes"].append(measure_size(size, root, args))
            if args.keep is None:
                shutil.rmtree(root / f"synthetic-{size}", ignore_errors=True)
    if 1_000_000 not in args.sizes:
        record["extrapolation_1m"] = extrapolate(record["sizes"])
    write_result(name, record)
    write_report(name, record)
    tmp.cleanup()
    return record


if __name__ == "__main__":
    main()
