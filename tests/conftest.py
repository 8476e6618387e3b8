"""Shared fixtures: one real index of the shipped corpus per test session, built once.

Tests that start a server process point it at the same index with `rag_env`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.core.settings import PROJECT_DIR, Settings

CORPUS = PROJECT_DIR / "corpus"
# The helpers every test folder uses (servers, stand-ins, document makers) live in tests/support/
# and are imported by module name: `from servers import running`.
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("index")


@pytest.fixture(scope="session")
def settings(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("data")
    return Settings(
        corpus_dir=CORPUS,
        index_dir=index_dir,
        state_db=data / "state.sqlite3",
    )


@pytest.fixture(scope="session")
def assistant(settings: Settings) -> Iterator[object]:
    """A real Assistant over the shipped corpus (real MiniLM, real Chroma, real local LLM)."""
    from rag.service.assistant import Assistant

    a = Assistant(settings, progress=False)
    yield a


@pytest.fixture(scope="session")
def rag_env(settings: Settings, assistant: object) -> dict[str, str]:
    """Environment for a subprocess that must use the session's (already built) index."""
    env = dict(os.environ)
    env.update(
        {
            "RAG_CORPUS_DIR": str(settings.corpus_dir),
            "RAG_INDEX_DIR": str(settings.index_dir),
            "RAG_STATE_DB": str(settings.state_db),
            "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env
