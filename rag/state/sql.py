"""The small shared state that must outlive a process: which Slack events were handled, the
answers the Slack buttons point at, recent failed UI logins, the thumbs up / down ratings
(rag/state/feedback.py) and saved conversations.

One implementation, `SQLStateStore`, over SQLAlchemy Core, serves two backends:

- **SQLite** (the default, zero setup): the file `settings.state_db` (`SQLiteStateStore`). It is
  in WAL mode, so readers do not wait for a writer; every write transaction takes the lock up
  front (BEGIN IMMEDIATE) and waits for another writer up to `timeout_s`.
- **PostgreSQL**, when `settings.state_url` (RAG_STATE_URL) is `postgresql://user:pw@host/db`
  (driver: psycopg 3), for several replicas on several hosts.

Every operation is one short transaction on a pooled connection, so one store is safe to share
between threads, and several processes (bots, UI replicas, a restarted bot) may share one
database. What must be atomic across processes is one statement: a claim is an
`INSERT … ON CONFLICT DO UPDATE … WHERE expired`, a conversation save an upsert guarded by its
owner. Trimming old rows (expired keys, answers and login failures beyond the caps) is a
separate statement that skips rows another transaction holds (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite has one writer at a time), so replicas never deadlock on it.

A problem with the database (unwritable folder, damaged file, server unreachable, login refused)
is a one-line `StateError` naming the file or the URL (never its password) and what to do, never
a driver traceback. Callers depend on the `StateStore` protocol only.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError
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
from rag.core.types import Answer, Conversation, ConversationSummary

log = logging.getLogger(__name__)

# Failed logins of all users together may reach this many times the per-user limit before every
# login is refused: trying a few passwords on each of many usernames is limited too.
GLOBAL_LOGIN_FACTOR = 10

_MAX_USER_CHARS = 256  # a username is attacker-chosen: store a bounded prefix
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


class StateStore(Protocol):
    """What the faces need from the shared state; implemented by `SQLStateStore`."""

    def claim(self, namespace: str, key: str, ttl_s: float) -> bool: ...

    def put_answer(self, answer: Answer) -> str: ...

    def get_answer(self, key: str) -> Answer | None: ...

    def record_login_failure(self, user: str) -> None: ...

    def login_blocked(self, user: str, max_failures: int, window_s: float) -> bool: ...

    def clear_login_failures(self, user: str) -> None: ...

    def record_feedback(
        self,
        answer: Answer,
        rating: int,
        channel: str,
        user: str | None = None,
        comment: str | None = None,
    ) -> int: ...

    def feedback_rows(self) -> list[dict[str, Any]]: ...

    def feedback_counts(self) -> list[tuple[str, int, int]]: ...

    def save_conversation(
        self, conv_id: str | None, owner: str, title: str, turns: list[dict[str, Any]]
    ) -> str: ...

    def list_conversations(self, owner: str) -> list[ConversationSummary]: ...

    def get_conversation(self, conv_id: str, owner: str) -> Conversation | None: ...

    def rename_conversation(self, conv_id: str, owner: str, title: str) -> bool: ...

    def delete_conversation(self, conv_id: str, owner: str) -> bool: ...


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


def _new_id(result: CursorResult[Any]) -> int:
    """The id the database gave the row just inserted."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:  # not reached: every table here has an integer id
        raise StateError("The state database did not return the new row's id.")
    return int(key[0])


