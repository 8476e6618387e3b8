"""Build the slack-bolt App over an assistant, and run it in Socket Mode or over HTTP.

`rag slack` calls `run(settings)`. Credentials come from the settings (`RAG_SLACK__BOT_TOKEN`,
`RAG_SLACK__APP_TOKEN`, `RAG_SLACK__SIGNING_SECRET`) or, failing that, from Slack's usual
variables (`SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN`, `SLACK_SIGNING_SECRET`). They are read with
`get_secret_value()` only where a client needs them and never logged or put in an error.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from rag.errors import RagError
from rag.feedback import FeedbackStore
from rag.settings import Settings, SlackSettings
from rag.slack.handlers import SlackBot

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"  # events, /ask and button clicks all arrive here (see the manifest)


def _secret(value: SecretStr | None, env: str) -> str:
    return value.get_secret_value() if value else os.environ.get(env, "")


def credentials(s: SlackSettings) -> tuple[str, str, str]:
    """(bot token, app token, signing secret), checked for the chosen mode before any model
    loads, so a missing one is a one-line error rather than a failure minutes later."""
    bot = _secret(s.bot_token, "SLACK_BOT_TOKEN")
    app_token = _secret(s.app_token, "SLACK_APP_TOKEN")
    signing = _secret(s.signing_secret, "SLACK_SIGNING_SECRET")
    if not bot:
        raise RagError("No Slack bot token: set RAG_SLACK__BOT_TOKEN (xoxb-…) or SLACK_BOT_TOKEN.")
    if s.mode == "socket" and not app_token.startswith("xapp-"):
        raise RagError(
            "Socket Mode needs an app-level token (xapp-…, scope connections:write): set "
            "RAG_SLACK__APP_TOKEN or SLACK_APP_TOKEN, or use RAG_SLACK__MODE=http."
        )
    if s.mode == "http" and not signing:
        raise RagError(
            "HTTP mode needs the app's signing secret: set RAG_SLACK__SIGNING_SECRET or "
            "SLACK_SIGNING_SECRET."
        )
    return bot, app_token, signing


def build_app(settings: Settings, assistant: Any, *, client: WebClient | None = None) -> App:
    """The bolt App with the bot's listeners; calls `auth.test` once to learn its own user id."""
    s = settings.slack
    bot_token, _, signing_secret = credentials(s)
    if client is None:
        base_url = (s.api_base_url or WebClient.BASE_URL).rstrip("/") + "/"
        client = WebClient(token=bot_token, base_url=base_url)
    try:
        app = App(
            name="rag-slack",
            client=client,
            signing_secret=signing_secret,
            # A long-running server: bolt acks before running listeners (see handlers.py).
            process_before_response=False,
        )
    except BoltError as e:  # auth.test failed: the message names Slack's error, not the token
        raise RagError(f"Slack did not accept the bot token: {e}") from None
    SlackBot(assistant, s, FeedbackStore(settings.state_db)).register(app)
    return app


def create_web_app(app: App, path: str = EVENTS_PATH) -> Starlette:
    """An ASGI app serving `path` for Slack and `/healthz`.

    bolt's Starlette adapter calls the synchronous `App.dispatch` on the event loop, which would
    stall every request for up to 3 s while a command waits for its `ack()`; dispatching in
    Starlette's thread pool instead keeps the server responsive, with the adapter's converters.
    """

    async def events(request: Request) -> Response:
        body = await request.body()
        bolt_response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route(path, events, methods=["POST"]), Route("/healthz", health)])


def run(settings: Settings) -> None:
    """Start the bot (blocking): Socket Mode, or an HTTP server on settings.slack.host:port."""
    import uvicorn
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from rag.client import make_assistant

    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=logging.INFO, format=fmt)
    s = settings.slack
    _, app_token, _ = credentials(s)
    assistant = make_assistant(settings)
    app = build_app(settings, assistant)
    if s.mode == "socket":
        log.info("Slack bot connecting in Socket Mode")
        SocketModeHandler(app, app_token).start()
    else:
        log.info("Slack bot listening on http://%s:%d%s", s.host, s.port, EVENTS_PATH)
        uvicorn.run(create_web_app(app), host=s.host, port=s.port, log_level="info")
