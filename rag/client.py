"""An `Assistant` look-alike that calls the HTTP API (`rag serve`), so one index serves every face.

`make_assistant(settings)` is what the UI and the Slack bot call: the in-process `Assistant` by
default, or a `RemoteAssistant` when `settings.api_url` is set.
"""

from __future__ import annotations

from typing import Any

from rag.settings import Settings


class RemoteAssistant:
    """Same public methods as `rag.Assistant` (retrieve, ask, stream, index, status), over HTTP."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        raise NotImplementedError("RemoteAssistant is being written (issue 6)")


def make_assistant(settings: Settings, **kw: Any) -> Any:
    """The assistant a face should use: remote when `api_url` is set, else in-process."""
    if settings.api_url:
        return RemoteAssistant(settings)
    from rag.assistant import Assistant

    return Assistant(settings, **kw)
