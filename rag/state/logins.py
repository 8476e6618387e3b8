"""Recent failed UI logins, per user and for everyone together, in the shared state database
(rag/state/engine.py), so that every UI replica counts the same failures."""

from __future__ import annotations

import time

from sqlalchemy import delete, func, select

from rag.state.engine import StateDB, login_failures, new_id

# Failed logins of all users together may reach this many times the per-user limit before every
# login is refused: trying a few passwords on each of many usernames is limited too.
GLOBAL_LOGIN_FACTOR = 10

_MAX_USER_CHARS = 256  # a username is attacker-chosen: store a bounded prefix


class LoginFailures:
    """Failed logins over a `StateDB`; only the newest `max_rows` are kept, whatever the
    window, so guessing cannot grow the database without bound."""

    def __init__(self, db: StateDB, max_rows: int = 10_000) -> None:
        self.db = db
        self.max_rows = max_rows

    def record(self, user: str) -> None:
        """Note one wrong password for `user` now."""
        row = {"user": user[:_MAX_USER_CHARS], "at": time.time()}
        with self.db.tx() as conn:
            newest = new_id(conn.execute(login_failures.insert().values(**row)))
        self.db.trim(login_failures, login_failures.c.id <= newest - self.max_rows)

    def blocked(self, user: str, max_failures: int, window_s: float) -> bool:
        """True while `user` has `max_failures` failures within the last `window_s` seconds, or
        all users together have GLOBAL_LOGIN_FACTOR times as many."""
        since = time.time() - window_s
        recent = select(func.count()).select_from(login_failures).where(login_failures.c.at > since)
        with self.db.tx(write=False) as conn:
            mine = conn.execute(
                recent.where(login_failures.c.user == user[:_MAX_USER_CHARS])
            ).scalar_one()
            everyone = conn.execute(recent).scalar_one()
        return mine >= max_failures or everyone >= max_failures * GLOBAL_LOGIN_FACTOR

    def clear(self, user: str) -> None:
        """Forget `user`'s failures (after a successful login)."""
        with self.db.tx() as conn:
            conn.execute(
                delete(login_failures).where(login_failures.c.user == user[:_MAX_USER_CHARS])
            )
