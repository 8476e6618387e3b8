"""The Chroma collection: embedded (a folder) or a Chroma server, with our own embeddings only.

Chroma's default embedding function downloads a model, so the collection is always opened with
`embedding_function=None` and every write carries vectors computed by rag/storage/embeddings.py.

Every failure of the store's own files (a file in the way of the index folder, a read-only
folder, a full disk, a damaged database) becomes a StoreError that says what to do
(`store_failure`), whether it happens when the store is opened or at any later call. A damaged
store, or one found empty although the manifest (rag/storage/manifest.py) records a build, is a
DamagedIndexError: it is reported, never silently replaced; `rag index --rebuild` moves it aside
(`discard`) and rebuilds it from the folders recorded in the manifest.
"""

from __future__ import annotations

import contextlib
import errno
import re
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError

from rag.core.errors import DamagedIndexError, EmbeddingMismatchError, RagError, StoreError
from rag.core.locking import held
from rag.core.settings import Settings
from rag.storage.embeddings import embedding_id
from rag.storage.manifest import EMBEDDED_AT, rebuild_sources, recorded_build

SQLITE_HEADER = b"SQLite format 3\x00"
_DB = "chroma/chroma.sqlite3"

# What chromadb's errors say (its Rust core reports SQLite's and the OS's errors as text).
_DAMAGED_TEXT = (
    "file is not a database",
    "disk image is malformed",
    "malformed database schema",
    "(code: 11)",
    "(code: 26)",
)
_NO_SPACE_TEXT = ("disk is full", "no space left", "(code: 13)", "os error 28", "file too large")
_READ_ONLY_TEXT = (
    "readonly database",
    "read-only file system",
    "permission denied",
    "operation not permitted",
    "(code: 8)",
    "os error 30",
    "os error 13",
)
# A write that failed without saying why (SQLite's I/O error; chromadb's log compaction): a file
# size limit or a full disk, most likely. The store resumes once it can write again.
_WRITE_FAILED_TEXT = ("disk i/o error", "(code: 10)", "failed to apply logs", "error in compaction")
_UNUSABLE_TEXT = ("unable to open database file", "(code: 14)", "not a directory", "os error 20")
_NO_SPACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_IN_THE_WAY_ERRNOS = {errno.ENOTDIR, errno.EEXIST}


def chroma_dir(settings: Settings) -> Path:
    return Path(settings.index_dir) / "chroma"


def describe(settings: Settings) -> str:
    cfg = settings.store
    if cfg.mode == "embedded":
        return f"{EMBEDDED_AT}{chroma_dir(settings)}"
    return f"chroma server {cfg.host}:{cfg.port}/{cfg.tenant}/{cfg.database}"


# -- failures of the store's files, as messages that say what to do ------------------------------


def _location(settings: Settings) -> str:
    if settings.store.mode == "embedded":
        return str(Path(settings.index_dir))
    return f"{describe(settings)} (collection {settings.store.collection!r})"


def _sources_text(paths: Sequence[Path]) -> str:
    return ", ".join(str(p) for p in paths)


def damaged(settings: Settings | None, detail: str, where: str | None = None) -> DamagedIndexError:
    """The error for a damaged store, with the command that rebuilds it and what it re-reads."""
    if settings is None:
        return DamagedIndexError(
            f"The index at {where or 'the index folder'} is damaged ({detail}): run "
            "`rag index --rebuild` to rebuild it from the folders it was built from."
        )
    return DamagedIndexError(
        f"The index at {_location(settings)} is damaged ({detail}): run `rag index --rebuild` "
        f"to rebuild it from {_sources_text(rebuild_sources(settings))}."
    )


def _no_space(place: str) -> StoreError:
    return StoreError(
        f"No space left writing the index at {place}: free some space and run `rag index` "
        "again (it resumes)."
    )


def _write_failed(place: str, reason: str) -> StoreError:
    return StoreError(
        f"Writing the index at {place} failed ({reason}): the disk may be full; free some space "
        "and run `rag index` again (it resumes)."
    )


def _read_only(place: str, reason: str) -> StoreError:
    return StoreError(
        f"The index folder {place} cannot be written ({reason}): make it writable, or set "
        "index_dir (RAG_INDEX_DIR) to a writable folder."
    )


def _blocker(path: Path) -> Path | None:
    """The file that stands where a folder of `path` should be, if any."""
    for p in [path, *path.parents]:
        if p.exists():
            return None if p.is_dir() else p
    return None


