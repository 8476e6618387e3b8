"""Retrieval latency on the shipped collection: `Assistant.retrieve` p50/p95 per mode.

    python -m bench.retrieval [--index-dir DIR] [--n 60] [--k 5] [--name NAME]

Modes (vector, bm25, hybrid, and `hybrid_llama`: hybrid through llama-index's retrievers, the
path the question took before the lean one, rag/search/retrieval.py) are interleaved question by
question so that load on the shared machine spreads evenly over them, with the question's
embedding alone (`embed_only`). `ratio_to_embed`: each mode's p50 over the embedding's p50 of the
same run, the figure that does not depend on the machine's load. The first call of each mode
(which may build the BM25 index or load the embedding model) is reported apart as `cold_ms`. A
cProfile of the hybrid queries is written beside the JSON, to show what bounds the latency.
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

MODES = ("vector", "bm25", "hybrid", "hybrid_llama")
REFERENCE = "_llama"  # a mode so suffixed runs through llama-index's retrievers


def retrieve(assistant: Any, question: str, k: int, mode: str) -> Any:
    """`Assistant.retrieve` in `mode`; a `…_llama` mode through the llama-index path."""
    retriever = assistant.retriever
    reference = mode.endswith(REFERENCE)
    retriever.lean = not reference
    try:
        return assistant.retrieve(question, k=k, mode=mode.removesuffix(REFERENCE))
    finally:
        retriever.lean = True


def time_modes(
    assistant: Any, qs: list[str], k: int, modes: tuple[str, ...] = MODES
) -> dict[str, Any]:
    """Cold first call per mode, a short warm-up, then rounds of every question in every mode
    until two rounds' medians agree within 10% (`bench.common.stable_rounds`: the stats are
    those two rounds', with the load they were taken at)."""
    out: dict[str, Any] = {}
    for mode in modes:
        t0 = time.perf_counter()
        retrieve(assistant, qs[0], k, mode)
        out[mode] = {"cold_ms": round((time.perf_counter() - t0) * 1000, 2)}
    for q in qs[1:4]:
        for mode in modes:
            retrieve(assistant, q, k, mode)

    def one_round() -> dict[str, list[float]]:
        return sample_round(assistant, qs[4:], k, modes)

    for mode, stats in stable_rounds(one_round, list(modes), extra=("embed_only",)).items():
        out.setdefault(mode, {}).update(stats)
    return out


def sample_round(
    assistant: Any, qs: list[str], k: int, modes: tuple[str, ...]
) -> dict[str, list[float]]:
    """Seconds per question of each mode and of the question's embedding alone (`embed_only`,
    which every mode computes; the rest is the search). The order turns by one each question,
    so that every mode, and the bare embedding, is timed as often first as last: the first of a
    question's calls runs slower (seen here: up to 1.5x), and a fixed order put that on one
    mode and spared the embedding."""
    embed = assistant.retriever.embed_model.get_query_embedding
    names = [*modes, "embed_only"]
    samples: dict[str, list[float]] = {m: [] for m in names}
    for i, q in enumerate(qs):
        turn = i % len(names)
        for name in names[turn:] + names[:turn]:
            t0 = time.perf_counter()
            if name == "embed_only":
                embed(q)
            else:
                retrieve(assistant, q, k, name)
            samples[name].append(time.perf_counter() - t0)
    return samples


def ratios_to_embed(modes: dict[str, Any]) -> dict[str, Any]:
    """Each mode's p50 over the bare embedding's p50, overall and per round (same run)."""
    embed = modes["embed_only"]
    rounds = embed.get("conditions", {}).get("round_medians_ms", [])
    out: dict[str, Any] = {}
    for mode, stats in modes.items():
        if mode == "embed_only" or "p50_ms" not in stats:
            continue
        out[mode] = {
            "p50": round(stats["p50_ms"] / embed["p50_ms"], 3),
            "per_round": [round(r[mode] / r["embed_only"], 3) for r in rounds],
        }
    return out


def profile_mode(assistant: Any, qs: list[str], k: int, mode: str, path: Path) -> list[str]:
    """cProfile `retrieve` over `qs`; write the top functions to `path`, return the top 12 lines."""
    prof = cProfile.Profile()
    prof.enable()
    for q in qs:
        retrieve(assistant, q, k, mode)
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
    ap.add_argument("--name", default="retrieval", help="results file name (default retrieval)")
    args = ap.parse_args(argv)
    name = args.name
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
        os.environ["RAG_EMBEDDING__THREADS"] = str(args.torch_threads)  # read by the settings
        name = f"{name}-threads{args.torch_threads}"

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
        record["ratio_to_embed"] = ratios_to_embed(record["modes"])
        record["rss_mb"] = rss_mb()
        record["profile_hybrid_top"] = profile_mode(
            assistant, qs[4:24], args.k, "hybrid", RESULTS_DIR / f"{name}-hybrid.prof.txt"
        )
        record["profile_hybrid_llama_top"] = profile_mode(
            assistant,
            qs[4:24],
            args.k,
            "hybrid_llama",
            RESULTS_DIR / f"{name}-hybrid_llama.prof.txt",
        )
    record["index_size_mb"] = dir_size_mb(index_dir)
    record["peak_rss_mb"] = peak_rss_mb()
    write_result(name, record)
    tmp.cleanup()
    return record


if __name__ == "__main__":
    main()
