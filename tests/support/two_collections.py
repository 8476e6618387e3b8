"""Two tiny collections for the collection and access tests, built for real (MiniLM, Chroma).

The default collection ("papers", from its corpus folder) is about a made-up caching method,
Heron; the named collection "beta" about a made-up pruning method, Zorblax, which only it
mentions. A passage, citation or figure of Zorblax reaching a caller granted only "papers" is
a leak.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rag.core.settings import Settings

DEFAULT = "papers"
BETA = "beta"
HERON = (
    "# Heron caching\n\nHeron is a caching method for transformer inference. Heron keeps the "
    "key-value cache of recent tokens in fast memory and reduces decoding latency by 31% on "
    "long prompts. Heron was evaluated on GPT-2 and OPT models.\n"
)
ZORBLAX = (
    "# Zorblax sparsification\n\nZorblax is a sparsification method for convolutional networks. "
    "Zorblax prunes 73% of the filters of ResNet-50 while keeping top-1 accuracy within 0.4 "
    "points. Zorblax runs on a single A100 GPU.\n"
)
ZORBLAX_Q = "What share of the filters of ResNet-50 does Zorblax prune?"
HERON_Q = "By how much does Heron reduce decoding latency?"
# What only beta's passages hold (not the question's words, which an answer may repeat): none of
# these may reach a caller without "beta".
LEAK_MARKS = ("73%", "sparsification", "convolutional", "A100", "top-1")


@dataclass
class Built:
    root: Path
    settings: Settings  # the default collection's

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a server process over these collections (no restatement: the
        LLM is not the point here, and answers come faster)."""
        s = self.settings
        env = dict(os.environ)
        env.update(
            {
                "RAG_CORPUS_DIR": str(s.corpus_dir),
                "RAG_INDEX_DIR": str(s.index_dir),
                "RAG_STATE_DB": str(s.state_db),
                "RAG_UPLOADS_DIR": str(s.uploads_dir),
                "RAG_LLM__RESTATE": "false",
                "HF_HUB_OFFLINE": "1",
                "GRADIO_ANALYTICS_ENABLED": "False",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra)
        return env


def build(root: Path) -> Built:
    """Write both corpora under `root` and index them: "papers" from its corpus_dir, "beta"
    from a folder named on the command line's behalf."""
    from rag.service.assistant import Assistant

    (root / "corpus-a").mkdir(parents=True)
    (root / "corpus-a" / "heron.md").write_text(HERON, encoding="utf-8")
    (root / "corpus-b").mkdir()
    (root / "corpus-b" / "zorblax.md").write_text(ZORBLAX, encoding="utf-8")
    settings = Settings(
        corpus_dir=root / "corpus-a",
        index_dir=root / "index",
        state_db=root / "state.sqlite3",
        uploads_dir=root / "uploads",
    )
    Assistant(settings, progress=False)  # builds the default collection from its corpus
    Assistant(settings, collection=BETA, build_index=False, progress=False).index(
        [root / "corpus-b"]
    )
    return Built(root, settings)


def leaks(text: str) -> list[str]:
    return [m for m in LEAK_MARKS if m.lower() in text.lower()]
