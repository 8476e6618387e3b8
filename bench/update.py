"""A one-document update on a large synthetic collection, before and after the document table
(issue 26, item 4: updates proportional to the change).

    python -m bench.update [--size 100000] [--keep DIR] [--base-tree /tmp/wt-base]

The collection is `bench.scale`'s (same synthetic chunks, written through the core's store path,
lexical index built from the store, saved and stamped). Then, each in a new process (one thread,
the embedding model warmed before the clock starts), `Indexer.index([one listing file])`:
- before (`--base-tree`: a checkout of the code without the table, e.g. `git worktree add
  /tmp/wt-base <commit>`, put first on PYTHONPATH): a new document added, then that document
  changed;
- after, first run: the index has no document table yet, so this run reads the store's metadata
  as before and builds the table (the one-time upgrade);
- after: a new document added, then that document changed (the table's path: only that
  document's rows and chunks are read).
Each row gives the wall time of the `index` call, how the run learnt what is stored ("table" or
"scan"), the lexical sync's timings, and the load average while it ran.
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
    # collection holds size + 1 chunks. Its table, if the new code wrote one, is dropped so that
    # every run below starts from an index made without it.
    (index_dir / "papers.docs.sqlite3").unlink(missing_ok=True)
    updates = root / "updates-bench"
    runs: list[dict[str, Any]] = []
    seed = time.time_ns() % 10**9
    if args.base_tree:
        before = updates / f"before-{seed}.txt"
        for what in ("add", "change"):
            _listing(before, seed + len(runs))
            runs.append(
                {
                    "code": "before",
                    "what": what,
                    **_update(args.base_tree, index_dir, before, args.timeout),
                }
            )
            print(f"[bench] {runs[-1]['code']} {what}: {runs[-1]['seconds']} s", flush=True)
    first = updates / f"upgrade-{seed}.txt"
    _listing(first, seed + 100)
    runs.append(
        {
            "code": "after",
            "what": "add (first run: table built)",
            **_update(PROJECT_DIR, index_dir, first, args.timeout),
        }
    )
    print(f"[bench] after upgrade: {runs[-1]['seconds']} s", flush=True)
    after = updates / f"after-{seed}.txt"
    for what in ("add", "change"):
        _listing(after, seed + 200 + len(runs))
        runs.append(
            {"code": "after", "what": what, **_update(PROJECT_DIR, index_dir, after, args.timeout)}
        )
        print(f"[bench] after {what}: {runs[-1]['seconds']} s", flush=True)
    record["runs"] = runs
    name = f"update-{args.size // 1000}k"
    write_result(name, record)
    _report(name, record)
    tmp.cleanup()
    return record


def _report(name: str, record: dict[str, Any]) -> None:
    mach = machine()
    rows = []
    for r in record["runs"]:
        lx = r.get("lexical") or {}
        load = r["load"]
        rows.append(
            f"| {r['code']} | {r['what']} | {r['path']} | {r['seconds']:.2f} s "
            f"| {lx.get('total_s', float('nan')):.2f} s ({lx.get('tokenized', '?')} tokenized) "
            f"| {r['chunks']:,} | load {load['load1_during_mean']:.1f}"
            f"{', BUSY' if load.get('busy') else ''} |"
        )
    build = record["build"]
    lines = [
        f"# One-document update at {record['size']:,} chunks, before and after the document table",
        "",
        f"`python -m bench.update --size {record['size']} --base-tree /tmp/wt-base` "
        "(/tmp/wt-base: `git worktree add /tmp/wt-base <commit before the table>`). "
        f"Machine: {mach['cpus']} CPUs, {mach['total_memory_gb']} GB, shared with other jobs "
        "(load: the 1-minute load average while the update ran; BUSY = more runnable work than "
        "CPUs). " + record["method"] + ". Wall time of the `index` call only (not the process "
        "start, the store's opening or the model's load).",
        "",
        "| code | update | what is stored, learnt from | `index` call | of which lexical sync "
        "| chunks after | conditions |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Collection: "
        + (
            "reused from an earlier run."
            if build.get("reused")
            else f"built in {build.get('wall_s')} s (vector write "
            f"{build.get('write-one', {}).get('write_s')} s, lexical build from scratch "
            f"{build.get('lexical-one', {}).get('lexical_build_s')} s)."
        ),
        "",
    ]
    lines += [
        "What the rows mean:",
        "- before: the code without the table. The indexer reads every chunk's metadata to learn "
        "what is stored (`Indexer._stored`), then every chunk's id and key again for the lexical "
        "sync (`lexical.scan`).",
        "- after, first run: an index made without the table (and any run after one killed "
        "midway, or after another host wrote the store) takes that same path once and writes "
        'the table (`<index_dir>/<collection>.docs.sqlite3`), logging "document table … built '
        'from the store".',
        "- after, table: the run reads the table's rows of the documents it loaded and of those "
        "listed under the paths it walked (here: one), replaces that document's chunks, and "
        "brings the lexical index up to date from the saved one with only the new chunk read "
        "from Chroma (`LexicalIndex.from_changes`); no `get` without ids is made "
        "(tests/ingest/test_doc_table.py).",
        "",
    ]
    (RESULTS_DIR / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
