"""The one database behind the shared state (rag/state/): the engine, the schema with its
one-off migrations, and the transaction helper every repository uses. The repositories, one per
concern, hold their own SQL over a `StateDB`: claims.py (Slack events handled), answers.py (answers
the Slack buttons point at), logins.py (failed UI logins), feedback.py (ratings),
conversations.py (saved conversations) and quotas.py (LLM tokens used per caller and day). A table
added later is created on an existing database when it is first opened (`create_all`).

Two backends, over SQLAlchemy Core:

- **SQLite** (the default, zero setup): the file `settings.state_db` (`SQLiteStateDB`). It is
  in WAL mode, so readers do not wait for a writer; every write transaction takes the lock up
  front (BEGIN IMMEDIATE) and waits for another writer up to `timeout_s`.
- **PostgreSQL**, when `settings.state_url` (RAG_STATE_URL) is `postgresql://user:pw@host/db`
  (driver: psycopg 3), for several replicas on several hosts.

Every operation is one short transaction (`StateDB.tx`) on a pooled connection, so one database
object is safe to share between threads, and several processes (bots, UI replicas, a restarted
bot) may share one database. What must be atomic across processes is one statement. Trimming
old rows (`StateDB.trim`) is a separate statement that skips rows another transaction holds
(`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer at a time), so replicas never
deadlock on it.

A problem with the database (unwritable folder, damaged file, server unreachable, login refused)
is a one-line `StateError` naming the file or the URL (never its password) and what to do, never
a driver traceback.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Double,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, Connection, CursorResult, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from rag.core.errors import StateError
from rag.core.settings import Settings

_PURGE_BATCH = 1000  # rows trimmed per statement; the rest goes with the next write

# INTEGER PRIMARY KEY is SQLite's rowid (AUTOINCREMENT: never reused); BIGSERIAL on PostgreSQL.
_RowId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

seen_keys = Table(
    "seen_keys",
    metadata,
    Column("namespace", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("expires", Double, nullable=False),  # time.time() after which it may be claimed again
    Index("seen_keys_expires", "expires"),
)

answers = Table(
    "answers",
    metadata,
    Column("id", _RowId, primary_key=True, autoincrement=True),  # insertion order: keep newest N
    Column("key", Text, nullable=False, unique=True),
    Column("created", Double, nullable=False),
    Column("answer", Text, nullable=False),  # Answer.model_dump_json()
    sqlite_autoincrement=True,
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", _RowId, primary_key=True, autoincrement=True),
    Column("user", Text, nullable=False),
    Column("at", Double, nullable=False),
    Index("login_failures_user", "user", "at"),
    Index("login_failures_at", "at"),
    sqlite_autoincrement=True,
)

feedback = Table(
    "feedback",
    metadata,
    Column("id", _RowId, primary_key=True, autoincrement=True),
    Column("created", Double, nullable=False),
    Column("channel", Text, nullable=False),  # 'ui', 'slack', 'api'
    Column("rating", Integer, nullable=False),  # +1 helpful, -1 not helpful
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("abstained", Integer, nullable=False),
    Column("citations", Text, nullable=False),  # JSON list of Citation
    Column("user", Text),
    Column("comment", Text),
    sqlite_autoincrement=True,
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("created", Double, nullable=False),
    Column("updated", Double, nullable=False),
    Column("turns", Text, nullable=False),  # JSON list of dicts
    Index("conversations_owner", "owner", "updated"),
)

# LLM tokens used per owner and UTC day (rag/state/quotas.py, `quotas.llm_tokens_per_day`)
llm_token_use = Table(
    "llm_token_use",
    metadata,
    Column("owner", Text, primary_key=True),
    Column("day", Text, primary_key=True),  # YYYY-MM-DD, UTC
    Column("tokens", BigInteger, nullable=False),
)

# One-off data migrations already run on this database, by name
migrations = Table("migrations", metadata, Column("name", Text, primary_key=True))

# Serialises table creation between processes starting at once (PostgreSQL's CREATE TABLE IF
# NOT EXISTS is not safe against a concurrent one); any constant unique to this schema.
_SCHEMA_LOCK_ID = 0x7261_6773_7461_7465 & 0x7FFF_FFFF_FFFF_FFFF  # "ragstate"


_API_OWNERS = ("admin", "api")  # the identities the API gave before owners had a face


def _namespace_owners(conn: Connection) -> None:
    """Move conversations saved before owners were namespaced by face (rag/service/access.py
    `owner_key`): "admin", "api" and "token:<name>" were the API's, any other name a UI user's.
    A UI user who was called "admin" cannot be told apart from the admin token in old rows;
    they go to the API, the identity an attacker would have borrowed. Runs once per database
    (the `migrations` table), inside the schema transaction."""
    done = migrations.c.name == "owners-by-face"
    if conn.execute(select(migrations.c.name).where(done)).first() is not None:
        return
    conn.execute(insert(migrations).values(name="owners-by-face"))
    c = conversations.c
    legacy = ~(
        c.owner.startswith("api:") | c.owner.startswith("ui:") | c.owner.startswith("slack:")
    )
    api = c.owner.in_(_API_OWNERS) | c.owner.startswith("token:")
    conn.execute(update(conversations).where(legacy & api).values(owner="api:" + c.owner))
    conn.execute(update(conversations).where(legacy & ~api).values(owner="ui:" + c.owner))


def _one_line(e: BaseException) -> str:
    """The driver's own message (not SQLAlchemy's wrapper with the SQL), on one line."""
    inner = e.orig if isinstance(e, DBAPIError) and e.orig is not None else e
    text = " ".join(str(inner).split()) or type(inner).__name__
    return text if len(text) <= 300 else text[:297] + "…"


def _state_url(url: str | URL) -> URL:
    """`url` parsed, PostgreSQL URLs pointed at psycopg 3; a StateError (which never repeats
    the URL: it may hold a password) if it is not one this store can use."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StateError(
            "state_url (RAG_STATE_URL) is not a database URL; expected "
            "postgresql://user:password@host:5432/dbname."
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres") and parsed.drivername in (
        "postgresql",
        "postgres",
        "postgresql+psycopg",
    ):
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed
    raise StateError(
        f"state_url (RAG_STATE_URL) names {parsed.drivername!r}; the state store speaks "
        "postgresql://user:password@host:5432/dbname (psycopg 3) or sqlite:///path."
    )


