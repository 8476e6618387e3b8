"""A one-document update on a large synthetic collection, with the code before a change
(`--base-tree`) and now (issue 26, item 4: updates proportional to the change).

    python -m bench.update [--size 100000] [--keep DIR] [--base-tree /tmp/wt-base]

The collection is `bench.scale`'s (same synthetic chunks, written through the core's store path,
lexical index built from the store, saved and stamped). Each code (`--base-tree`: a checkout of
the code before, e.g. `git worktree add /tmp/wt-base <commit>`, put first on PYTHONPATH; then this
checkout) gets its own copy of that collection without a document table or a saved lexical index,
and runs, each in a new process (one thread, the embedding model warmed before the clock starts),
`Indexer.index([one listing file])` three times:
- first run: no table yet, so the run reads the store's metadata and builds the table and the
  lexical index in that code's format (the one-time upgrade);
- a new document added, then that document changed (the table's path: only that document's rows
  and chunks are read; the lexical index is brought up to date and saved).
Each row gives the wall time of the `index` call, how the run learnt what is stored ("table" or
"scan"), the lexical update and its save, what the save wrote, and the load average.
Results: bench/results/update-<size>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PROJECT_DIR, RESULTS_DIR, LoadMonitor, machine, write_result
from bench.scale import ONE_THREAD, sentence_pool, sentence_vectors

# Run in a child with the code under test first on PYTHONPATH (the old tree has no bench/update).
CHILD = r"""
import json, sys, time
from pathlib import Path
from bench.scale import _settings
from rag.ingest.indexer import Indexer
from rag.storage.chroma import Store
from rag.storage.embeddings import make_embedding

index_dir, listing = Path(sys.argv[1]), Path(sys.argv[2])
settings = _settings(index_dir)
t0 = time.perf_counter()
store = Store(settings)
open_s = time.perf_counter() - t0
indexer = Indexer(settings, store)
make_embedding(settings.embedding).get_text_embedding("warm up")  # model load not timed
t0 = time.perf_counter()
report = indexer.index([listing], progress=False)
wall = time.perf_counter() - t0
last = indexer.last_lexical
print(json.dumps({
    "seconds": round(wall, 3),
    "open_s": round(open_s, 3),
    "path": getattr(indexer, "last_path", "scan (no table in this code)"),
    "added": report.added, "updated": report.updated, "removed": report.removed,
    "chunks_embedded": report.chunks_embedded, "chunks": report.chunks,
    "documents": report.documents,
    "lexical": last.timings if last is not None else None,
}))
"""


def _listing(path: Path, seed: int) -> None:
    """One paper in a listing file (its abstract drawn by `seed`: a new seed, a changed text)."""
    sentences, words = sentence_pool()
    rng = random.Random(seed)
    title = "Update " + " ".join(rng.sample(words, 6)) + f" {seed}"
    if path.exists():  # keep the title: the same document, changed
        title = path.read_text(encoding="utf-8").split("\n\n")[1]
    abstract = " ".join(rng.sample(sentences, 5))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"Daily Papers\n\n{title}\n\n{abstract}\n", encoding="utf-8")


def _update(tree: Path, index_dir: Path, listing: Path, timeout: float) -> dict[str, Any]:
    env = {**os.environ, **ONE_THREAD, "PYTHONPATH": str(tree)}
    with LoadMonitor() as mon:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(index_dir), str(listing)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=tree,
        )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        raise RuntimeError(f"update in {tree} failed ({proc.returncode})")
    last = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    return {**json.loads(last), "tree": str(tree), "load": mon.summary}


def _build(size: int, index_dir: Path, timeout: float) -> dict[str, Any]:
    """The synthetic collection and its lexical index (bench.scale's children)."""
    out: dict[str, Any] = {}
    quiet = ["--quiet-wait", "0"]
    for phase in (["--write-one", str(size)], ["--lexical-one"]):
        proc = subprocess.run(
            [sys.executable, "-m", "bench.scale", *phase, "--dir", str(index_dir), *quiet],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **ONE_THREAD},
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-3000:])
            raise RuntimeError(f"bench.scale {phase} failed")
        out[phase[0].strip("-")] = json.loads(
            [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
        )
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="build (or reuse) the collection under this folder")
    ap.add_argument("--base-tree", type=Path, help="a checkout of the code before the table")
    ap.add_argument("--timeout", type=float, default=3600.0)
    args = ap.parse_args(argv)

    tmp = tempfile.TemporaryDirectory(prefix="bench-update-")
    root = args.keep or Path(tmp.name)
    index_dir = root / f"synthetic-{args.size}"
    (root / "empty-corpus").mkdir(parents=True, exist_ok=True)
    sentence_vectors(sentence_pool()[0])  # cached for the children
    record: dict[str, Any] = {
        "size": args.size,
        "base_commit": _commit(args.base_tree),
        "commit": _commit(PROJECT_DIR),
        "method": "bench.scale's synthetic collection; each update a new process running "
        "Indexer.index([one listing file]) with one thread, embedding model warmed first",
    }
    marker = index_dir / "bench-update-built.json"
    if marker.exists():
        record["build"] = {**json.loads(marker.read_text()), "reused": True}
    else:
        shutil.rmtree(index_dir, ignore_errors=True)
        t0 = time.perf_counter()
        record["build"] = _build(args.size, index_dir, args.timeout)
        record["build"]["wall_s"] = round(time.perf_counter() - t0, 1)
        marker.write_text(json.dumps(record["build"]))
    # bench.scale's build ends with an update of its own, which left a listing behind: the
    # collection holds size + 1 chunks. Each code runs on its own copy of the collection, from an
    # index without a table or a saved lexical index (the first run reads the store and writes
    # both, in that code's format), then adds a document and changes it.
    updates = root / "updates-bench"
    runs: list[dict[str, Any]] = []
    seed = time.time_ns() % 10**9
    trees = [("before", args.base_tree)] if args.base_tree else []
    for code, tree in [*trees, ("after", PROJECT_DIR)]:
        work = root / f"synthetic-{args.size}-{code}"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(index_dir, work)
        (work / "papers.docs.sqlite3").unlink(missing_ok=True)
        shutil.rmtree(work / "papers.bm25", ignore_errors=True)
        first, later = updates / f"{code}-first-{seed}.txt", updates / f"{code}-{seed}.txt"
        for path, what in (
            (first, "add (first run: table built)"),
            (later, "add"),
            (later, "change"),
        ):
            _listing(path, seed + len(runs))  # a new file adds a document; the same, changes it
            runs.append({"code": code, "what": what, **_update(tree, work, path, args.timeout)})
            print(f"[bench] {code} {what}: {runs[-1]['seconds']} s", flush=True)
        shutil.rmtree(work, ignore_errors=True)
    record["runs"] = runs
    name = f"update-{args.size // 1000}k"
    write_result(name, record)
    _report(name, record)
    tmp.cleanup()
    return record


