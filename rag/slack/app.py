"""Build the slack-bolt App over an assistant, and run it in Socket Mode or over HTTP.

`rag slack` calls `run(settings)`. Credentials come from the settings (`RAG_SLACK__BOT_TOKEN`,
`RAG_SLACK__APP_TOKEN`, `RAG_SLACK__SIGNING_SECRET`) or, failing that, from Slack's usual
variables (`SLACK_BOT_TOKEN`, `SLACK_APP_TOKEN`, `SLACK_SIGNING_SECRET`). They are read with
`get_secret_value()` only where a client needs them and never logged or put in an error.
"""

from __future__ import annotations

import http.client
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.error import URLError

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from rag.core import logs, tracing
from rag.core.errors import RagError
from rag.core.settings import Settings, SlackSettings
from rag.service.collections import AssistantOrPool, pool_of
from rag.service.export import SourceURL, public_view_url
from rag.service.quotas import Quotas
from rag.slack.handlers import SlackBot
from rag.state.engine import StateDB, open_state
from rag.state.feedback import FeedbackStore
from rag.state.quotas import TokenUse

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"  # events, /ask and button clicks all arrive here (see the manifest)

# What slack_sdk lets through when Slack cannot be reached: URLError (refused, DNS), timeouts and
# other socket errors (all OSError), a reply cut short (http.client), a malformed base URL.
_UNREACHABLE = (OSError, http.client.HTTPException, SlackRequestError)


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


def _base_url(s: SlackSettings) -> str:
    return (s.api_base_url or WebClient.BASE_URL).rstrip("/") + "/"


def _reason(e: BaseException) -> str:
    """Why the network failed, in words ("Connection refused", "timed out"), not a repr."""
    cause: object = e.reason if isinstance(e, URLError) else e
    if isinstance(cause, OSError) and cause.strerror:
        return str(cause.strerror)
    return str(cause) or type(cause).__name__


@contextmanager
def _reaching_slack(base_url: str) -> Iterator[None]:
    """An unreachable Slack is one line (the CLI prints a RagError in red), not the network
    stack's 100-line traceback."""
    try:
        yield
    except _UNREACHABLE as e:
        raise RagError(
            f"Cannot reach Slack at {base_url}: {_reason(e)}. "
            "Check the network, or slack.api_base_url."
        ) from None


def _refused(what: str, e: SlackApiError) -> RagError:
    """Slack's error code only (e.g. invalid_auth): never the token itself."""
    return RagError(f"Slack did not accept the {what}: {e.response.get('error', 'unknown error')}")


def check_slack(s: SlackSettings, bot_token: str, timeout_s: int = 10) -> None:
    """Call `auth.test` once before any model loads, so an unreachable Slack or a refused token
    is a one-line error within seconds. slack_sdk's own log lines for the failed call (and its
    retry) are silenced here: the error says it all."""
    quiet = logging.getLogger("rag.slack.check")
    quiet.setLevel(logging.CRITICAL)
    client = WebClient(token=bot_token, base_url=_base_url(s), timeout=timeout_s, logger=quiet)
    with _reaching_slack(client.base_url):
        try:
            client.auth_test()
        except SlackApiError as e:
            raise _refused("bot token", e) from None


def build_app(
    settings: Settings,
    assistant: AssistantOrPool,
    *,
    client: WebClient | None = None,
    state: StateDB | None = None,
) -> App:
    """The bolt App with the bot's listeners; calls `auth.test` once to learn its own user id.
    `state` (default: the settings' state store) keeps handled events and answers."""
    s = settings.slack
    bot_token, _, signing_secret = credentials(s)
    state = state if state is not None else open_state(settings)
    if client is None:
        client = WebClient(token=bot_token, base_url=_base_url(s))
    try:
        with _reaching_slack(client.base_url):
            app = App(
                name="rag-slack",
                client=client,
                signing_secret=signing_secret,
                # A long-running server: bolt acks before running listeners (see handlers.py).
                process_before_response=False,
            )
    except BoltError as e:  # auth.test failed: the message names Slack's error, not the token
        raise RagError(f"Slack did not accept the bot token: {e}") from None
    pool = pool_of(settings, assistant)  # each channel asks its own collection
    feedback = FeedbackStore.from_settings(settings, state)
    quotas = Quotas(settings, TokenUse(state))  # per Slack user (rag/service/quotas.py)

    # each cited source's link, per channel's collection (signed when tokens are on); none
    # when public_url is unset
    def links(collection: str | None) -> SourceURL | None:
        return public_view_url(settings.public_url, settings, collection)

    SlackBot(pool, s, feedback, state, quotas, links=links).register(app)
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

    from rag.service.collections import make_assistant

    logs.configure(settings.log.format, settings.log.level)
    tracing.configure(settings.telemetry)
    s = settings.slack
    bot_token, app_token, _ = credentials(s)
    check_slack(s, bot_token)  # before the models load: a wrong setting fails in seconds
    state = open_state(settings)
    assistant = make_assistant(settings)
    app = build_app(settings, assistant, state=state)
    if s.mode == "socket":
        log.info("Slack bot connecting in Socket Mode")
        with _reaching_slack(app.client.base_url):
            try:
                SocketModeHandler(app, app_token).start()  # connects, then blocks
            except SlackApiError as e:  # apps.connections.open refused the app token
                raise _refused("app token", e) from None
    else:
        log.info("Slack bot listening on http://%s:%d%s", s.host, s.port, EVENTS_PATH)
        # log_config=None: rag.core.logs formats uvicorn's lines too (text or JSON, with
        # request ids)
        uvicorn.run(
            create_web_app(app), host=s.host, port=s.port, log_level="info", log_config=None
        )