def new_id(result: CursorResult[Any]) -> int:
    """The id the database gave the row just inserted."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:  # not reached: every table here has an integer id
        raise StateError("The state database did not return the new row's id.")
    return int(key[0])


class StateDB:
    """The state database, on SQLite or PostgreSQL; see the module docstring."""

    def __init__(
        self,
        url: str | URL,
        *,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = _state_url(url)
        self.timeout_s = timeout_s
        self.dialect = self.url.get_backend_name()  # "sqlite" or "postgresql"
        self.engine = self._engine()
        self._create()

    # -- the database -----------------------------------------------------------------------

    def describe(self) -> str:
        """The database, for messages: the URL with its password hidden."""
        shown = self.url.set(drivername=self.dialect)
        return shown.render_as_string(hide_password=True)

    def _hint(self) -> str:
        if self.dialect == "sqlite":
            return "Check that its folder is writable and the file is not damaged."
        return (
            "Check that PostgreSQL is running and reachable there, the user name and password, "
            "and that the database exists; or unset state_url (RAG_STATE_URL) to use the "
            "SQLite file."
        )

    def _error(self, e: BaseException) -> StateError:
        """One line naming the database, the cause and the way out; never the password."""
        reason = _one_line(e)
        password = self.url.password
        if password:
            reason = reason.replace(str(password), "***")
        return StateError(
            f"Cannot use the state database {self.describe()} ({reason}). {self._hint()}"
        )

    def _engine(self) -> Engine:
        if self.dialect == "postgresql":
            return create_engine(
                self.url,
                connect_args={
                    "connect_timeout": max(1, math.ceil(self.timeout_s)),
                    "application_name": "rag-assistant",
                },
                pool_pre_ping=True,  # a restarted server: reconnect instead of failing once
                pool_size=5,
                max_overflow=5,
                hide_parameters=True,
            )
        engine = create_engine(
            self.url, connect_args={"timeout": self.timeout_s}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _no_driver_transactions(dbapi_connection: Any, record: Any) -> None:
            # sqlite3 would BEGIN (deferred) on its own before DML; `_begin` does it instead.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # A write takes the lock up front, so a read-then-write is atomic across
            # processes; a read does not block anyone (WAL).
            write = not conn.get_execution_options().get("rag_read_only", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _create(self) -> None:
        """WAL mode (SQLite) and the tables, once; fail early with a clear message."""
        try:
            with self.engine.connect() as conn:
                if self.dialect == "sqlite":
                    # Outside a transaction (the mode cannot change inside one); it is recorded
                    # in the file, so every opener then uses it.
                    conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                        "PRAGMA journal_mode=WAL"
                    )
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK_ID)))
                    metadata.create_all(conn)
                    _namespace_owners(conn)
        except (SQLAlchemyError, sqlite3.Error, OSError) as e:
            self.engine.dispose()
            raise self._error(e) from None

    def close(self) -> None:
        """Close the pooled connections (the database opens new ones if used again)."""
        self.engine.dispose()

    @contextmanager
    def tx(self, write: bool = True) -> Iterator[Connection]:
        """One pooled connection and one transaction, committed at the end of the block."""
        try:
            with self.engine.connect() as conn:
                if not write:
                    conn.execution_options(rag_read_only=True)
                with conn.begin():
                    yield conn
        except (SQLAlchemyError, sqlite3.Error) as e:
            raise self._error(e) from None

    def insert(self, table: Table) -> Any:
        """INSERT with this dialect's ON CONFLICT clauses."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite_dialect.insert(table)

    def trim(self, table: Table, where: ColumnElement[bool]) -> None:
        """Delete rows matching `where`, a batch at a time, skipping rows another transaction
        has locked (so two replicas trimming at once never wait on, or deadlock with, each
        other); SQLite renders no FOR UPDATE and has one writer at a time anyway."""
        keys = list(table.primary_key.columns)
        batch = select(*keys).where(where).limit(_PURGE_BATCH).with_for_update(skip_locked=True)
        target = keys[0] if len(keys) == 1 else tuple_(*keys)
        with self.tx() as conn:
            conn.execute(delete(table).where(target.in_(batch)))


class SQLiteStateDB(StateDB):
    """`StateDB` in the SQLite file `path` (created with its folder)."""

    def __init__(
        self,
        path: Path | str,
        *,
        timeout_s: float = 10.0,
    ) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StateError(self._file_message(_one_line(e))) from None
        super().__init__(URL.create("sqlite", database=str(self.path)), timeout_s=timeout_s)

    def _file_message(self, reason: str) -> str:
        return (
            f"Cannot use the state database {self.path} ({reason}). Make its folder writable, "
            "move a damaged file aside, or set state_db (RAG_STATE_DB) to another file."
        )

    def _error(self, e: BaseException) -> StateError:
        return StateError(self._file_message(_one_line(e)))


def open_state(settings: Settings) -> StateDB:
    """The state database the settings name: PostgreSQL (or another URL) when `state_url` is set,
    else the SQLite file `state_db`."""
    url = settings.state_url.get_secret_value().strip() if settings.state_url else ""
    if url:
        return StateDB(url)
    return SQLiteStateDB(settings.state_db)