class SQLStateStore:
    """`StateStore` over SQLAlchemy Core, on SQLite or PostgreSQL; see the module docstring."""

    def __init__(
        self,
        url: str | URL,
        *,
        timeout_s: float = 10.0,
        max_answers: int = 10_000,
        max_login_failures: int = 10_000,
    ) -> None:
        self.url = _state_url(url)
        self.timeout_s = timeout_s
        self.max_answers = max_answers
        self.max_login_failures = max_login_failures  # rows kept, whatever the window
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
        """Close the pooled connections (the store opens new ones if used again)."""
        self.engine.dispose()

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[Connection]:
        """One pooled connection and one transaction, committed at the end of the block."""
        try:
            with self.engine.connect() as conn:
                if not write:
                    conn.execution_options(rag_read_only=True)
                with conn.begin():
                    yield conn
        except (SQLAlchemyError, sqlite3.Error) as e:
            raise self._error(e) from None

    def _insert(self, table: Table) -> Any:
        """INSERT with this dialect's ON CONFLICT clauses."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite_dialect.insert(table)

    def _trim(self, table: Table, where: ColumnElement[bool]) -> None:
        """Delete rows matching `where`, a batch at a time, skipping rows another transaction
        has locked (so two replicas trimming at once never wait on, or deadlock with, each
        other); SQLite renders no FOR UPDATE and has one writer at a time anyway."""
        keys = list(table.primary_key.columns)
        batch = select(*keys).where(where).limit(_PURGE_BATCH).with_for_update(skip_locked=True)
        target = keys[0] if len(keys) == 1 else tuple_(*keys)
        with self._tx() as conn:
            conn.execute(delete(table).where(target.in_(batch)))

    # -- seen keys --------------------------------------------------------------------------

    def claim(self, namespace: str, key: str, ttl_s: float) -> bool:
        """True only for the first caller of (namespace, key) within `ttl_s` seconds, in any
        process, before or after a restart. Used to handle a Slack event exactly once.

        One statement: insert the key, or take over an expired one; a live key is left alone
        (no row changed), whoever else is claiming it at the same moment."""
        now = time.time()
        self._trim(seen_keys, seen_keys.c.expires <= now)
        stmt = self._insert(seen_keys).values(namespace=namespace, key=key, expires=now + ttl_s)
        stmt = stmt.on_conflict_do_update(
            index_elements=[seen_keys.c.namespace, seen_keys.c.key],
            set_={"expires": stmt.excluded.expires},
            where=seen_keys.c.expires <= now,
        ).execution_options(preserve_rowcount=True)  # rows changed: 1 claimed, 0 not
        with self._tx() as conn:
            return int(conn.execute(stmt).rowcount) == 1

    # -- answers ----------------------------------------------------------------------------

    def put_answer(self, answer: Answer) -> str:
        """Keep `answer` under a new random key (for a button whose value cannot hold it); only
        the newest `max_answers` are kept."""
        key = uuid.uuid4().hex
        row = {"key": key, "created": time.time(), "answer": answer.model_dump_json()}
        with self._tx() as conn:
            newest = _new_id(conn.execute(answers.insert().values(**row)))
        self._trim(answers, answers.c.id <= newest - self.max_answers)
        return key

    def get_answer(self, key: str) -> Answer | None:
        """The answer kept under `key`; None when unknown, evicted, or unreadable (written by a
        version whose Answer differed), which the caller reports as expired."""
        with self._tx(write=False) as conn:
            text = conn.execute(select(answers.c.answer).where(answers.c.key == key)).scalar()
        if text is None:
            return None
        try:
            return Answer.model_validate_json(text)
        except ValidationError:
            log.warning("stored answer %s is unreadable; treating it as expired", key)
            return None

    # -- login attempts ---------------------------------------------------------------------

    def record_login_failure(self, user: str) -> None:
        """Note one wrong password for `user` now; only the newest `max_login_failures` rows
        are kept, so guessing cannot grow the database without bound."""
        row = {"user": user[:_MAX_USER_CHARS], "at": time.time()}
        with self._tx() as conn:
            newest = _new_id(conn.execute(login_failures.insert().values(**row)))
        self._trim(login_failures, login_failures.c.id <= newest - self.max_login_failures)

    def login_blocked(self, user: str, max_failures: int, window_s: float) -> bool:
        """True while `user` has `max_failures` failures within the last `window_s` seconds, or
        all users together have GLOBAL_LOGIN_FACTOR times as many."""
        since = time.time() - window_s
        recent = select(func.count()).select_from(login_failures).where(login_failures.c.at > since)
        with self._tx(write=False) as conn:
            mine = conn.execute(
                recent.where(login_failures.c.user == user[:_MAX_USER_CHARS])
            ).scalar_one()
            everyone = conn.execute(recent).scalar_one()
        return mine >= max_failures or everyone >= max_failures * GLOBAL_LOGIN_FACTOR

    def clear_login_failures(self, user: str) -> None:
        """Forget `user`'s failures (after a successful login)."""
        with self._tx() as conn:
            conn.execute(
                delete(login_failures).where(login_failures.c.user == user[:_MAX_USER_CHARS])
            )

    # -- feedback ---------------------------------------------------------------------------

    def record_feedback(
        self,
        answer: Answer,
        rating: int,
        channel: str,
        user: str | None = None,
        comment: str | None = None,
    ) -> int:
        """Store one rating (+1 or -1) of an answer; returns the row id."""
        if rating not in (1, -1):
            raise ValueError("rating must be +1 (helpful) or -1 (not helpful)")
        row = {
            "created": time.time(),
            "channel": channel,
            "rating": rating,
            "question": answer.question,
            "answer": answer.text,
            "abstained": int(answer.abstained),
            "citations": json.dumps([c.model_dump() for c in answer.citations]),
            "user": user,
            "comment": comment,
        }
        with self._tx() as conn:
            return _new_id(conn.execute(feedback.insert().values(**row)))

    def feedback_counts(self) -> list[tuple[str, int, int]]:
        """(channel, rating, how many) over every rating stored (for /metrics)."""
        query = select(feedback.c.channel, feedback.c.rating, func.count()).group_by(
            feedback.c.channel, feedback.c.rating
        )
        with self._tx(write=False) as conn:
            return [(str(c), int(r), int(n)) for c, r, n in conn.execute(query).all()]

    def feedback_rows(self) -> list[dict[str, Any]]:
        """Every rating, oldest first: the table's columns, `citations` decoded and
        `abstained` a bool."""
        with self._tx(write=False) as conn:
            rows = conn.execute(select(feedback).order_by(feedback.c.id)).mappings().all()
        out = []
        for r in rows:
            d = dict(r)
            d["citations"] = json.loads(d["citations"])
            d["abstained"] = bool(d["abstained"])
            out.append(d)
        return out

    # -- conversations ----------------------------------------------------------------------

    def save_conversation(
        self, conv_id: str | None, owner: str, title: str, turns: list[dict[str, Any]]
    ) -> str:
        """Create (`conv_id` None: a new id) or replace `owner`'s conversation; returns its id.
        Replacing keeps `created` and sets `updated`. An id that belongs to another owner is a
        StateError and nothing is written (the same message as for any id: nothing leaks)."""
        conv_id = conv_id or uuid.uuid4().hex
        now = time.time()
        stmt = self._insert(conversations).values(
            id=conv_id,
            owner=owner,
            title=title,
            created=now,
            updated=now,
            turns=json.dumps(turns, ensure_ascii=False),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[conversations.c.id],
            set_={
                "title": stmt.excluded.title,
                "turns": stmt.excluded.turns,
                "updated": stmt.excluded.updated,
            },
            where=conversations.c.owner == stmt.excluded.owner,
        ).execution_options(preserve_rowcount=True)  # 0: another owner's id
        with self._tx() as conn:
            saved = int(conn.execute(stmt).rowcount) == 1
        if not saved:
            raise StateError(f"Cannot save conversation {conv_id!r}: it is not one of yours.")
        return conv_id

    def list_conversations(self, owner: str) -> list[ConversationSummary]:
        """`owner`'s conversations, the most recently saved first."""
        c = conversations.c
        query = (
            select(c.id, c.title, c.created, c.updated)
            .where(c.owner == owner)
            .order_by(c.updated.desc(), c.created.desc(), c.id)
        )
        with self._tx(write=False) as conn:
            rows = conn.execute(query).mappings().all()
        return [ConversationSummary.model_validate(dict(r)) for r in rows]

    def get_conversation(self, conv_id: str, owner: str) -> Conversation | None:
        """The conversation with its turns; None if there is none with that id for `owner`."""
        c = conversations.c
        query = select(conversations).where(c.id == conv_id, c.owner == owner)
        with self._tx(write=False) as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return Conversation.model_validate({**row, "turns": json.loads(row["turns"])})

    def rename_conversation(self, conv_id: str, owner: str, title: str) -> bool:
        """Give `owner`'s conversation a new title (its place in the list does not change);
        False if there is none with that id for `owner`."""
        c = conversations.c
        stmt = update(conversations).where(c.id == conv_id, c.owner == owner).values(title=title)
        with self._tx() as conn:
            return int(conn.execute(stmt).rowcount) == 1

    def delete_conversation(self, conv_id: str, owner: str) -> bool:
        """Delete `owner`'s conversation; False if there is none with that id for `owner`."""
        c = conversations.c
        stmt = delete(conversations).where(c.id == conv_id, c.owner == owner)
        with self._tx() as conn:
            return int(conn.execute(stmt).rowcount) == 1


class SQLiteStateStore(SQLStateStore):
    """`SQLStateStore` in the SQLite file `path` (created with its folder)."""

    def __init__(
        self,
        path: Path | str,
        *,
        timeout_s: float = 10.0,
        max_answers: int = 10_000,
        max_login_failures: int = 10_000,
    ) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StateError(self._file_message(_one_line(e))) from None
        super().__init__(
            URL.create("sqlite", database=str(self.path)),
            timeout_s=timeout_s,
            max_answers=max_answers,
            max_login_failures=max_login_failures,
        )

    def _file_message(self, reason: str) -> str:
        return (
            f"Cannot use the state database {self.path} ({reason}). Make its folder writable, "
            "move a damaged file aside, or set state_db (RAG_STATE_DB) to another file."
        )

    def _error(self, e: BaseException) -> StateError:
        return StateError(self._file_message(_one_line(e)))


def open_state(settings: Settings) -> StateStore:
    """The state store the settings name: PostgreSQL (or another URL) when `state_url` is set,
    else the SQLite file `state_db`."""
    url = settings.state_url.get_secret_value().strip() if settings.state_url else ""
    if url:
        return SQLStateStore(url)
    return SQLiteStateStore(settings.state_db)
