"""The UI's login check, with a limit on wrong passwords.

Gradio's own `auth=(username, password)` accepts any number of guesses at full speed. Here
`launch(auth=...)` gets `LoginGuard.gradio_auth`: after `security.login_max_failures` wrong
passwords for a username within `security.login_window_s` seconds (or ten times as many for all
usernames together), every login is refused, the right password included, until the window has
passed. The failures are kept in the state store (rag/state/logins.py), so a restart does not reset
them and several UI processes on one state file share them.

Gradio 6.31 calls the callable from its `/login` route on the event loop (awaiting it when it is
a coroutine function), so the check must not block: `gradio_auth` is async and does the SQLite
work in a worker thread, and never sleeps. A wrong login answers 400 "Incorrect credentials.";
a refused one answers 400 with "Too many failed logins…" as its detail (the login page shows
its usual "Incorrect Credentials" for any 400, and `auth_message` states the rule there).

`UploadGuard` keeps Gradio's own upload route for the admin: Gradio stores whatever a logged-in
user posts to `/gradio_api/upload` in its temp folder before any event handler (and its admin
check) runs, so the route itself asks for the admin token, and bounds every body as it arrives.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Literal
from urllib.parse import unquote

from fastapi import HTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from rag.core.errors import RagError, StateError
from rag.core.network import upload_limit
from rag.core.settings import Settings
from rag.state.engine import StateDB, open_state
from rag.state.logins import LoginFailures

log = logging.getLogger(__name__)

Outcome = Literal["ok", "wrong", "blocked"]

BLOCKED_DETAIL = "Too many failed logins; try again later."


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison; on bytes, since compare_digest rejects non-ASCII str."""
    return secrets.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class LoginGuard:
    """The configured usernames and passwords (`ui.username` and `access.users`), checked
    against the state store's failure counts."""

    def __init__(
        self,
        username: str,
        password: str,
        state: StateDB,
        max_failures: int,
        window_s: float,
        users: dict[str, str] | None = None,
    ) -> None:
        self._users = {**(users or {}), username: password} if username else dict(users or {})
        self.failures = LoginFailures(state)
        self.max_failures = max_failures
        self.window_s = window_s

    def attempt(self, username: str, password: str) -> Outcome:
        """Check one login. While blocked the password is not even compared and the attempt is
        not counted (so a guesser cannot extend the block forever); a success clears the
        username's failures."""
        if self.failures.blocked(username, self.max_failures, self.window_s):
            log.warning("login refused for %r: too many failed logins", username[:64])
            return "blocked"
        # Every username and password compared, always: the time taken does not tell whether
        # the username was right.
        matches = [_same(username, u) & _same(password, p) for u, p in self._users.items()]
        if any(matches):
            self.failures.clear(username)
            return "ok"
        self.failures.record(username)
        log.info("failed login for %r", username[:64])
        return "wrong"

    def check(self, username: str, password: str) -> bool:
        """True only for the right username and password, and only while not blocked."""
        return self.attempt(username, password) == "ok"

    async def gradio_auth(self, username: str, password: str) -> bool:
        """The callable for `Blocks.launch(auth=...)` (a coroutine function, so Gradio awaits
        it). A blocked login raises a 400 whose detail says why; a state store that cannot be
        used refuses every login (fails closed) and is logged."""
        try:
            outcome = await asyncio.to_thread(self.attempt, username, password)
        except StateError as e:
            log.error("login refused: %s", e)
            return False
        if outcome == "blocked":
            raise HTTPException(status_code=400, detail=BLOCKED_DETAIL)
        return outcome == "ok"

    def message(self) -> str:
        """The rule, shown on the login page (`launch(auth_message=...)`)."""
        minutes = max(1, round(self.window_s / 60))
        return (
            f"After {self.max_failures} wrong passwords, logins are refused for up to "
            f"{minutes} minute{'s' if minutes != 1 else ''}."
        )


def login_guard(settings: Settings) -> LoginGuard:
    """The guard for the settings' UI login, over the settings' state store (opened now, so an
    unusable state file is a one-line error at start-up)."""
    from rag.service.access import Access

    ui, sec = settings.ui, settings.security
    if (ui.username or ui.password) and not (ui.username and ui.password):
        raise RagError("UI login needs both ui.username and ui.password (RAG_UI__USERNAME/…).")
    users = Access(settings).logins()  # ui.username and access.users
    if not users:
        raise RagError("UI login needs ui.username and ui.password, or access.users.")
    return LoginGuard(
        "",
        "",
        open_state(settings),
        max_failures=sec.login_max_failures,
        window_s=sec.login_window_s,
        users=users,
    )


# The page sets this cookie from the Index panel's admin-token box (rag/ui/app.py), so that the
# browser's uploads, which Gradio's client sends with no field of ours, carry the token.
ADMIN_COOKIE = "rag-admin"
UPLOAD_PATH = "/upload"  # Gradio's /gradio_api/upload (under any root path)


class UploadGuard:
    """ASGI middleware of the UI's server. A POST to Gradio's upload route is answered 403,
    before its body is read, unless the `rag-admin` cookie holds the admin token (and always
    when none is set: then nothing in the UI uploads); an admitted upload may send
    `max_request_bytes`, every other request `max_body_bytes`, counted as they arrive (413)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        admin = settings.security.admin_token
        self.admin = admin.get_secret_value() if admin else ""
        self.app = app
        self.bounded = RequestBodyLimitMiddleware(app, settings.security.max_body_bytes)
        self.upload = RequestBodyLimitMiddleware(app, upload_limit(settings.security))

    def is_admin(self, scope: Scope) -> bool:
        given = unquote(HTTPConnection(scope).cookies.get(ADMIN_COOKIE, ""))
        return bool(self.admin) and _same(given, self.admin)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif not str(scope["path"]).rstrip("/").endswith(UPLOAD_PATH):
            await self.bounded(scope, receive, send)
        elif self.is_admin(scope):
            await self.upload(scope, receive, send)
        else:
            refused = PlainTextResponse("Uploading needs the admin token.", status_code=403)
            await refused(scope, receive, send)
