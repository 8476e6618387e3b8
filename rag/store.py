"""The Chroma collection: embedded (a folder) or a Chroma server, with our own embeddings only.

Chroma's default embedding function downloads a model, so the collection is always opened with
`embedding_function=None` and every write carries vectors computed by rag/embeddings.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from rag.embeddings import embedding_id
from rag.errors import EmbeddingMismatchError, StoreError
from rag.settings import Settings


def _client(settings: Settings) -> ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    cfg = settings.store
    if cfg.mode == "embedded":
        path = Path(settings.index_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    try:
        return chromadb.HttpClient(
            host=cfg.host,
            port=cfg.port,
            ssl=cfg.ssl,
            tenant=cfg.tenant,
            database=cfg.database,
            settings=chroma_settings,
        )
    except Exception as e:  # chromadb raises plain ValueError/ConnectionError here
        raise StoreError(
            f"Cannot reach the Chroma server at {cfg.host}:{cfg.port} ({e}). "
            "Start it with `chroma run --host 127.0.0.1 --port 8001 --path chroma-data`, "
            "or set store.mode=embedded."
        ) from e


class Store:
    """One Chroma collection, tagged with the embedding model that filled it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client = _client(settings)
        self.embedding = embedding_id(settings.embedding)
        self.collection = self._open()

    @property
    def name(self) -> str:
        return self.settings.store.collection

    def describe(self) -> str:
        cfg = self.settings.store
        if cfg.mode == "embedded":
            return f"embedded chroma at {Path(self.settings.index_dir) / 'chroma'}"
        return f"chroma server {cfg.host}:{cfg.port}/{cfg.tenant}/{cfg.database}"

    def _open(self) -> Collection:
        try:
            col = self.client.get_or_create_collection(
                self.name,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "embedding_model": self.embedding},
            )
        except Exception as e:
            raise StoreError(
                f"Cannot open collection {self.name!r} in {self.describe()}: {e}"
            ) from e
        found = (col.metadata or {}).get("embedding_model")
        if found and found != self.embedding:
            raise EmbeddingMismatchError(
                f"Collection {self.name!r} holds vectors of {found!r}, but the settings embed "
                f"with {self.embedding!r}. Mixing them would break retrieval: choose another "
                "collection name (store.collection) or delete this one and re-index."
            )
        return col

    def count(self) -> int:
        return int(self.collection.count())

    def batch_size(self) -> int:
        """Rows per write: the configured size, within the server's own limit."""
        try:
            limit = int(self.client.get_max_batch_size())
        except Exception:
            limit = 5000
        return max(1, min(self.settings.store.batch_size, limit))

    def iter_rows(self, include: list[str], page: int = 5000) -> Iterator[dict[str, Any]]:
        """Every row of the collection, a page at a time (ids, plus what `include` names)."""
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=page, offset=offset)  # type: ignore[arg-type]
            ids = got["ids"]
            if not ids:
                return
            for i, id_ in enumerate(ids):
                row: dict[str, Any] = {"id": id_}
                for key in include:
                    values: Any = got.get(key)
                    row[key] = values[i] if values is not None else None
                yield row
            offset += len(ids)

    def delete_ids(self, ids: list[str]) -> None:
        step = self.batch_size()
        for i in range(0, len(ids), step):
            self.collection.delete(ids=ids[i : i + step])

    def get_embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self.collection.get(ids=ids, include=["embeddings"])  # type: ignore[list-item]
        embs = got.get("embeddings")
        if embs is None:
            return {}
        return {i: list(map(float, e)) for i, e in zip(got["ids"], embs, strict=False)}
