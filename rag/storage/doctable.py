"""The per-document table kept beside the store: what an index run needs to know of a document
without reading every chunk's metadata out of Chroma.

One SQLite file per collection, `<index_dir>/<collection>.docs.sqlite3`, holding per document its
content hash(es), its chunk ids (what the store and the lexical index hold of it), the files it
is listed in (`sources`, `paths`), and its chunk count; a `path -> document` table finds the
documents of a folder or file. An index run looks up only the documents it read and those
listed under the folders it walked, and changes only their rows: an update costs what it
touches, not the size of the collection (issue 26; 577 s for one document at 1M chunks before).

It is a cache of the store, never the record: it carries the lexical version stamp
(rag/storage/lexical.py) of the content it describes, and is trusted only while the collection
carries that same final stamp. A run stamps the collection `pending-…` before its first write
and writes the table after its new stamp, in one transaction, so a run killed at any point
leaves the table naming an older stamp than the collection's; the next run then rebuilds it from
the store (one scan of the metadata, logged), as it does for an index made before the table
existed, or written by another host.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = 1
_IN_CHUNK = 500  # parameters per `IN (...)` (SQLite allows 999 in old builds)

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS docs (
    doc_id TEXT PRIMARY KEY,
    hashes TEXT NOT NULL,
    chunk_ids TEXT NOT NULL,
    n_chunks INTEGER NOT NULL,
    sources TEXT NOT NULL,
    paths TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS doc_paths (
    path TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    PRIMARY KEY (path, doc_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_paths_by_doc ON doc_paths (doc_id);
"""


@dataclass
class DocEntry:
    """What the store holds of one document."""

    hashes: set[str] = field(default_factory=set)
    chunk_ids: list[str] = field(default_factory=list)
    n_chunks: int = 0
    sources: str = ""
    paths: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.hashes) == 1 and len(self.chunk_ids) == self.n_chunks > 0


def table_path(index_dir: str | Path, collection: str) -> Path:
    return Path(index_dir) / f"{collection}.docs.sqlite3"


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i : i + _IN_CHUNK]


class DocTable:
    """The table of one collection (see the module's docstring). Every call opens the file and
    closes it again: the indexer runs under its lock, from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reads = 0  # rows read (tests: an update reads only the documents it touches)

    @contextlib.contextmanager
    def _db(self, create: bool = False) -> Iterator[sqlite3.Connection]:
        if not create and not self.path.exists():
            raise FileNotFoundError(self.path)
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30.0)
        try:
            if create:
                con.executescript(_DDL)
            yield con
        finally:
            con.close()

    # -- reading ---------------------------------------------------------------------------------

    def version(self) -> str | None:
        """The lexical stamp of the content the table describes; None when there is no usable
        table (missing, of another schema, unreadable)."""
        try:
            with self._db() as con:
                rows = dict(con.execute("SELECT key, value FROM meta").fetchall())
        except (OSError, sqlite3.Error):
            return None
        if rows.get("schema") != str(SCHEMA):
            return None
        return rows.get("version") or None

    def get(self, doc_ids: Iterable[str]) -> dict[str, DocEntry]:
        """The entries of `doc_ids` that the table holds."""
        wanted = list(dict.fromkeys(doc_ids))
        out: dict[str, DocEntry] = {}
        with self._db() as con:
            for part in _chunks(wanted):
                marks = ",".join("?" * len(part))
                rows = con.execute(
                    "SELECT doc_id, hashes, chunk_ids, n_chunks, sources, paths FROM docs "
                    f"WHERE doc_id IN ({marks})",
                    list(part),
                ).fetchall()
                for doc_id, hashes, chunk_ids, n, sources, paths in rows:
                    out[doc_id] = DocEntry(
                        set(json.loads(hashes)), json.loads(chunk_ids), int(n), sources,
                        json.loads(paths),
                    )  # fmt: skip
                self.reads += len(rows)
        return out

    def under(self, roots: Iterable[str | Path]) -> set[str]:
        """The documents listed in at least one file that is, or lies under, one of `roots`."""
        found: set[str] = set()
        with self._db() as con:
            for root in roots:
                r = str(root)
                prefix = r if r.endswith("/") else r + "/"
                # [prefix, prefix with its last "/" raised to "0"): every path below the folder
                rows = con.execute(
                    "SELECT doc_id FROM doc_paths WHERE path = ? OR (path >= ? AND path < ?)",
                    (r, prefix, prefix[:-1] + "0"),
                ).fetchall()
                found.update(d for (d,) in rows)
        return found

    def listed_in(self, files: Iterable[str]) -> set[str]:
        """The documents listed in at least one of `files` (paths as the store records them)."""
        wanted = list(dict.fromkeys(files))
        found: set[str] = set()
        with self._db() as con:
            for part in _chunks(wanted):
                marks = ",".join("?" * len(part))
                rows = con.execute(
                    f"SELECT doc_id FROM doc_paths WHERE path IN ({marks})", list(part)
                ).fetchall()
                found.update(d for (d,) in rows)
        return found

    def count(self) -> int:
        with self._db() as con:
            return int(con.execute("SELECT COUNT(*) FROM docs").fetchone()[0])

    # -- writing ---------------------------------------------------------------------------------

    def replace_all(self, entries: Mapping[str, DocEntry], version: str) -> None:
        """The whole table: `entries` (what the store holds, read from it), of `version`."""
        with self._db(create=True) as con, con:
            con.execute("DELETE FROM docs")
            con.execute("DELETE FROM doc_paths")
            self._put(con, entries)
            self._set_version(con, version)

    def apply(self, upserts: Mapping[str, DocEntry], removed: Iterable[str], version: str) -> None:
        """One run's changes, in one transaction: `upserts` written, `removed` deleted, and the
        table marked as describing `version`."""
        with self._db(create=True) as con, con:
            gone = list(dict.fromkeys([*removed, *upserts]))
            for part in _chunks(gone):
                marks = ",".join("?" * len(part))
                con.execute(f"DELETE FROM docs WHERE doc_id IN ({marks})", list(part))
                con.execute(f"DELETE FROM doc_paths WHERE doc_id IN ({marks})", list(part))
            self._put(con, upserts)
            self._set_version(con, version)

    def invalidate(self) -> None:
        """Mark the table as describing no content (it is rebuilt by the next run)."""
        with contextlib.suppress(OSError, sqlite3.Error), self._db() as con, con:
            con.execute("DELETE FROM meta WHERE key = 'version'")

    @staticmethod
    def _put(con: sqlite3.Connection, entries: Mapping[str, DocEntry]) -> None:
        con.executemany(
            "INSERT INTO docs (doc_id, hashes, chunk_ids, n_chunks, sources, paths) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    doc_id,
                    json.dumps(sorted(e.hashes)),
                    json.dumps(e.chunk_ids),
                    e.n_chunks,
                    e.sources,
                    json.dumps(e.paths),
                )
                for doc_id, e in entries.items()
            ),
        )
        con.executemany(
            "INSERT OR IGNORE INTO doc_paths (path, doc_id) VALUES (?, ?)",
            ((p, doc_id) for doc_id, e in entries.items() for p in e.paths),
        )

    @staticmethod
    def _set_version(con: sqlite3.Connection, version: str) -> None:
        con.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [("schema", str(SCHEMA)), ("version", version)],
        )
