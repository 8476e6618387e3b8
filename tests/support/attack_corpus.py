"""For the attack tests: a small collection of our own, so each attack runs against a
store it may damage, and the environment for a `rag` subprocess over it."""

from __future__ import annotations

import os
from pathlib import Path

PAPERS = {
    "speculative.md": (
        "# Speculative decoding with a draft model\n\n"
        "A small draft model proposes several tokens and the large model verifies them in one "
        "forward pass, which makes generation 2.5 times faster without changing the output."
    ),
    "pruning.txt": (
        "Structured pruning of attention heads\n\n"
        "Removing 40 percent of the attention heads of BERT keeps 99 percent of its accuracy on "
        "GLUE while cutting inference latency by a third."
    ),
    "distill.md": (
        "# Distilling a tokenizer-free student\n\n"
        "A byte-level student model is distilled from a subword teacher and reaches the "
        "teacher's perplexity with half of its parameters."
    ),
}


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PAPERS.items():
        (folder / name).write_text(text)
    return folder


def rag_env_for(root: Path, **extra: str) -> dict[str, str]:
    """Environment for a `rag` subprocess whose corpus, index and state live under `root`."""
    env = dict(os.environ)
    env.update(
        {
            "RAG_CORPUS_DIR": str(root / "corpus"),
            "RAG_INDEX_DIR": str(root / "index"),
            "RAG_STATE_DB": str(root / "data" / "state.sqlite3"),
            "RAG_UPLOADS_DIR": str(root / "uploads"),
            "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "200",
        }
    )
    env.update(extra)
    return env
