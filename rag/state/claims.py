"""Slack events already handled: a key claimed in a namespace, for a while, in the shared state
database (rag/state/engine.py), so that a retried or duplicated event is answered once, by one
process, restarts included."""

from __future__ import annotations

import time

from rag.state.engine import StateDB, seen_keys


class Claims:
    """Claims of (namespace, key) that expire, over a `StateDB`."""

    def __init__(self, db: StateDB) -> None:
        self.db = db

    def claim(self, namespace: str, key: str, ttl_s: float) -> bool:
        """True only for the first caller of (namespace, key) within `ttl_s` seconds, in any
        process, before or after a restart. Used to handle a Slack event exactly once.

        One statement: insert the key, or take over an expired one; a live key is left alone
        (no row changed), whoever else is claiming it at the same moment."""
        now = time.time()
        self.db.trim(seen_keys, seen_keys.c.expires <= now)
        stmt = self.db.insert(seen_keys).values(namespace=namespace, key=key, expires=now + ttl_s)
        stmt = stmt.on_conflict_do_update(
            index_elements=[seen_keys.c.namespace, seen_keys.c.key],
            set_={"expires": stmt.excluded.expires},
            where=seen_keys.c.expires <= now,
        ).execution_options(preserve_rowcount=True)  # rows changed: 1 claimed, 0 not
        with self.db.tx() as conn:
            return int(conn.execute(stmt).rowcount) == 1
