"""Retrieval latency on the shipped collection: `Assistant.retrieve` p50/p95 per mode.

    python -m bench.retrieval [--index-dir DIR] [--n 60] [--k 5]

Modes (vector, bm25, hybrid) are interleaved question by question so that load on the shared
machine spreads evenly over them. The first call of each mode (which may build the BM25 index or
load the embedding model) is reported apart as `cold_ms`. A cProfile of the hybrid queries is
written beside the JSON, to show what bounds the latency.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    RESULTS_DIR,
    bench_settings,
    dir_size_mb,
    load_window,
    peak_rss_mb,
    questions,
    rss_mb,
    stable_rounds,
    write_result,
)

MODES = ("vector", "bm25", "hybrid")


def time_modes(
    assistant: Any, qs: list[str], k: int, modes: tuple[str, ...] = MODES
) -> dict[str, Any]:
    """Cold first call per mode, a short warm-up, then rounds of every question in every mode
    until two rounds' medians agree within 10% (`bench.common.stable_rounds`: the stats are
    those two rounds', with the load they were taken at)."""
    out: dict[str, Any] = {}
    for mode in modes:
        t0 = time.perf_counter()
        assistant.retrieve(qs[0], k=k, mode=mode)
        out[mode] = {"cold_ms": round((time.perf_counter() - t0) * 1000, 2)}
    for q in qs[1:4]:
        for mode in modes:
            assistant.retrieve(q, k=k, mode=mode)
    embed = assistant.retriever.embed_model.get_query_embedding

    def one_round() -> dict[str, list[float]]:
        samples: dict[str, list[float]] = {m: [] for m in (*modes, "embed_only")}
        for q in qs[4:]:
            for mode in modes:
                t0 = time.perf_counter()
                assistant.retrieve(q, k=k, mode=mode)
                samples[mode].append(time.perf_counter() - t0)
            # The question's embedding alone, which every mode computes (the rest is the search).
            t0 = time.perf_counter()
            embed(q)
            samples["embed_only"].append(time.perf_counter() - t0)
        return samples

    for mode, stats in stable_rounds(one_round, list(modes), extra=("embed_only",)).items():
        out.setdefault(mode, {}).update(stats)
    return out


def profile_mode(assistant: Any, qs: list[str], k: int, mode: str, path: Path) -> list[str]:
    """cProfile `retrieve` over `qs`; write the top functions to `path`, return the top 12 lines."""
    prof = cProfile.Profile()
    prof.enable()
    for q in qs:
        assistant.retrieve(q, k=k, mode=mode)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
    stats.print_stats(40)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return top_own_time(prof, 12)


def top_own_time(prof: cProfile.Profile, n: int) -> list[str]:
    """The `n` functions with the most time spent in themselves (tottime), as short lines."""
    stats = pstats.Stats(prof)
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)  # type: ignore[attr-defined]
    total = sum(v[2] for _, v in rows) or 1.0
    lines = []
    for (file, line, func), (_, ncalls, tottime, _cum, _) in rows[:n]:
        short = "/".join(Path(file).parts[-2:])
        lines.append(f"{100 * tottime / total:5.1f}%  {func}  ({short}:{line}, {ncalls} calls)")
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, help="an index of the shipped corpus (else built)")
    ap.add_argument("--n", type=int, default=60, help="questions per mode (4 more warm up)")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument(
        "--torch-threads",
        type=int,
        help="N threads for the embedding, torch and onnxruntime alike (saved as "
        "retrieval-threadsN.json)",
    )
    args = ap.parse_args(argv)
    name = "retrieval"
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
        os.environ["RAG_EMBEDDING__THREADS"] = str(args.torch_threads)  # read by the settings
        name = f"retrieval-threads{args.torch_threads}"

    from rag.service.assistant import Assistant

    tmp = tempfile.TemporaryDirectory(prefix="bench-retrieve-")
    index_dir = args.index_dir or Path(tmp.name) / "index"
    record: dict[str, Any] = {
        "index_dir": str(index_dir),
        "k": args.k,
        "torch_threads": args.torch_threads,
    }
    with load_window(record):
        assistant = Assistant(bench_settings(index_dir), progress=False)
        record["embedding_runtime"] = assistant.settings.embedding.runtime
        record["chunks"] = assistant.status().chunks
        qs = questions(args.n + 4, seed=3)
        record["modes"] = time_modes(assistant, qs, args.k)
        record["rss_mb"] = rss_mb()
        record["profile_hybrid_top"] = profile_mode(
            assistant, qs[4:24], args.k, "hybrid", RESULTS_DIR / f"{name}-hybrid.prof.txt"
        )
    record["index_size_mb"] = dir_size_mb(index_dir)
    record["peak_rss_mb"] = peak_rss_mb()
    write_result(name, record)
    tmp.cleanup()
    return record


if __name__ == "__main__":
    main()
