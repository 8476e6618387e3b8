"""Starting the API: `rag serve` (`serve`) and the app factory for uvicorn's workers
(`app_from_env`)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from rag.api.app import create_app
from rag.core import logs, tracing
from rag.core.network import check_exposure, server_options
from rag.core.settings import Settings
from rag.ingest.library import Library
from rag.service import local_server
from rag.service.access import Access

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("rag.api")


def app_from_env() -> FastAPI:
    """App factory for several workers: `uvicorn --factory --workers 4 rag.api:app_from_env`."""
    from rag.service.assistant import Assistant

    settings = Settings()
    logs.configure(settings.log.format, settings.log.level)
    tracing.configure(settings.telemetry)
    assistant = Assistant(settings, progress=False)
    assistant.warm_up()
    return create_app(assistant, settings)


def serve(settings: Settings, insecure: bool = False) -> None:
    """`rag serve`: build (or open) the index, then serve the API with uvicorn until stopped."""
    import uvicorn  # only here: importing the API (the UI, tests) does not need it

    from rag.service.assistant import Assistant

    logs.configure(settings.log.format, settings.log.level)
    tracing.configure(settings.telemetry)
    host, port = settings.api.host, settings.api.port
    tokens_required = Access(settings).tokens_required
    check_exposure(host, tokens_required, insecure, "RAG_API__TOKEN")
    assistant = Assistant(settings)
    assistant.warm_up()  # the model process starts with the server, not on the first question
    Library(settings, assistant)  # rolls back an upload a killed server left unfinished
    app = create_app(assistant, settings)
    # The CLI on this machine asks this server instead of loading the models itself
    # (rag/service/local_server.py): a discovery file in the index folder while it listens, and
    # its instance id answered without a token, on the event loop, so a busy server is found.
    instance = local_server.new_instance()

    async def instance_id() -> dict[str, str]:
        return {"instance": instance}

    app.add_api_route(local_server.INSTANCE_PATH, instance_id, include_in_schema=False)
    announced: list[Any] = []

    def listening(port: int) -> None:
        announced.append(local_server.announce(settings, host, port, tokens_required, instance))

    # our handler formats every line (text or JSON, with request ids); uvicorn adds none
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=None,
        **server_options(settings.security),  # h11, headers bounded
    )

    def stopping() -> None:
        while announced:
            local_server.withdraw(announced.pop())

    quiet_lifecycle()
    try:
        announcing_server(config, listening, stopping).run()
    finally:
        stopping()  # a failed start-up; a signal is raised again after `shutdown`, no finally


def announcing_server(
    config: uvicorn.Config,
    on_listening: Callable[[int], None] | None = None,
    on_stopping: Callable[[], None] | None = None,
) -> uvicorn.Server:
    """uvicorn's server, saying "API on http://host:port" once it listens (its own start-up
    lines are left out: `quiet_lifecycle`); then `on_listening(port)`, the port it listens on,
    and `on_stopping()` when it begins to shut down."""
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                log.info("API on http://%s:%d", self.config.host, self.config.port)
                if on_listening is not None:
                    on_listening(self._port())

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            if on_stopping is not None:
                on_stopping()
            await super().shutdown(sockets)

        def _port(self) -> int:
            for server in getattr(self, "servers", []):
                for sock in server.sockets or ():
                    return int(sock.getsockname()[1])
            return int(self.config.port)

    return AnnouncingServer(config)


def quiet_lifecycle() -> None:
    """uvicorn's INFO lines about its own start and stop ("Started server process", "Waiting for
    application startup", …) are left out unless the level is DEBUG; its warnings, errors and
    access lines stay."""
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
