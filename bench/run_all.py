"""`make bench`: every benchmark in its own process, then SUMMARY.md and the plots.

    python -m bench.run_all [--quick] [--only indexing retrieval ...] [--skip scale ...]

Order: indexing (builds the shipped index once, kept for the others), retrieval, answering,
concurrency (HTTP API), threads (1 vs 2 threads for both models), scale (10k and 100k synthetic
chunks; built collections are cached in the temp folder, keyed by the core's storage code, so a
re-run only queries them), the Chroma server comparison when `bench/chroma_server_latency.py`
exists, then the report. A step that fails is recorded and the others still run. The 1M case
is separate:
`python -m bench.scale --sizes 1000000` (then `python -m bench.report`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PROJECT_DIR, RESULTS_DIR, machine
from bench.scale import CACHE_DIR

STEPS = (
    "indexing",
    "retrieval",
    "retrieval_1thread",
    "answering",
    "concurrency",
    "threads",
    "llm_runtime",
    "cold_start",
    "scale",
    "lexical_scale",
    "chroma_server",
)


def commands(index_dir: Path, quick: bool) -> dict[str, list[str]]:
    idx = ["--index-dir", str(index_dir)]
    if quick:
        return {
            "indexing": ["bench.indexing", "--keep-index", str(index_dir)],
            "retrieval": ["bench.retrieval", *idx, "--n", "10"],
            "retrieval_1thread": ["bench.retrieval", *idx, "--n", "10", "--torch-threads", "1"],
            "answering": ["bench.answering", *idx, "--n", "3", "--budget-s", "60"],
            "concurrency": [
                "bench.concurrency",
                *idx,
                "--levels",
                "1",
                "4",
                "--min-requests",
                "2",
                "--budget-s",
                "120",
            ],
            "threads": ["bench.threads", "--repeats", "4"],
            "llm_runtime": ["bench.llm_runtime", "--reps", "2", "--rounds", "1"],
            "cold_start": ["bench.cold_start", "--runs", "1", *idx],
            "scale": [
                "bench.scale",
                *("--sizes", "2000", "--n", "8", "--start-runs", "1", "--quiet-wait", "30"),
                *("--keep", str(CACHE_DIR)),
            ],
            "lexical_scale": ["bench.lexical_scale", "--size", "100000", "--n", "10"],
            "chroma_server": ["bench.chroma_server_latency", *idx, "--n", "8"],
        }
    return {
        "indexing": ["bench.indexing", "--keep-index", str(index_dir)],
        "retrieval": ["bench.retrieval", *idx, "--n", "60"],
        "retrieval_1thread": ["bench.retrieval", *idx, "--n", "30", "--torch-threads", "1"],
        "answering": ["bench.answering", *idx, "--n", "12", "--budget-s", "180"],
        "concurrency": ["bench.concurrency", *idx, "--budget-s", "240"],
        "threads": ["bench.threads"],
        "llm_runtime": ["bench.llm_runtime"],
        "cold_start": ["bench.cold_start", *idx],
        "scale": [
            "bench.scale",
            "--sizes",
            "10000",
            "100000",
            "--n",
            "30",
            "--quiet-wait",
            "120",
            "--keep",
            str(CACHE_DIR),
        ],
        # the lexical index alone at 1M rows: its update, build and questions (~1 min, 2.6 GB)
        "lexical_scale": ["bench.lexical_scale", "--size", "1000000"],
        "chroma_server": ["bench.chroma_server_latency", *idx, "--n", "30"],
    }


def run_step(name: str, argv: list[str], timeout: float) -> dict[str, Any]:
    if (
        name == "chroma_server"
        and not (PROJECT_DIR / "bench" / "chroma_server_latency.py").exists()
    ):
        return {
            "step": name,
            "status": "skipped",
            "reason": "bench/chroma_server_latency.py absent",
        }
    print(f"\n[bench] === {name}: python -m {' '.join(argv)}", flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", *argv], cwd=PROJECT_DIR, timeout=timeout, check=False
        )
        rc: int | str = proc.returncode
    except subprocess.TimeoutExpired:
        rc = "timeout"
    wall = round(time.perf_counter() - t0, 1)
    status = "ok" if rc == 0 else "failed"
    print(f"[bench] === {name}: {status} in {wall}s", flush=True)
    return {"step": name, "status": status, "rc": rc, "wall_s": wall}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, to check the scripts")
    ap.add_argument("--only", nargs="+", choices=STEPS)
    ap.add_argument("--skip", nargs="+", choices=STEPS, default=[])
    ap.add_argument("--step-timeout", type=float, default=900.0)
    ap.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="each benchmark first waits up to this long for a quiet machine (load ≤ CPUs/2)",
    )
    args = ap.parse_args(argv)
    os.environ["RAG_BENCH_QUIET_WAIT_S"] = "0" if args.quick else str(args.quiet_wait)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.TemporaryDirectory(prefix="bench-all-")
    index_dir = Path(tmp.name) / "index"
    cmds = commands(index_dir, args.quick)
    selected = [s for s in (args.only or STEPS) if s not in args.skip]
    if "indexing" not in selected and any(s in selected for s in STEPS[1:5]):
        # The later steps need an index of the shipped corpus: build it through the same path.
        selected.insert(0, "indexing")
    t0 = time.perf_counter()
    record: dict[str, Any] = {"machine_start": machine(), "quick": args.quick, "steps": []}
    for name in selected:
        record["steps"].append(run_step(name, cmds[name], args.step_timeout))
    record["total_s"] = round(time.perf_counter() - t0, 1)
    record["machine_end"] = machine()
    (RESULTS_DIR / "run_all.json").write_text(json.dumps(record, indent=2) + "\n")

    from bench.report import main as report

    report([])
    tmp.cleanup()
    print(f"[bench] all done in {record['total_s']}s")
    return 0 if all(s["status"] != "failed" for s in record["steps"]) else 1


if __name__ == "__main__":
    sys.exit(main())
