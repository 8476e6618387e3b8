"""What a server process (the API, the UI) exports on /metrics at scrape time, wired once for
every face: the sizes of its collections and the stored ratings. The counters themselves live in
rag/core/metrics.py; this module knows where the numbers come from (collections, state)."""

from __future__ import annotations

from collections.abc import Callable

from rag.core import metrics
from rag.core.metrics import CollectionSize, SizeSource
from rag.core.settings import Settings
from rag.core.types import IndexStatus
from rag.service.collections import list_collections
from rag.state.feedback import lazy_counts


def listed_sizes(settings: Settings) -> SizeSource:
    """The chunk count of every collection in the store (rag/service/collections.py's listing)."""

    def read() -> list[CollectionSize]:
        return [CollectionSize(c.name, None, c.chunks) for c in list_collections(settings)]

    return read


def watch(settings: Settings, status: Callable[[], IndexStatus] | None) -> None:
    """Export the size of the default collection (`status`: documents and chunks) and of every
    other collection in the store (chunks), when the process holds its collections (a face over
    the API leaves that to the API), and the stored ratings."""
    if settings.api_url is None:
        if status is not None:
            metrics.watch_index(settings.store.collection, metrics.status_sizes(status))
        metrics.watch_index("collections", listed_sizes(settings))
    metrics.watch_feedback(lazy_counts(settings))