def _in_the_way(place: str, path: Path | None) -> StoreError:
    blocker = _blocker(path) if path is not None else None
    what = f"{blocker} is a file, not a folder" if blocker else "a path in it is not a folder"
    return StoreError(
        f"The index folder {place} cannot be used: {what} (a file is in the way). Move it, or "
        "set index_dir (RAG_INDEX_DIR) to another folder."
    )


def _index_dir_of(where: str | None) -> Path | None:
    """The index folder named by `describe()`'s text, for an embedded store."""
    if where and where.startswith(EMBEDDED_AT):
        return Path(where[len(EMBEDDED_AT) :]).parent
    return None


def _within(filename: Any, folder: Path) -> bool:
    try:
        p = Path(str(filename))
    except (TypeError, ValueError):
        return False
    return p == folder or folder in p.parents


def _squash(text: str) -> str:
    """chromadb's message on one line, without its "error returned from database: (code: N)"."""
    text = " ".join(text.split())
    return re.sub(r"^.*?error returned from database: \(code: \d+\)\s*", "", text) or text


def store_failure(
    e: BaseException, settings: Settings | None = None, where: str | None = None
) -> StoreError | None:
    """The StoreError that explains `e` as a failure of the store's files (a damaged database, a
    full disk, a read-only folder, a file in the way), or None when `e` is something else (let
    it rise as it is). Without `settings`, `where` is the store's `describe()`."""
    if isinstance(e, RagError):
        return None
    folder = Path(settings.index_dir) if settings is not None else _index_dir_of(where)
    if settings is not None:
        place = _location(settings)
    else:
        place = str(folder) if folder is not None else (where or "the index folder")
    if isinstance(e, OSError):
        if e.errno in _NO_SPACE_ERRNOS:
            return _no_space(place)
        # Without settings, only an error about a file of the index folder is the store's.
        if settings is None and (folder is None or not _within(e.filename, folder)):
            return None
        if e.errno in _READ_ONLY_ERRNOS:
            return _read_only(place, (e.strerror or str(e)).lower())
        if e.errno in _IN_THE_WAY_ERRNOS or isinstance(e, NotADirectoryError | FileExistsError):
            return _in_the_way(place, Path(str(e.filename)) if e.filename else folder)
        return None
    if not isinstance(e, ChromaError | sqlite3.Error):
        return None
    text = _squash(str(e))
    low = text.lower()
    if any(t in low for t in _DAMAGED_TEXT):
        return damaged(settings, f"{_DB}: {text}", where=place)
    if any(t in low for t in _NO_SPACE_TEXT):
        return _no_space(place)
    if any(t in low for t in _READ_ONLY_TEXT):
        return _read_only(place, text)
    if any(t in low for t in _WRITE_FAILED_TEXT):
        return _write_failed(place, text)
    if any(t in low for t in _UNUSABLE_TEXT):
        return StoreError(
            f"The index folder {place} cannot be used ({text}): check that it is a folder you "
            "can write to, or set index_dir (RAG_INDEX_DIR) to another folder."
        )
    return None


def _opening_failure(e: BaseException, settings: Settings) -> StoreError:
    """Any failure to open the embedded store, as a StoreError that names the folder."""
    found = store_failure(e, settings)
    if found is not None:
        return found
    return StoreError(
        f"The index at {_location(settings)} cannot be opened ({_squash(str(e))}): check the "
        "folder, or run `rag index --rebuild` to rebuild it from "
        f"{_sources_text(rebuild_sources(settings))}."
    )


def _client(settings: Settings) -> ClientAPI:
    chroma_settings = _chroma_settings()
    cfg = settings.store
    if cfg.mode == "embedded":
        return _embedded_client(settings, chroma_settings)
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


def _embedded_client(settings: Settings, chroma_settings: ChromaSettings) -> ClientAPI:
    path = chroma_dir(settings)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise _opening_failure(e, settings) from e
    _check_database(settings, path / "chroma.sqlite3")
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as e:
        _forget(path)  # chromadb keeps a client that failed to start, and would hand it back
        raise _opening_failure(e, settings) from e


@contextlib.contextmanager
def _opening(settings: Settings) -> Iterator[None]:
    """One process at a time opens an embedded store: the first open of a new folder creates
    its tables, and a second process doing the same at that moment fails ("table collections
    already exists"), as two `rag index` runs started together did. A server needs no lock."""
    if settings.store.mode != "embedded":
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(held(Path(settings.index_dir) / ".open.lock"))
        except OSError as e:
            # A folder this process may only read is opened as before (nothing is created in
            # it); anything else (a file in the way, a full disk) is the store's own message.
            if e.errno not in _READ_ONLY_ERRNOS:
                raise _opening_failure(e, settings) from e
        yield


