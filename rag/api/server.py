"""Starting the API: `rag serve` (`serve`) and the app factory for uvicorn's workers
(`app_from_env`)."""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING

from fastapi import FastAPI

from rag.api.app import create_app
from rag.core import logs, tracing
from rag.core.network import check_exposure, server_options
from rag.core.settings import Settings
from rag.ingest.library import Library
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
    check_exposure(host, Access(settings).tokens_required, insecure, "RAG_API__TOKEN")
    assistant = Assistant(settings)
    assistant.warm_up()  # the model process starts with the server, not on the first question
    Library(settings, assistant)  # rolls back an upload a killed server left unfinished
    app = create_app(assistant, settings)
    # our handler formats every line (text or JSON, with request ids); uvicorn adds none
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=None,
        **server_options(settings.security),  # h11, headers bounded
    )
    quiet_lifecycle()
    announcing_server(config).run()


def announcing_server(config: uvicorn.Config) -> uvicorn.Server:
    """uvicorn's server, saying "API on http://host:port" once it listens (its own start-up
    lines are left out: `quiet_lifecycle`)."""
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                log.info("API on http://%s:%d", self.config.host, self.config.port)

    return AnnouncingServer(config)


def quiet_lifecycle() -> None:
    """uvicorn's INFO lines about its own start and stop ("Started server process", "Waiting for
    application startup", …) are left out unless the level is DEBUG; its warnings, errors and
    access lines stay."""
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
