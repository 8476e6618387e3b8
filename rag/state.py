"""The small shared state that must outlive a process: which Slack events were handled, the
answers the Slack buttons point at, and recent failed UI logins.

It lives in one SQLite file (`settings.state_db`, the file rag/feedback.py keeps its ratings in,
in tables of its own). Every operation opens its own connection and its own transaction, so the
store is safe to share between threads and between processes (several bots, a restarted bot);
the file is in WAL mode, so readers do not wait for a writer, and a writer waits for another up to
`timeout_s`. A problem with the file (unwritable folder, a path under a regular file, a damaged
file) is a `StateError` naming the file and what to do, never a sqlite3 traceback.

Callers depend on the `StateStore` protocol only, so that another backend (PostgreSQL, for
several hosts) can be added beside `SQLiteStateStore` without touching them.
"""

from __future__ import annotations

import logging
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from rag.errors import StateError
from rag.settings import Settings
from rag.types import Answer

log = logging.getLogger(__name__)

# Failed logins of all users together may reach this many times the per-user limit before every
# login is refused: trying a few passwords on each of many usernames is limited too.
GLOBAL_LOGIN_FACTOR = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_keys (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    expires REAL NOT NULL,          -- time.time() after which the key may be claimed again
    PRIMARY KEY (namespace, key)
);
CREATE INDEX IF NOT EXISTS seen_keys_expires ON seen_keys (expires);
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- insertion order, for keeping the newest N
    key TEXT NOT NULL UNIQUE,
    created REAL NOT NULL,
    answer TEXT NOT NULL                    -- Answer.model_dump_json()
);
CREATE TABLE IF NOT EXISTS login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_user ON login_failures (user, at);
CREATE INDEX IF NOT EXISTS login_failures_at ON login_failures (at);
"""

_MAX_USER_CHARS = 256  # a username is attacker-chosen: store a bounded prefix


class StateStore(Protocol):
    """What the faces need from the shared state; implemented by each backend."""

    def claim(self, namespace: str, key: str, ttl_s: float) -> bool: ...

    def put_answer(self, answer: Answer) -> str: ...

    def get_answer(self, key: str) -> Answer | None: ...

    def record_login_failure(self, user: str) -> None: ...

    def login_blocked(self, user: str, max_failures: int, window_s: float) -> bool: ...

    def clear_login_failures(self, user: str) -> None: ...


class SQLiteStateStore:
    """`StateStore` in one SQLite file; see the module docstring for why it is built this way."""

    def __init__(
        self,
        path: Path,
        *,
        timeout_s: float = 10.0,
        max_answers: int = 10_000,
        max_login_failures: int = 10_000,
    ) -> None:
        self.path = Path(path)
        self.timeout_s = timeout_s
        self.max_answers = max_answers
        self.max_login_failures = max_login_failures  # rows kept, whatever the window
        self._create()

    # -- the file ---------------------------------------------------------------------------

    def _error(self, e: BaseException) -> StateError:
        """One line naming the file, the cause and the way out."""
        reason = str(e).strip() or type(e).__name__
        return StateError(
            f"Cannot use the state database {self.path} ({reason}). Make its folder writable, "
            "move a damaged file aside, or set state_db (RAG_STATE_DB) to another file."
        )

    def _create(self) -> None:
        """Create the folder, the tables and WAL mode once; fail early with a clear message."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise self._error(e) from None
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        except sqlite3.Error as e:
            raise self._error(e) from None
        try:
            db.execute("PRAGMA journal_mode=WAL")  # recorded in the file: every opener uses it
            db.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise self._error(e) from None
        finally:
            db.close()

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One connection and one transaction; a write takes the lock up front (BEGIN
        IMMEDIATE), so a read-then-write such as `claim` is atomic across processes."""
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        except sqlite3.Error as e:
            raise self._error(e) from None
        try:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield db
            db.execute("COMMIT")
        except sqlite3.Error as e:
            if db.in_transaction:
                db.rollback()
            raise self._error(e) from None
        except BaseException:
            if db.in_transaction:
                db.rollback()
            raise
        finally:
            db.close()

    # -- seen keys --------------------------------------------------------------------------

    def claim(self, namespace: str, key: str, ttl_s: float) -> bool:
        """True only for the first caller of (namespace, key) within `ttl_s` seconds, in any
        process, before or after a restart. Used to handle a Slack event exactly once."""
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM seen_keys WHERE expires <= ?", (now,))
            cur = db.execute(
                "INSERT OR IGNORE INTO seen_keys (namespace, key, expires) VALUES (?, ?, ?)",
                (namespace, key, now + ttl_s),
            )
            return cur.rowcount == 1

    # -- answers ----------------------------------------------------------------------------

    def put_answer(self, answer: Answer) -> str:
        """Keep `answer` under a new random key (for a button whose value cannot hold it); only
        the newest `max_answers` are kept."""
        key = uuid.uuid4().hex
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO answers (key, created, answer) VALUES (?, ?, ?)",
                (key, time.time(), answer.model_dump_json()),
            )
            newest = int(cur.lastrowid or 0)
            db.execute("DELETE FROM answers WHERE id <= ?", (newest - self.max_answers,))
        return key

    def get_answer(self, key: str) -> Answer | None:
        """The answer kept under `key`; None when unknown, evicted, or unreadable (written by a
        version whose Answer differed), which the caller reports as expired."""
        with self._tx(write=False) as db:
            row = db.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return Answer.model_validate_json(row[0])
        except ValidationError:
            log.warning("stored answer %s is unreadable; treating it as expired", key)
            return None

    # -- login attempts ---------------------------------------------------------------------

    def record_login_failure(self, user: str) -> None:
        """Note one wrong password for `user` now; only the newest `max_login_failures` rows
        are kept, so guessing cannot grow the file without bound."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO login_failures (user, at) VALUES (?, ?)",
                (user[:_MAX_USER_CHARS], time.time()),
            )
            newest = int(cur.lastrowid or 0)
            oldest_kept = newest - self.max_login_failures
            db.execute("DELETE FROM login_failures WHERE id <= ?", (oldest_kept,))

    def login_blocked(self, user: str, max_failures: int, window_s: float) -> bool:
        """True while `user` has `max_failures` failures within the last `window_s` seconds, or
        all users together have GLOBAL_LOGIN_FACTOR times as many."""
        since = time.time() - window_s
        with self._tx(write=False) as db:
            mine = db.execute(
                "SELECT COUNT(*) FROM login_failures WHERE user = ? AND at > ?",
                (user[:_MAX_USER_CHARS], since),
            ).fetchone()[0]
            everyone = db.execute(
                "SELECT COUNT(*) FROM login_failures WHERE at > ?", (since,)
            ).fetchone()[0]
        return mine >= max_failures or everyone >= max_failures * GLOBAL_LOGIN_FACTOR

    def clear_login_failures(self, user: str) -> None:
        """Forget `user`'s failures (after a successful login)."""
        with self._tx() as db:
            db.execute("DELETE FROM login_failures WHERE user = ?", (user[:_MAX_USER_CHARS],))


def open_state(settings: Settings) -> StateStore:
    """The state store the settings name (SQLite today; the place to choose another backend)."""
    return SQLiteStateStore(settings.state_db)