def _check_database(settings: Settings, db: Path) -> None:
    """Refuse a database file that is not one, before chromadb touches it: an empty file would
    be silently made into a new, empty store."""
    try:
        with db.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except IsADirectoryError as e:
        raise damaged(settings, f"{_DB} is a folder, not a database file") from e
    except OSError as e:
        raise _opening_failure(e, settings) from e
    if not head:
        built = recorded_build(settings, describe(settings))
        if built is not None:
            chunks, when = built
            raise damaged(
                settings, f"{_DB} is an empty file, but {chunks} chunks were indexed on {when}"
            )
        return  # nothing was ever recorded here: chromadb makes it a new store
    if head != SQLITE_HEADER:
        raise damaged(settings, f"{_DB} is not a SQLite database: its header is garbled")


def _forget(path: Path, *, stop: bool = True) -> Any:
    """Drop chromadb's shared client for `path` (it keeps one per folder, even one whose start
    failed), so that the next client opens the folder afresh. `stop=False` leaves the old one
    working for whoever still holds it, and returns it."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(str(path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(path), None)
        if system is not None and stop:
            system.stop()
        return system
    except Exception:  # a chromadb without this cache: nothing to drop
        return None


RETIRE_AFTER_S = 60.0  # a call in flight on a replaced client ends well within this
_live_stores: weakref.WeakSet[Store] = weakref.WeakSet()


def _retire(system: Any) -> None:
    """Stop a replaced chromadb client once the calls in flight on it are done: until stopped
    it keeps its copy of the vectors in memory (a few MB per reopen at 685 chunks)."""

    def stop() -> None:
        with contextlib.suppress(Exception):  # already stopped, or half started: nothing to free
            system.stop()

    timer = threading.Timer(RETIRE_AFTER_S, stop)
    timer.daemon = True
    timer.start()


HNSW_SYNC_THRESHOLD = 100  # Chroma's batch size: each written batch reaches the graph file


class _GuardedCollection:
    """The Chroma collection, each call of which turns a failure of the store's files (a disk
    that fills up, a database damaged under a running session) into a StoreError that says what
    to do. Everything else passes through unchanged."""

    _GUARDED = frozenset(
        {"count", "get", "query", "add", "upsert", "update", "delete", "peek", "modify"}
    )

    def __init__(self, collection: Collection, settings: Settings) -> None:
        self._collection = collection
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if name not in self._GUARDED:
            return attr
        return self._guard(attr)

    def _guard(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except Exception as e:
                failure = store_failure(e, self._settings)
                if failure is None:
                    raise
                raise failure from e

        return call


class Store:
    """One Chroma collection, tagged with the embedding model that filled it.

    Opening it checks it (`verify`): a store found empty although the manifest records a build is
    a DamagedIndexError. Only a rebuild opens it with `verify=False`."""

    def __init__(self, settings: Settings, *, verify: bool = True) -> None:
        self.settings = settings
        self.embedding = embedding_id(settings.embedding)
        with _opening(settings):
            self.client = _client(settings)
            self.collection = self._open()
        self._stamped: set[str] = set()  # metadata values this process wrote (update_metadata)
        _live_stores.add(self)
        if verify:
            self.verify()

    def wrote(self, value: Any) -> bool:
        """Did this process write `value` into the collection's metadata (a version stamp)?"""
        return str(value) in self._stamped

    def reopen(self) -> None:
        """Open an embedded store afresh after another process wrote to it (`rag index`, or
        `rag index --watch` beside a server): chromadb keeps the vectors in memory per process
        and does not see another process's writes (a new chunk's vector: "Error finding id";
        a deleted chunk: still found). The old client is not stopped: a request in flight, or
        another collection's store in this process, may still hold it. A Chroma server needs
        none of this."""
        if self.settings.store.mode != "embedded":
            return
        path = chroma_dir(self.settings)
        old = _forget(path, stop=False)
        # Every store of this process on that folder (other collections) shares the old client:
        # all move to the new one, and the old one is stopped once calls in flight are done.
        for store in [self, *(s for s in list(_live_stores) if s is not self)]:
            if store.settings.store.mode == "embedded" and chroma_dir(store.settings) == path:
                with _opening(store.settings):
                    store.client = _client(store.settings)
                    store.collection = store._open()
        if old is not None:
            _retire(old)

    @property
    def name(self) -> str:
        return self.settings.store.collection

    def describe(self) -> str:
        return describe(self.settings)

    def verify(self) -> None:
        """A store that holds nothing although the manifest records a build of it was emptied
        or replaced under us: reported, never silently rebuilt (only from the corpus, it would
        lose what was indexed from other folders)."""
        built = recorded_build(self.settings, self.describe())
        if built is not None and self.count() == 0:
            raise damaged(
                self.settings,
                f"it holds no chunks, but {built[0]} were indexed on {built[1]}",
            )

    def _open(self) -> Collection:
        try:
            col = self.client.get_or_create_collection(
                self.name,
                embedding_function=None,
                # The HNSW graph written to disk once 100 vectors wait, not 1000: below its sync
                # threshold Chroma rebuilds the graph in every new process, with a new random
                # layout, so one query found different neighbours run to run on the shipped
                # collection (chroma-core/chroma#2675)
                metadata={
                    "hnsw:space": "cosine",
                    "hnsw:sync_threshold": HNSW_SYNC_THRESHOLD,
                    "embedding_model": self.embedding,
                },
            )
        except Exception as e:
            found = store_failure(e, self.settings)
            if found is not None:
                raise found from e
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
        return cast(Collection, _GuardedCollection(col, self.settings))

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

    def fresh_metadata(self) -> dict[str, Any]:
        """The collection's metadata as the store holds it now (another process may have
        changed it since this one opened the collection): one metadata read."""
        try:
            col = self.client.get_collection(self.name, embedding_function=None)
        except Exception as e:
            found = store_failure(e, self.settings)
            if found is not None:
                raise found from e
            raise
        return dict(col.metadata or {})

    def update_metadata(self, changes: dict[str, Any]) -> None:
        """Set keys of the collection's metadata, keeping the others. Chroma (1.5) replaces the
        whole metadata on `modify` and refuses any `hnsw:` key there, even unchanged: those keys
        are left out of the new metadata; the distance they chose stays in the collection's
        configuration (`configuration_json["hnsw"]["space"]`), which `modify` does not touch."""
        meta = {k: v for k, v in self.fresh_metadata().items() if not k.startswith("hnsw:")}
        meta.update(changes)
        meta.setdefault("embedding_model", self.embedding)
        self.collection.modify(metadata=meta)
        self._stamped.update(str(v) for v in changes.values())

    def get_embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self.collection.get(ids=ids, include=["embeddings"])  # type: ignore[list-item]
        embs = got.get("embeddings")
        if embs is None:
            return {}
        return {i: list(map(float, e)) for i, e in zip(got["ids"], embs, strict=False)}


