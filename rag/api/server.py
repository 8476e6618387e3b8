"""Starting the API: `rag serve` (`serve`) and the app factory for uvicorn's workers
(`app_from_env`)."""

from __future__ import annotations

from fastapi import FastAPI

from rag.api.app import create_app
from rag.core import logs, tracing
from rag.core.network import check_exposure, server_options
from rag.core.settings import Settings
from rag.ingest.library import Library
from rag.service.access import Access


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
    import uvicorn

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
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        log_config=None,
        **server_options(settings.security),  # h11, headers bounded
    )
