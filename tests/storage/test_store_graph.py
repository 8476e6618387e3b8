"""The store's vector graph is written to disk, so every process searches the same graph.

Chroma keeps a collection of fewer vectors than its HNSW sync threshold (1000 by default) in
its log only and rebuilds the graph, with a new random layout, in each new process: the same
question then found different nearest passages run to run (chroma-core/chroma#2675). The shipped
collection (685 chunks) was in that range. Two processes here query one store of 300 random
vectors and must agree on every neighbour list."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from rag.core.settings import Settings
from rag.storage.chroma import Store

VECTORS = 300  # above Chroma's batch size (100), below its default sync threshold (1000)
DIM = 32

_QUERY = """
import json, sys
import numpy as np
from rag.core.settings import Settings
from rag.storage.chroma import Store
store = Store(Settings(index_dir=sys.argv[1], corpus_dir=sys.argv[1]), verify=False)
queries = np.random.default_rng(7).normal(size=(40, {dim})).tolist()
got = store.collection.query(query_embeddings=queries, n_results=20, include=[])
print(json.dumps(got["ids"]))
"""


def test_two_processes_find_the_same_neighbours(tmp_path: Path) -> None:
    store = Store(Settings(index_dir=tmp_path, corpus_dir=tmp_path), verify=False)
    vectors = np.random.default_rng(0).normal(size=(VECTORS, DIM)).tolist()
    ids = [f"c{i}" for i in range(VECTORS)]
    for start in range(0, VECTORS, 50):
        store.collection.add(ids=ids[start : start + 50], embeddings=vectors[start : start + 50])
    del store
    runs = [
        subprocess.run(
            [sys.executable, "-c", _QUERY.format(dim=DIM), str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
        ).stdout.strip()
        for seed in (1, 2, 3)
    ]
    assert runs[0] and runs[0] == runs[1] == runs[2]
    # and the graph is on disk beside the log
    assert list(tmp_path.glob("chroma/*/index_metadata.pickle"))
