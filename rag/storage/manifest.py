"""Reading the manifest: the record the indexer (rag/ingest/manifest.py writes it) keeps beside a
collection, `<index_dir>/<collection>.manifest.json`: when it was last built, how many documents
and chunks it holds, into which store, and every file and folder ever indexed into it (the
roots).

It is read here, below the indexer, because the store itself reads it: opening a store checks
that one found empty was not built before (`recorded_build`, Store.verify in chroma.py), and a
damaged store's message names what `rag index --rebuild` will read again (`rebuild_sources`).
The store stays the record of what is indexed; the manifest only describes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.core.settings import Settings

# How a manifest names an embedded store (chroma.py `describe`): "embedded chroma at <folder>".
EMBEDDED_AT = "embedded chroma at "


def manifest_path(settings: Settings) -> Path:
    return Path(settings.index_dir) / f"{settings.store.collection}.manifest.json"


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest's data; {} when there is none or it cannot be read (it only describes the
    store, which stays the record of what is indexed)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def recorded_roots(settings: Settings) -> list[Path]:
    """The files and folders ever indexed into this collection, as the manifest records them."""
    roots = read_manifest(manifest_path(settings)).get("roots")
    if not isinstance(roots, list):
        return []
    return [Path(str(r)) for r in roots if str(r)]


def rebuild_sources(settings: Settings) -> list[Path]:
    """What a rebuild re-reads: the recorded roots, or the corpus when none are recorded."""
    return recorded_roots(settings) or [Path(settings.corpus_dir)]


def recorded_build(settings: Settings, store: str) -> tuple[int, str] | None:
    """(chunks, when) of the last build the manifest records for this very store (`store`: its
    `describe()`); None when it records none, or an empty one."""
    manifest = read_manifest(manifest_path(settings))
    if not _same_store(manifest.get("store"), settings, store):
        return None  # built into another store (a server, not this folder): nothing to compare
    try:
        chunks = int(manifest.get("chunks") or 0)
    except (TypeError, ValueError):
        return None
    return (chunks, str(manifest.get("last_build") or "an earlier run")) if chunks > 0 else None


def _same_store(recorded: Any, settings: Settings, store: str) -> bool:
    """Whether the manifest's store is this one. An embedded store's manifest lies in its own
    index folder, so any embedded path matches (the folder may have been moved or copied)."""
    if recorded is None:
        return True  # written before the store was recorded
    if settings.store.mode == "embedded":
        return str(recorded).startswith(EMBEDDED_AT)
    return bool(recorded == store)
