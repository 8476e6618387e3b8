"""Answering on the embedded default (SmolLM2-135M via llama.cpp): TTFT, total, tokens, stages.

    python -m bench.answering [--index-dir DIR] [--n 12]

Time to first token is measured at the first `TokenEvent` of `Assistant.stream`; the per-stage
split comes from `Answer.timings`, which the core fills (seconds per stage).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    bench_settings,
    latency_stats,
    load_window,
    peak_rss_mb,
    questions,
    timed,
    write_result,
)


def stage_seconds(timings: dict[str, float]) -> dict[str, float]:
    """The four shares issue 7 asks for, from the keys `rag/answer/answering.py` writes.

    `condense` + `retrieve` is retrieval; `first_token` (request to first token) is prompt
    processing; `generate` - `first_token` is generation; `check` is the citation check.
    """
    first = timings.get("first_token", 0.0)
    return {
        "retrieval": timings.get("condense", 0.0) + timings.get("retrieve", 0.0),
        "prompt_processing": first,
        "generation": max(0.0, timings.get("generate", 0.0) - first),
        "citation_check": timings.get("check", 0.0),
    }


def run_one(assistant: Any, question: str) -> dict[str, Any]:
    from rag.core.types import AnswerEvent, TokenEvent

    t0 = time.perf_counter()
    ttft: float | None = None
    answer = None
    n_events = 0
    for event in assistant.stream(question):
        if isinstance(event, TokenEvent):
            n_events += 1
            if ttft is None:
                ttft = time.perf_counter() - t0
        elif isinstance(event, AnswerEvent):
            answer = event.answer
    total = time.perf_counter() - t0
    assert answer is not None, "stream() must end with an AnswerEvent"
    return {
        "question": question,
        "ttft_s": ttft,  # None: no token streamed (e.g. an abstention decided before the LLM)
        "total_s": total,
        "token_events": n_events,
        "tokens_in": answer.tokens_in,
        "tokens_out": answer.tokens_out,
        "abstained": answer.abstained,
        "fallback": answer.fallback,
        "citations": len(answer.citations),
        "timings": dict(answer.timings),
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    streamed = [r for r in rows if r["ttft_s"] is not None]
    # What a user waits for before seeing anything: the first token, or the whole abstention.
    first_output = [r["ttft_s"] if r["ttft_s"] is not None else r["total_s"] for r in rows]
    stage_sums: dict[str, float] = {}
    raw_sums: dict[str, float] = {}
    for r in rows:
        for k, v in r["timings"].items():
            raw_sums[k] = raw_sums.get(k, 0.0) + float(v)
        for k, v in stage_seconds(r["timings"]).items():
            stage_sums[k] = stage_sums.get(k, 0.0) + v
    total = sum(r["total_s"] for r in rows)
    # Shares of the wall time measured around stream(); the rest is event and model overhead.
    shares = {k: round(v / total, 4) for k, v in stage_sums.items() if total}
    shares["other"] = round(1 - sum(shares.values()), 4) if total else 0.0
    tin = [r["tokens_in"] for r in rows]
    tout = [r["tokens_out"] for r in rows]
    return {
        "n": len(rows),
        "streamed": len(streamed),
        "abstained": sum(r["abstained"] for r in rows),
        "fallback": sum(r["fallback"] for r in rows),
        "ttft": latency_stats([r["ttft_s"] for r in streamed]),
        "first_output": latency_stats(first_output),
        "total": latency_stats([r["total_s"] for r in rows]),
        "tokens_in_mean": round(sum(tin) / len(tin), 1) if tin else 0,
        "tokens_in_max": max(tin, default=0),
        "tokens_out_mean": round(sum(tout) / len(tout), 1) if tout else 0,
        "tokens_out_max": max(tout, default=0),
        "stage_share_of_total": shares,
        "stage_seconds_mean": {k: round(v / len(rows), 4) for k, v in raw_sums.items()},
        "timing_keys": sorted(raw_sums),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, help="an index of the shipped corpus (else built)")
    ap.add_argument("--n", type=int, default=12, help="questions to time (after 1 warm-up)")
    ap.add_argument(
        "--budget-s",
        type=float,
        default=300.0,
        help="stop asking new questions after this long (at least 3 are timed)",
    )
    args = ap.parse_args(argv)

    from rag.service.assistant import Assistant

    tmp = tempfile.TemporaryDirectory(prefix="bench-answer-")
    index_dir = args.index_dir or Path(tmp.name) / "index"
    record: dict[str, Any] = {"index_dir": str(index_dir)}
    with load_window(record):
        assistant = Assistant(bench_settings(index_dir), progress=False)
        _, record["llm_load_s"] = timed(lambda: assistant.answerer)
        record["llm"] = assistant.llm_name
        qs = questions(args.n + 1, seed=11)
        record["warmup"] = run_one(assistant, qs[0])
        rows: list[dict[str, Any]] = []
        t0 = time.perf_counter()
        for q in qs[1:]:
            if len(rows) >= 3 and time.perf_counter() - t0 > args.budget_s:
                record["stopped_by_budget"] = f"{len(rows)} of {args.n} after {args.budget_s:.0f}s"
                break
            rows.append(run_one(assistant, q))
    record["summary"] = summarise(rows)
    record["rows"] = rows
    record["peak_rss_mb"] = peak_rss_mb()
    write_result("answering", record)
    tmp.cleanup()
    return record


if __name__ == "__main__":
    main()
