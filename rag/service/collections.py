"""Named collections side by side, and the pool every long-running face uses to reach them.

A collection is a Chroma collection with its own lexical index, manifest, lock and uploads folder
(`Settings.for_collection`); it exists when it is configured (`[collections.NAME]`) or indexed
(present in the store), and the default collection (`store.collection`) always exists.

`Collections` opens one `Assistant` per collection on first use and shares the expensive parts
between them: one LLM (one llama-server process for the local model) and one embedding model
(rag/storage/embeddings.py loads a model once per process). The API, the UI and the Slack bot take
the collection a caller asks for from here, after rag/service/access.py has said the caller may use
it. Over the HTTP API (`api_url`), `RemoteCollections` does the same with one `RemoteAssistant` per
collection, and knows only the collections the API's token may use.
"""

from __future__ import annotations

import threading
from typing import Any, TypeAlias

from pydantic import BaseModel, Field

from rag.answer.llm import ChatModel, make_llm
from rag.core.errors import RagError
from rag.core.settings import Settings, check_collection_name
from rag.core.types import AssistantLike
from rag.service.access import not_found
from rag.service.assistant import Assistant
from rag.service.client import RemoteAssistant, RemoteLibrary
from rag.storage.chroma import stored_collections


class CollectionInfo(BaseModel):
    """One collection as `rag collections` and the metrics list it."""

    name: str
    description: str = ""
    chunks: int = Field(
        default=0, description="Chunks in the store; 0: configured, not indexed yet."
    )
    default: bool = False


def list_collections(settings: Settings) -> list[CollectionInfo]:
    """Every collection (the default first, then by name) with its chunk count, from one read
    of the store; for the metrics' per-collection index size too."""
    base = settings.for_collection(None)
    stored = stored_collections(base)
    default = base.store.collection
    names = sorted({default, *base.collections, *stored}, key=lambda n: (n != default, n))
    return [
        CollectionInfo(
            name=n,
            description=base.collections[n].description if n in base.collections else "",
            chunks=stored.get(n, 0),
            default=n == default,
        )
        for n in names
    ]


class Collections:
    """One in-process `Assistant` per collection, opened lazily, sharing one LLM."""

    def __init__(self, settings: Settings, *, first: Any = None, warm: bool = True) -> None:
        """`first`: an assistant already open (kept for its collection); `warm`: start each
        assistant's model process and load its lexical index when it opens."""
        self.settings = settings.for_collection(None)
        self._open: dict[str, Any] = {}
        self._libraries: dict[str, Any] = {}
        self._llm: ChatModel | None = None
        self._warm = warm
        self._lock = threading.Lock()
        if first is not None:
            self._open[first.settings.store.collection] = first

    @property
    def default(self) -> str:
        return self.settings.store.collection

    def names(self) -> list[str]:
        """The collections that exist now (an index run elsewhere may have added one)."""
        return [c.name for c in list_collections(self.settings)]

    def __contains__(self, name: object) -> bool:
        """Whether collection `name` exists; an open one without reading the store (listing
        the store's collections costs a few ms: not on every question)."""
        return name in self._open or name == self.default or name in self.names()

    def info(self) -> list[CollectionInfo]:
        return list_collections(self.settings)

    def get(self, name: str | None = None) -> Assistant:
        """The assistant of collection `name` (None: the default), opened on first use;
        CollectionNotFoundError for one that does not exist (never created by asking)."""
        name = check_collection_name(name) if name else self.default
        if name not in self:
            raise not_found(name)
        with self._lock:  # one opening at a time: the shared LLM is made once
            if name not in self._open:
                self._open[name] = self._make(name)
            return self._open[name]

    def library(self, name: str | None = None) -> Any:
        """The uploads (rag/ingest/library.py) of collection `name` (None: the default), one per
        collection for every face."""
        from rag.ingest.library import Library

        assistant = self.get(name)
        key = assistant.settings.store.collection
        with self._lock:
            if key not in self._libraries:
                self._libraries[key] = Library(assistant.settings, assistant)
            return self._libraries[key]

    def _shared_llm(self) -> ChatModel:
        if self._llm is None:
            opened = next((a for a in self._open.values() if a._answerer is not None), None)
            self._llm = (
                opened.answerer.llm
                if opened is not None
                else make_llm(self.settings.llm, self.settings.state_db.parent)
            )
        return self._llm

    def _make(self, name: str) -> Any:
        settings = self.settings.for_collection(name)
        is_default = name == self.default
        a = Assistant(settings, build_index=is_default, progress=False, llm=self._shared_llm())
        if self._warm:
            a.warm_up()
        return a


class RemoteCollections:
    """The collections of an HTTP API (`api_url`), as its token sees them (`/v1/models`)."""

    def __init__(self, settings: Settings, first: Any = None) -> None:
        self.settings = settings
        self._first = first if first is not None else RemoteAssistant(settings)
        self._open: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def default(self) -> str:
        return self.settings.default_name

    def names(self) -> list[str]:
        return self._first.collections()  # type: ignore[no-any-return]

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def info(self) -> list[CollectionInfo]:
        return [CollectionInfo(name=n, default=n == self.default) for n in self.names()]

    def library(self, name: str | None = None) -> Any:
        """The API's uploads of collection `name` (`/v1/documents`)."""
        return RemoteLibrary(self.get(name))

    def get(self, name: str | None = None) -> RemoteAssistant:
        name = check_collection_name(name) if name else self.default
        if name == self.default:
            return self._first
        with self._lock:
            if name not in self._open:
                self._open[name] = RemoteAssistant(self.settings, collection=name)
            return self._open[name]


def make_collections(
    settings: Settings, assistant: AssistantLike | None = None
) -> Collections | RemoteCollections:
    """The pool a face uses: over the API when `api_url` is set (or `assistant` is a remote
    one), else in-process; `assistant`, when given, serves its own collection."""
    if isinstance(assistant, RemoteAssistant) or (assistant is None and settings.api_url):
        return RemoteCollections(settings, first=assistant)
    if assistant is not None and not hasattr(assistant, "settings"):
        raise RagError("An assistant without settings cannot serve named collections.")
    return Collections(settings, first=assistant)


# What a face is given: one assistant, or a pool of collections' assistants.
AssistantOrPool: TypeAlias = AssistantLike | Collections | RemoteCollections


def pool_of(
    settings: Settings, assistant_or_pool: AssistantOrPool
) -> Collections | RemoteCollections:
    """What `create_app`/`build_app` were given: a pool as it is, an assistant wrapped in one."""
    if isinstance(assistant_or_pool, Collections | RemoteCollections):
        return assistant_or_pool
    return make_collections(settings, assistant_or_pool)


def make_assistant(settings: Settings, **kw: Any) -> AssistantLike:
    """The assistant a face should use: remote when `api_url` is set, else in-process."""
    if settings.api_url:
        return RemoteAssistant(settings, **kw)
    assistant = Assistant(settings, **kw)
    assistant.warm_up()  # a long-running face starts its model process now, not on question one
    return assistant
