"""The app's state, on `app.state` (set by `create_app`), reached by the handlers through these
small dependencies: the settings, the pool of collections, the grants (`Access`), the collection
a caller may use, and the conversation store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import Depends, FastAPI, Request

from rag.api.schemas import MODEL_ID
from rag.core.settings import Settings
from rag.core.types import IndexStatus
from rag.ingest.library import Library
from rag.service.access import ALL, Access, Principal, owner_key
from rag.service.collections import Collections, RemoteCollections
from rag.service.links import LinkSigner, link_signer
from rag.service.quotas import Quotas
from rag.state.conversations import Conversations

Pool = Collections | RemoteCollections

# Who the admin router acts as: the admin token, every collection.
ROOT = Principal(owner_key("api", "admin"), frozenset({ALL}), admin=True)


def init_state(app: FastAPI, settings: Settings, pool: Pool) -> None:
    """Put what the handlers need on `app.state`; the conversation store opens on first use."""
    app.state.settings = settings
    app.state.pool = pool
    app.state.access = Access(settings)
    app.state.quotas = Quotas(settings)
    app.state.links = link_signer(settings)  # signs source links when tokens are on
    app.state.conversations = None
    app.state.conversations_lock = threading.Lock()


def default_status(pool: Pool) -> IndexStatus:
    """The default collection's index status (what /metrics reports, rag/service/observe.py)."""
    return pool.get(None).status()  # type: ignore[no-any-return]


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_pool(request: Request) -> Pool:
    return request.app.state.pool  # type: ignore[no-any-return]


def get_access(request: Request) -> Access:
    return request.app.state.access  # type: ignore[no-any-return]


def get_quotas(request: Request) -> Quotas:
    return request.app.state.quotas  # type: ignore[no-any-return]


def get_links(request: Request) -> LinkSigner | None:
    """The link signer (rag/service/links.py); None when tokens are off."""
    return request.app.state.links  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Scope:
    """The pool as a caller may reach it: the collections its grants allow."""

    pool: Pool
    access: Access

    def collection(self, principal: Principal, requested: str | None) -> str:
        """The collection a request may use (`model` "rag", the name clients used before
        collections: the default one); the same 404 for a missing and a forbidden one."""
        return self.access.resolve(
            principal, None if requested == MODEL_ID else requested, self.pool
        )

    def assistant(self, principal: Principal, requested: str | None) -> Any:
        return self.pool.get(self.collection(principal, requested))

    def library(self, requested: str | None) -> Library:
        """A collection's uploads, as the admin (the documents routes need the admin token)."""
        return self.pool.library(self.collection(ROOT, requested))  # type: ignore[no-any-return]

    def allowed(self, principal: Principal) -> set[str]:
        return set(self.access.allowed(principal, self.pool.names()))


def get_scope(pool: Pool = Depends(get_pool), access: Access = Depends(get_access)) -> Scope:
    return Scope(pool, access)


def open_conversations(app: FastAPI) -> Conversations:
    """The conversation store, opened on first use (a state database problem is then a clear
    error on that request, not a server that does not start)."""
    state = app.state
    if state.conversations is None:
        with state.conversations_lock:
            if state.conversations is None:
                state.conversations = Conversations.from_settings(state.settings)
    return state.conversations  # type: ignore[no-any-return]


def get_conversations(request: Request) -> Conversations:
    return open_conversations(request.app)


def conversations_opener(request: Request) -> Callable[[], Conversations]:
    """The store, opened only if the request needs it (a chat without `conversation_id`)."""
    return partial(open_conversations, request.app)
