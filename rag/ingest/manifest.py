"""Writing the manifest (its reading, and what it holds: rag/storage/manifest.py): the indexer
records each build, and the files and folders it read join the roots of the earlier builds, so
that `rag index --rebuild` knows everything it must read again."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.core.errors import StoreError
from rag.core.settings import Settings
from rag.core.types import IndexReport
from rag.storage.chroma import Store, store_failure
from rag.storage.manifest import manifest_path, read_manifest


def record_build(
    settings: Settings, store: Store, report: IndexReport, roots: Sequence[Path] | None = None
) -> None:
    """Record a build of `store` now, in the manifest of `settings`' collection; `roots` (the
    files and folders this run read) join those of the earlier builds."""
    data = {
        "last_build": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": report.documents,
        "chunks": report.chunks,
        "embedding_model": store.embedding,
        "store": store.describe(),
    }
    write_manifest(manifest_path(settings), data, roots, settings)


def write_manifest(
    path: Path,
    data: dict[str, Any],
    roots: Sequence[str | Path] | None = None,
    settings: Settings | None = None,
    *,
    keep_roots: bool = True,
) -> None:
    """Write the manifest at `path` (atomically): `data`, with the recorded roots kept (unless
    `keep_roots=False`) and `roots` added to them (resolved, each once, in indexing order)."""
    old = read_manifest(path) if keep_roots else {}
    kept = [str(r) for r in old.get("roots") or [] if isinstance(r, str)]
    data = {**data, "roots": union_roots(kept, roots or [])}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        found = store_failure(e, settings)
        if found is not None:
            raise found from e
        raise StoreError(f"Cannot write the index manifest {path}: {e}") from e


def union_roots(kept: Sequence[str], roots: Sequence[str | Path]) -> list[str]:
    """`kept`, then each of `roots` resolved (as given when it cannot be) that is not there yet."""
    out = list(dict.fromkeys(kept))
    for r in roots:
        try:
            p = str(Path(r).resolve())
        except (OSError, RuntimeError):
            p = str(Path(r).absolute())
        if p not in out:
            out.append(p)
    return out