def _commit(tree: Path | None) -> str | None:
    if tree is None:
        return None
    proc = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return proc.stdout.strip() or None


def _layout(lexical: dict[str, Any]) -> str:
    """What the lexical save wrote: the whole index, or a delta beside the kept base."""
    if "delta_rows" not in lexical:
        return "whole index"
    if lexical.get("merged"):
        return "merged into one base"
    return (
        f"base {lexical.get('base_files', '?')}, delta of {lexical['delta_rows']} rows, "
        f"{lexical['removed_rows']} removed"
    )


def _report(name: str, record: dict[str, Any]) -> None:
    mach = machine()
    rows = []
    for r in record["runs"]:
        lx = r.get("lexical") or {}
        load = r["load"]
        rows.append(
            f"| {r['code']} | {r['what']} | {r['path']} | {r['seconds']:.2f} s "
            f"| {lx.get('total_s', float('nan')):.2f} s ({lx.get('tokenized', '?')} tokenized) "
            f"| {lx.get('save_s', float('nan')):.2f} s ({_layout(lx)}) "
            f"| {r['chunks']:,} | load {load['load1_during_mean']:.1f}"
            f"{', BUSY' if load.get('busy') else ''} |"
        )
    build = record["build"]
    lines = [
        f"# One-document update at {record['size']:,} chunks",
        "",
        f"`python -m bench.update --size {record['size']} --base-tree /tmp/wt-base` "
        f"(/tmp/wt-base: `git worktree add /tmp/wt-base {record.get('base_commit') or '<commit>'}`"
        "; after: this checkout). "
        f"Machine: {mach['cpus']} CPUs, {mach['total_memory_gb']} GB, shared with other jobs "
        "(load: the 1-minute load average while the update ran; BUSY = more runnable work than "
        "CPUs). " + record["method"] + ". Wall time of the `index` call only (not the process "
        "start, the store's opening or the model's load).",
        "",
        "| code | update | what is stored, learnt from | `index` call | of which lexical sync "
        "| and its save (what was written) | chunks after | conditions |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Collection: "
        + ("built by an earlier run of this benchmark" if build.get("reused") else "built")
        + f" in {build.get('wall_s')} s (vector write "
        f"{build.get('write-one', {}).get('write_s')} s, lexical build from scratch "
        f"{build.get('lexical-one', {}).get('lexical_build_s')} s, that process's peak RSS "
        f"{build.get('lexical-one', {}).get('lexical_build_peak_rss_mb')} MB).",
        "",
    ]
    lines += [
        "What the rows mean:",
        "- first run: an index without the table (or a saved lexical index in this code's "
        "format) reads every chunk's metadata once, writes the table "
        "(`<index_dir>/<collection>.docs.sqlite3`) and builds the lexical index from the store.",
        "- add, change: the run reads the table's rows of the documents it loaded, replaces that "
        "document's chunks, and brings the lexical index up to date from the saved one with only "
        "the new chunk read from Chroma (`LexicalIndex.from_changes`). Before the delta segments "
        "(format 3) that meant the whole index recomputed and written again (the BM25 matrix "
        "from all counts); with them (format 4) the saved base is kept (its files hard-linked "
        "into the new version) and only a delta of the changed rows is written "
        "(rag/storage/segments.py).",
        "",
    ]
    (RESULTS_DIR / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