# -- the rebuild: the old store out of the way, nothing deleted ----------------------------------


def discard(settings: Settings) -> Path | None:
    """Take this collection out of the way of a rebuild; returns where its folder went.

    Embedded: the chroma folder is moved aside to `<index_dir>/chroma.damaged-<timestamp>`, so
    nothing is lost, unless it opens cleanly and holds other collections too: then only this
    collection is deleted (the others stay usable). Server: the collection is deleted."""
    name = settings.store.collection
    if settings.store.mode != "embedded":
        _delete_collection(_client(settings), name, settings)
        return None
    path = chroma_dir(settings)
    _forget(path)
    if not path.is_dir():
        return None
    others = _other_collections(settings, path)
    if others:
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        _delete_collection(client, name, settings)
        return None
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    aside = path.with_name(f"chroma.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"chroma.damaged-{stamp}-{n}")
    try:
        path.rename(aside)
    except OSError as e:
        raise _opening_failure(e, settings) from e
    return aside


def _chroma_settings() -> ChromaSettings:
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _other_collections(settings: Settings, path: Path) -> list[str]:
    """The names of the other collections in a sound embedded store; [] when it holds none or
    cannot be opened (then it is moved aside whole)."""
    try:
        with (path / "chroma.sqlite3").open("rb") as f:
            if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                return []
        client = chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
        names = [c.name for c in client.list_collections()]
    except Exception:
        _forget(path)
        return []
    return [n for n in names if n != settings.store.collection]


def _delete_collection(client: ClientAPI, name: str, settings: Settings) -> None:
    try:
        client.delete_collection(name)
    except Exception as e:
        if "does not exist" in str(e).lower() or type(e).__name__ == "NotFoundError":
            return  # nothing to delete
        raise _opening_failure(e, settings) from e


# -- the collections in the store ------------------------------------------------------------------


def stored_collections(settings: Settings) -> dict[str, int]:
    """Every collection the store holds, with its chunk count (rag/service/collections.py); {} for
    an embedded store not created yet (nothing is created here)."""
    if settings.store.mode == "embedded" and not (chroma_dir(settings) / "chroma.sqlite3").exists():
        return {}
    try:
        client = _client(settings)
        return {c.name: int(c.count()) for c in client.list_collections()}
    except (httpx.TransportError, ConnectionError) as e:
        raise StoreError(f"The vector store ({describe(settings)}) stopped answering: {e}") from e
