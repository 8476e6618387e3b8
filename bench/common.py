"""Shared helpers for the benchmark scripts: timing, percentiles, memory, machine load, results."""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import shutil
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import rag  # noqa: F401  (first: sets the offline switches before any model library loads)
from rag.core.settings import PROJECT_DIR, Settings
from rag.ingest.listing import Paper, merge_duplicates, parse_listing

RESULTS_DIR = PROJECT_DIR / "bench" / "results"
CORPUS_DIR = PROJECT_DIR / "corpus"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation (numpy's default), of `values`."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_stats(seconds: list[float]) -> dict[str, float]:
    """p50/p95/mean/max in milliseconds, plus the sample count."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else float("nan"),
        "max_ms": round(max(ms), 3) if ms else float("nan"),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def rss_mb() -> float:
    """Current resident memory of this process."""
    import psutil

    return round(psutil.Process().memory_info().rss / 2**20, 1)


def dir_size_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    return round(total / 2**20, 2)


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine was (it is shared)."""
    import psutil

    return {
        "cpus": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)),
        "total_memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


@contextmanager
def load_window(record: dict[str, Any], quiet_wait_s: float | None = None) -> Iterator[None]:
    """Record the machine load before, during (sampled: `load_during`) and after a measurement
    into `record`; first wait up to `quiet_wait_s` (default: $RAG_BENCH_QUIET_WAIT_S, else 0)
    for a quiet machine (`quiet`)."""
    if quiet_wait_s is None:
        quiet_wait_s = float(os.environ.get("RAG_BENCH_QUIET_WAIT_S", "0") or 0)
    if quiet_wait_s > 0:
        record["quiet"] = wait_for_quiet(quiet_wait_s)
    record["loadavg_before"] = [round(x, 2) for x in os.getloadavg()]
    t0 = time.perf_counter()
    with LoadMonitor(every_s=2.0) as mon:
        yield
    record["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    record["load_during"] = mon.summary
    record["wall_s"] = round(time.perf_counter() - t0, 2)


def bench_settings(index_dir: Path, **overrides: Any) -> Settings:
    """Settings for a benchmark: the shipped corpus, an index and feedback db under `index_dir`."""
    index_dir = Path(index_dir)
    return Settings(
        corpus_dir=overrides.pop("corpus_dir", CORPUS_DIR),
        index_dir=index_dir,
        state_db=index_dir.parent / f"{index_dir.name}-state.sqlite3",
        **overrides,
    )


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def load_papers(corpus_dir: Path = CORPUS_DIR) -> list[Paper]:
    """The shipped collection's papers, parsed and de-duplicated as the core does."""
    papers: list[Paper] = []
    for f in sorted(Path(corpus_dir).glob("*.txt")):
        papers.extend(parse_listing(f.read_text(encoding="utf-8"), f.name))
    return merge_duplicates(papers)


def questions(n: int, seed: int = 7) -> list[str]:
    """`n` benchmark questions: the eval development set when it exists, else corpus-derived.

    Corpus-derived questions are a mid-abstract sentence cut to ~20 words: specific enough to have
    an answer, without the title's exact words, so all three retrieval modes do real work.
    """
    qs = _eval_questions()
    rng = random.Random(seed)
    if len(qs) < n:
        for p in rng.sample(load_papers(), k=min(n, 600)):
            sents = [s for s in p.abstract.split(". ") if len(s.split()) >= 8]
            if sents:
                qs.append(" ".join(sents[len(sents) // 2].split()[:20]) + "?")
    rng.shuffle(qs)
    return qs[:n]


def _eval_questions() -> list[str]:
    out: list[str] = []
    for f in sorted((PROJECT_DIR / "eval").glob("*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict) and row.get("question") and row.get("type") != "unanswerable":
                out.append(str(row["question"]))
    return out


def write_result(name: str, data: dict[str, Any]) -> Path:
    """Write `bench/results/<name>.json` (with the machine description) and return its path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "machine": machine(), **data}
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"[bench] wrote {path.relative_to(PROJECT_DIR)}")
    return path


def read_result(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def timed(fn: Any, *args: Any, **kw: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


# -- figures a reader can trust: the machine's load before and during, repeated until stable -----

QUIET_LOAD_PER_CPU = 0.5  # "quiet": 1-minute load average at most half the usable CPUs


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0))


def wait_for_quiet(max_wait_s: float, quiet_load: float | None = None, poll_s: float = 5.0) -> dict:
    """Wait (at most `max_wait_s`) until the 1-minute load average is at most `quiet_load`
    (default: half the usable CPUs); returns what was seen, with `quiet` False when it timed out."""
    limit = quiet_load if quiet_load is not None else QUIET_LOAD_PER_CPU * usable_cpus()
    first = [round(x, 2) for x in os.getloadavg()]
    t0 = time.monotonic()
    while os.getloadavg()[0] > limit and time.monotonic() - t0 < max_wait_s:
        time.sleep(poll_s)
    now = [round(x, 2) for x in os.getloadavg()]
    return {
        "load_when_asked": first,
        "load_at_start": now,
        "quiet_limit": round(limit, 2),
        "waited_s": round(time.monotonic() - t0, 1),
        "quiet": now[0] <= limit,
    }


class LoadMonitor:
    """Samples the load average and the system's CPU use (psutil) every `every_s` while a block
    runs: `summary` says how busy the machine was during the measurement, not only around it."""

    def __init__(self, every_s: float = 1.0) -> None:
        import threading

        self.every_s = every_s
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        psutil.cpu_times_percent(None)
        while not self._stop.wait(self.every_s):
            t = psutil.cpu_times_percent(None)
            steal = float(getattr(t, "steal", 0.0))
            self.samples.append((os.getloadavg()[0], 100.0 - t.idle - steal, steal))

    def __enter__(self) -> LoadMonitor:
        self.before = [round(x, 2) for x in os.getloadavg()]
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.after = [round(x, 2) for x in os.getloadavg()]

    @property
    def summary(self) -> dict[str, Any]:
        loads = [s[0] for s in self.samples] or [os.getloadavg()[0]]
        cpu = [s[1] for s in self.samples]
        steal = [s[2] for s in self.samples]
        cpus = usable_cpus()
        mean_load = statistics.fmean(loads)
        return {
            "load1_before": self.before[0],
            "load1_during_mean": round(mean_load, 2),
            "load1_during_max": round(max(loads), 2),
            "load1_after": self.after[0],
            "cpu_busy_pct_mean": round(statistics.fmean(cpu), 1) if cpu else None,
            # CPU time the hypervisor gave to other guests: a VM's hidden neighbours.
            "cpu_steal_pct_mean": round(statistics.fmean(steal), 1) if steal else None,
            # Busy: more runnable work than CPUs while measuring (this benchmark itself is one).
            "busy": mean_load > cpus,
        }


def stable_rounds(
    run_round: Any,
    keys: list[str],
    tolerance: float = 0.10,
    min_rounds: int = 2,
    max_rounds: int = 6,
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Call `run_round()` (it returns {key: [seconds, ...]}) until, for every key, the medians of
    the last two rounds agree within `tolerance`, at most `max_rounds` times. Returns each key's
    (and each `extra` key's, reported but not waited for) latency stats over the last two
    rounds, with the conditions they were taken in: rounds, whether they stabilised, every
    round's median, and the load during each round."""
    rounds: list[dict[str, Any]] = []
    stable = False
    while True:
        with LoadMonitor() as mon:
            samples = run_round()
        rounds.append(
            {
                "samples": samples,
                "median_ms": {
                    k: round(1000 * statistics.median(samples[k]), 2) for k in (*keys, *extra)
                },
                "load": mon.summary,
            }
        )
        if len(rounds) >= min_rounds:
            a, b = rounds[-2]["median_ms"], rounds[-1]["median_ms"]
            stable = all(abs(a[k] - b[k]) <= tolerance * max(a[k], b[k]) for k in keys)
        if stable or len(rounds) >= max_rounds:
            break
    last = rounds[-2:]
    out: dict[str, Any] = {}
    loads = [r["load"] for r in last]
    conditions = {
        "rounds": len(rounds),
        "stable": stable,
        "tolerance": tolerance,
        "load1_during_mean": round(statistics.fmean(x["load1_during_mean"] for x in loads), 2),
        "load1_during_max": max(x["load1_during_max"] for x in loads),
        "busy": any(x["busy"] for x in loads),
        "cpu_busy_pct_mean": _mean_of(x.get("cpu_busy_pct_mean") for x in loads),
        "cpu_steal_pct_mean": _mean_of(x.get("cpu_steal_pct_mean") for x in loads),
        "round_medians_ms": [r["median_ms"] for r in rounds],
    }
    for k in (*keys, *extra):
        stats: dict[str, Any] = latency_stats([s for r in last for s in r["samples"][k]])
        stats["conditions"] = conditions
        out[k] = stats
    return out


def _mean_of(values: Any) -> float | None:
    xs = [v for v in values if v is not None]
    return round(statistics.fmean(xs), 1) if xs else None
