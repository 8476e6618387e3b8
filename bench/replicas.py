"""Replicas: 1 against 2 `rag serve` processes on one `chroma run`, 16 clients at once.

    python -m bench.replicas [--replicas 1 2] [--clients 16] [--modes llm retrieval]
                             [--quiet-wait 60] [--fresh]

What runs, all on 127.0.0.1 (real processes, as in docs/deploy.md § 6):
- one `chroma run` holding the shipped corpus's index, built once through the core
  (`store.mode=server`) and kept in the temp folder between runs (`--fresh` rebuilds it; a kept
  one is brought up to date by an incremental index run, a no-op when the corpus is unchanged);
- one OpenAI-compatible LLM server: llama.cpp's `llama-server` serving the SmolLM2 GGUF, started
  by the core's own supervisor (`rag/answer/model_process.py`) with the embedded defaults (4 slots,
  half the cores as threads);
- two `rag serve` replicas (`llm.provider=openai`, `llm.base_url` at that server), each with an
  index folder of its own (as on two hosts: each rebuilds the lexical index from the Chroma
  server at start). "1 replica" sends every request to the first one (the second sits idle);
  "2 replicas" spreads the clients round-robin over both.

Each client is a closed loop: it sends its next question (the questions of eval/dev.jsonl,
shuffled, answerable and unanswerable) through `POST /v1/chat/completions` when its last answer
arrived. Two modes: `llm` (the default answer path: the LLM restates the composed lead) and
`retrieval` (`llm.restate=false`: retrieval and the answer composed from the evidence, no LLM
call). The 1- and 2-replica configurations alternate round by round until each one's answers/s
agree within 10% over its last two rounds, so a change in the machine's load hits both. In
round r every configuration asks the same questions (new ones each round): rounds with different
questions differed by up to 2x, since an abstention or a multi-paper answer costs the LLM
nothing. So that a question asked again does not find its prompt already processed, the LLM
server runs without its host-memory prompt cache (`--cache-ram 0`) and picks slots without
regard to earlier prompts (`--slot-prompt-similarity 0`); a slot still reuses the shared
prefix (the system prompt) as in a deployment. Without this, "2 replicas" came out twice as
fast with the LLM using less CPU (an earlier version of this benchmark).

Figures a reader can trust: the machine is shared. Before each mode's rounds (its replicas
started and warmed) the benchmark waits (up to `--quiet-wait` s) for a load average of at most
half the CPUs; during every round it samples the load and the CPU time of every process it
started (replicas, LLM server, Chroma, its own client threads), so each figure says how many
cores each part used, how many the rest of the machine took (`others`), and what bounded it.
Results: bench/results/replicas.json and replicas.md.

Time: an estimated 7 minutes on a quiet 2-core machine once the index exists (building it: ~1.5
min); `--budget-s` stops adding rounds, but two rounds of each configuration always run, so a
busy machine takes longer (16 min at load 7-14).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import (
    CORPUS_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    LoadMonitor,
    bench_settings,
    fresh_dir,
    latency_stats,
    usable_cpus,
    wait_for_quiet,
    write_result,
)
from bench.concurrency import ask_http
from tests.support import servers  # the tests' own launcher: one way to start a server

CACHE_DIR = Path(tempfile.gettempdir()) / "rag-bench-cache" / "replicas"
MODEL_ALIAS = "smollm2"
MODES = {"llm": True, "retrieval": False}  # mode -> llm.restate
# Later flags win: these override ModelProcess's `--cache-ram 256` (see the docstring).
NO_PROMPT_CACHE = ["--cache-ram", "0", "--slot-prompt-similarity", "0"]
SATURATED = 0.85  # a part using this share of the cores it may use is what bounds the figure


# -- the processes ---------------------------------------------------------------------------


def build_index(chroma_port: int, state: Path) -> dict[str, Any]:
    """Index the shipped corpus into the Chroma server through the core (`rag index` on the
    side); incremental, so a kept server only reads what changed."""
    from rag.core.settings import StoreSettings
    from rag.service.assistant import Assistant

    store = StoreSettings(mode="server", host="127.0.0.1", port=chroma_port)
    t0 = time.perf_counter()
    report = Assistant(
        bench_settings(state, store=store), build_index=False, progress=False
    ).index()
    return {
        "seconds": round(time.perf_counter() - t0, 1),
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "documents": report.documents,
        "chunks": report.chunks,
    }


@contextlib.contextmanager
def llm_server(slots: int, threads: int, log: Path) -> Iterator[Any]:
    """llama.cpp's OpenAI-compatible server with the SmolLM2 GGUF, started as the core starts
    its embedded model (same binary, same flags), under the name `MODEL_ALIAS`, without the
    caches that would make a question asked again cheaper (see the module docstring)."""
    from rag.answer.llm import default_gguf
    from rag.answer.model_process import ModelProcess, find_server_binary
    from rag.core.settings import LLMSettings

    proc = ModelProcess(
        find_server_binary(),
        default_gguf(),
        n_ctx=LLMSettings().n_ctx,
        parallel=slots,
        threads=threads,
        log_file=log,
        extra_args=["--alias", MODEL_ALIAS, *NO_PROMPT_CACHE],
    )
    try:
        proc.wait_ready()
        yield proc
    finally:
        proc.stop()


def replica_launches(
    n: int, chroma_port: int, llm_url: str, restate: bool, root: Path, logs: Path
) -> tuple[list[servers.Launch], list[str]]:
    """`n` `rag serve` replicas on the Chroma server, each with a folder of its own (as on a
    host of its own), answering through the LLM server at `llm_url`; their launches and URLs."""
    launches, urls = [], []
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        port = servers.free_port()
        env = servers.replica_env(
            port,
            chroma_port,
            CORPUS_DIR,
            root / f"replica-{i}",
            root / f"replica-{i}.sqlite3",
            LLM__PROVIDER="openai",
            LLM__BASE_URL=llm_url,
            LLM__MODEL=MODEL_ALIAS,
            LLM__RESTATE=str(restate).lower(),
            # the 135M model behind the endpoint restates; it does not write
            # (rag/answer/writer.py)
            LLM__WRITE="off",
        )
        url = f"http://127.0.0.1:{port}"
        log = logs / f"serve-{root.name}-{i}.log"
        launches.append(servers.Launch(servers.serve_command(), f"{url}/health", log, env))
        urls.append(url)
    return launches, urls


# -- the clients -----------------------------------------------------------------------------


def dev_questions(seed: int = 11) -> list[str]:
    """Every question of eval/dev.jsonl (unanswerable ones too: real traffic has them), shuffled."""
    rows = [json.loads(line) for line in (PROJECT_DIR / "eval" / "dev.jsonl").open()]
    qs = [str(r["question"]) for r in rows if r.get("question")]
    random.Random(seed).shuffle(qs)
    return qs


def ask(client: Any, base: str, question: str) -> tuple[float, str | None]:
    """One chat completion through a shared client; (seconds, error or None)."""
    return ask_http(base, question, 0.0, client=client)


def closed_loop(
    urls: list[str], qs: list[str], clients: int, per_client: int, timeout: float
) -> tuple[list[tuple[float, str | None]], float]:
    """`clients` threads, client i on replica i mod len(urls), each asking `per_client`
    questions one after the other; returns every (latency, error) and the wall time."""
    import httpx

    results: list[tuple[float, str | None]] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(i: int) -> None:
        with httpx.Client(timeout=timeout) as http:
            start.wait()
            for j in range(per_client):
                got = ask(http, urls[i % len(urls)], qs[(i * per_client + j) % len(qs)])
                with lock:
                    results.append(got)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.perf_counter() - t0


# -- CPU accounting --------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds used by named groups of processes and by the whole machine between `start()`
    and `stop()`, as cores used on average over that time. A group is (pids, with children?):
    this process is the parent of every server it started, so it is counted without them."""

    def __init__(self, groups: dict[str, tuple[list[int], bool]]) -> None:
        self.groups = groups

    def _group_cpu(self) -> dict[str, float]:
        import psutil

        out: dict[str, float] = {}
        for name, (pids, with_children) in self.groups.items():
            total = 0.0
            for pid in pids:
                with contextlib.suppress(psutil.Error):
                    p = psutil.Process(pid)
                    for q in (p, *(p.children(recursive=True) if with_children else ())):
                        with contextlib.suppress(psutil.Error):
                            t = q.cpu_times()
                            total += t.user + t.system
            out[name] = total
        return out

    @staticmethod
    def _machine_busy() -> tuple[float, float]:
        """(busy CPU seconds of the whole machine, of which in niced processes) since boot."""
        import psutil

        t = psutil.cpu_times()
        idle = t.idle + getattr(t, "iowait", 0.0) + getattr(t, "steal", 0.0)
        guests = getattr(t, "guest", 0.0) + getattr(t, "guest_nice", 0.0)  # already in user
        return sum(t) - idle - guests, getattr(t, "nice", 0.0)

    def start(self) -> None:
        self._t0, self._g0, self._m0 = time.perf_counter(), self._group_cpu(), self._machine_busy()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self._t0
        g1, m1 = self._group_cpu(), self._machine_busy()
        cores = {k: round((g1[k] - self._g0[k]) / wall, 2) for k in self.groups}
        cores["machine"] = round((m1[0] - self._m0[0]) / wall, 2)
        cores["others"] = round(max(0.0, cores["machine"] - sum(cores[k] for k in self.groups)), 2)
        # Niced work (a background job) yields the CPU to ours: part of `others`, said apart.
        cores["others_niced"] = round(min(cores["others"], (m1[1] - self._m0[1]) / wall), 2)
        return cores


# -- one mode --------------------------------------------------------------------------------


def run_mode(mode: str, env: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Start the replicas for `mode`, then alternate the configurations until stable."""
    import httpx

    restate = MODES[mode]
    root, logs = env["root"], env["logs"]
    launches, urls = replica_launches(
        max(args.replicas), env["chroma_port"], env["llm_url"], restate, root / mode, logs
    )
    out: dict[str, Any] = {"mode": mode, "llm_restate": restate}
    t0 = time.perf_counter()
    # the tests' own launcher (tests/support/servers.py): every replica starts at once
    with servers.running_together(launches, timeout=args.start_timeout, healthy=True) as procs:
        out["replicas_ready_s"] = round(time.perf_counter() - t0, 1)
        qs = env["questions"]
        for url in urls:  # warm each replica (first requests load the lexical index, caches)
            with httpx.Client(timeout=args.timeout) as http:
                out.setdefault("warmup", []).append([ask(http, url, q)[1] for q in qs[-3:]])
        out["quiet"] = wait_for_quiet(args.quiet_wait)  # the servers are up and idle now
        t_rounds, budget = time.perf_counter(), args.budget_s / len(args.modes)
        meter = CpuMeter(
            {
                **{f"replica_{i}": ([p.pid], True) for i, p in enumerate(procs)},
                "llm_server": ([env["llm_pid"]], True),
                "chroma": ([env["chroma_pid"]], True),
                "clients": ([os.getpid()], False),
            }
        )
        per_client = args.requests_per_client[mode]
        rounds: dict[int, list[dict[str, Any]]] = {n: [] for n in args.replicas}
        stable = False
        while not stable:
            for n in args.replicas:
                # Round r: the same questions for every configuration, new ones each round.
                offset = len(rounds[n]) * args.clients * per_client % len(qs)
                shifted = qs[offset:] + qs[:offset]
                meter.start()
                with LoadMonitor(every_s=1.0) as mon:
                    results, wall = closed_loop(
                        urls[:n], shifted, args.clients, per_client, args.timeout
                    )
                cores = meter.stop()
                errors = [e for _, e in results if e]
                rnd = {
                    "requests": len(results),
                    "wall_s": round(wall, 2),
                    "answers_per_s": round(len(results) / wall, 3),
                    "latencies_s": [round(s, 4) for s, _ in results],
                    "errors": errors,
                    "cores": cores,
                    "load": mon.summary,
                }
                rounds[n].append(rnd)
                print(
                    f"[bench] replicas {mode} n={n} round {len(rounds[n])}: "
                    f"{rnd['answers_per_s']}/s, {len(errors)} errors, cores {cores}, "
                    f"load {mon.summary['load1_during_mean']}",
                    flush=True,
                )
            done = len(rounds[args.replicas[0]])
            stable = done >= 2 and all(_agree(rounds[n][-2:], args.tolerance) for n in rounds)
            if done >= args.max_rounds or (time.perf_counter() - t_rounds > budget and done >= 2):
                break
    out["stable"] = stable
    out["configs"] = [_summary(n, rounds[n], stable, args) for n in args.replicas]
    return out


def _agree(last: list[dict[str, Any]], tolerance: float) -> bool:
    a, b = (r["answers_per_s"] for r in last)
    return abs(a - b) <= tolerance * max(a, b)


def _summary(
    n: int, rounds: list[dict[str, Any]], stable: bool, args: argparse.Namespace
) -> dict[str, Any]:
    """One configuration's figures over its last two rounds, with the conditions they had."""
    last = rounds[-2:]
    lat = [s for r in last for s in r["latencies_s"]]
    wall = sum(r["wall_s"] for r in last)
    errors = [e for r in last for e in r["errors"]]
    cores = {k: round(statistics.fmean(r["cores"][k] for r in last), 2) for k in last[0]["cores"]}
    loads = [r["load"] for r in last]
    conditions = {
        "rounds": len(rounds),
        "stable": stable,
        "round_answers_per_s": [r["answers_per_s"] for r in rounds],
        "load1_during_mean": round(statistics.fmean(x["load1_during_mean"] for x in loads), 2),
        "load1_during_max": max(x["load1_during_max"] for x in loads),
        "cpu_steal_pct_mean": round(
            statistics.fmean(x["cpu_steal_pct_mean"] or 0 for x in loads), 1
        ),
        "busy": any(x["busy"] for x in loads),
        "others_cores": cores["others"],
        "others_niced_cores": cores.get("others_niced"),
    }
    return {
        "replicas": n,
        "clients": args.clients,
        "requests": len(lat),
        "answers_per_s": round(len(lat) / wall, 3),
        "latency": latency_stats(lat),
        "errors": len(errors),
        "error_samples": errors[:3],
        "cores": cores,
        "bound_by": bound_by(cores, n, args.llm_threads),
        "conditions": conditions,
    }


def bound_by(cores: dict[str, float], n: int, llm_threads: int) -> str:
    """What limited the figure, read from the cores each part used: the LLM server when its
    threads were busy, the machine when all its cores were, else the replicas' own work."""
    cpus = usable_cpus()
    replicas = sum(v for k, v in cores.items() if k.startswith("replica_"))
    if cores["llm_server"] >= SATURATED * llm_threads:
        return (
            f"the LLM server: {cores['llm_server']:.2f} of its {llm_threads} thread(s) busy "
            f"(replicas {replicas:.2f} cores, machine {cores['machine']:.2f}/{cpus})"
        )
    if cores["machine"] >= SATURATED * cpus:
        return (
            f"CPU: the machine's {cpus} cores busy ({cores['machine']:.2f}; replicas "
            f"{replicas:.2f}, LLM {cores['llm_server']:.2f}, Chroma {cores['chroma']:.2f}, "
            f"clients {cores['clients']:.2f}, others {cores['others']:.2f} of which niced "
            f"{cores.get('others_niced', 0.0):.2f})"
        )
    return (
        f"neither the LLM nor the CPU saturated (machine {cores['machine']:.2f}/{cpus} cores): "
        f"waiting inside the {n} replica(s)"
    )


# -- the report ------------------------------------------------------------------------------


def write_markdown(record: dict[str, Any]) -> Path:
    """bench/results/replicas.md: one table, every figure beside its conditions."""
    host = record["machine"]
    lines = [
        "# Replicas: 1 vs 2 `rag serve` on one `chroma run`, one LLM server",
        "",
        f"`python -m bench.replicas` ({host['time']}; {host['cpus']} "
        f"CPUs, shared). {record['clients']} closed-loop clients, round-robin over the replicas, "
        f"questions from eval/dev.jsonl through `POST /v1/chat/completions`. LLM: one "
        f"llama-server (SmolLM2-135M GGUF, {record['llm']['slots']} slots, "
        f"{record['llm']['threads']} thread(s), no prompt cache) behind `llm.provider=openai`. "
        "Figures over each configuration's last two rounds; 1 and 2 replicas alternated round "
        "by round, each round's questions the same for both.",
        "",
        "| mode | replicas | answers/s | p50 / p95 latency | errors | cores used: replicas, "
        "LLM server, Chroma, clients, others (niced) | load (1 min) | rounds | bounded by |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for m in record["modes"]:
        if "skipped" in m:
            lines.append(f"| {m['mode']} | | | | | | | | {m['skipped']} |")
            continue
        for c in m["configs"]:
            k, cond = c["cores"], c["conditions"]
            reps = " + ".join(f"{k[f'replica_{i}']:.2f}" for i in range(c["replicas"]))
            flag = ", **busy**" if cond["busy"] else ""
            lines.append(
                f"| {m['mode']} | {c['replicas']} | {c['answers_per_s']:.2f} | "
                f"{c['latency']['p50_ms'] / 1000:.2f} / {c['latency']['p95_ms'] / 1000:.2f} s | "
                f"{c['errors']}/{c['requests']} | {reps}, {k['llm_server']:.2f}, "
                f"{k['chroma']:.2f}, {k['clients']:.2f}, {k['others']:.2f} "
                f"({k.get('others_niced', 0.0):.2f}) | "
                f"{cond['load1_during_mean']:.1f} (max {cond['load1_during_max']:.1f}){flag} | "
                f"{cond['rounds']}{'' if cond['stable'] else ', not stable'} | {c['bound_by']} |"
            )
    lines += [
        "",
        "Cores used: CPU seconds per second of wall time, per process group (a replica with "
        "its threads, the LLM server, Chroma, this benchmark's client threads) and for the "
        "whole machine; `others` is what the rest of the machine used meanwhile (other jobs), "
        "in brackets the part of it in niced processes (a background job that yields the CPU "
        "to un-niced work). "
        "**busy**: the 1-minute load average exceeded the CPUs while measuring. "
        "`mode=llm`: the default answer path (the LLM restates the composed lead); "
        "`mode=retrieval`: `llm.restate=false` (retrieval and the composed answer, no LLM call).",
    ]
    if record.get("note"):
        lines += ["", record["note"]]
    path = RESULTS_DIR / "replicas.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- main ------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    from rag.answer.llm import default_threads
    from rag.core.settings import LLMSettings

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 2], help="configurations")
    ap.add_argument("--clients", type=int, default=16, help="simultaneous clients")
    ap.add_argument(
        "--modes",
        nargs="+",
        choices=list(MODES),
        default=list(MODES),
        help="llm: the default answer path; retrieval: llm.restate=false (no LLM call)",
    )
    ap.add_argument(
        "--llm-requests", type=int, default=2, help="questions per client per round, mode llm"
    )
    ap.add_argument(
        "--retrieval-requests",
        type=int,
        default=6,
        help="questions per client per round, mode retrieval",
    )
    ap.add_argument("--max-rounds", type=int, default=3, help="per configuration")
    ap.add_argument(
        "--budget-s",
        type=float,
        default=420.0,
        help="no new round once a mode has measured for its share of this (2 rounds at least)",
    )
    ap.add_argument("--tolerance", type=float, default=0.10, help="stable: rounds agree within")
    ap.add_argument(
        "--llm-slots", type=int, default=LLMSettings().parallel, help="llama-server --parallel"
    )
    ap.add_argument(
        "--llm-threads", type=int, default=default_threads(), help="llama-server --threads"
    )
    ap.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    ap.add_argument("--start-timeout", type=float, default=300.0, help="per replica start")
    ap.add_argument(
        "--quiet-wait", type=float, default=60.0, help="max wait for a quiet machine per mode, s"
    )
    ap.add_argument("--fresh", action="store_true", help="rebuild the kept Chroma server data")
    ap.add_argument("--note", default="", help="a sentence written under the table")
    args = ap.parse_args(argv)
    args.requests_per_client = {"llm": args.llm_requests, "retrieval": args.retrieval_requests}
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    import shutil

    args = parse(argv)
    if args.fresh and CACHE_DIR.exists():
        shutil.rmtree(CACHE_DIR)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {
        "clients": args.clients,
        "replicas": args.replicas,
        "llm": {"slots": args.llm_slots, "threads": args.llm_threads, "model": MODEL_ALIAS},
        "llm_flags": NO_PROMPT_CACHE,
        "modes": [],
        "note": args.note,
    }
    t_all = time.perf_counter()
    logs = fresh_dir(CACHE_DIR / "logs")  # kept after the run, for a failure's cause
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as tmp:
        root = Path(tmp)
        chroma_port = servers.free_port()
        chroma_cmd, chroma_ready = servers.chroma_launch(chroma_port, CACHE_DIR / "chroma")
        with (
            servers.running(chroma_cmd, chroma_ready, logs / "chroma.log") as chroma,
            llm_server(args.llm_slots, args.llm_threads, logs / "llama-server.log") as llm,
        ):
            record["index"] = build_index(chroma_port, CACHE_DIR / "indexer")
            print(f"[bench] replicas: index {record['index']}", flush=True)
            env = {
                "root": root,
                "logs": logs,
                "chroma_port": chroma_port,
                "chroma_pid": chroma.pid,
                "llm_url": llm.base_url,
                "llm_pid": llm.pid,
                "questions": dev_questions(),
            }
            for mode in args.modes:
                try:
                    record["modes"].append(run_mode(mode, env, args))
                except RuntimeError as e:
                    record["modes"].append({"mode": mode, "skipped": f"failed: {e}"})
                    print(f"[bench] replicas {mode} failed: {e}", flush=True)
    record["wall_s"] = round(time.perf_counter() - t_all, 1)
    written = json.loads(write_result("replicas", record).read_text(encoding="utf-8"))
    print(f"[bench] wrote {write_markdown(written).relative_to(PROJECT_DIR)}")
    return record


if __name__ == "__main__":
    main()
