"""A local stand-in for Slack's Web API and response_url webhooks, for the Slack bot tests.

Slack's servers cannot be reached from here, so this speaks their wire format on 127.0.0.1:
`POST/GET /api/<method>` with a bot token, answering the methods the bot calls (auth.test,
chat.postMessage, chat.update, chat.postEphemeral, conversations.replies,
conversations.history, reactions.add) from a small in-memory message store, and `POST
/response/<name>` for response_url. Every call is recorded (method, parsed body) so a test can
assert on what the bot sent.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BOT_USER = "U0RAGBOT"
BOT_ID = "B0RAGBOT"
TEAM = "T0TEST"
RESPONSE_URL_METHOD = "response_url"


@dataclass
class Call:
    method: str  # a Web API method, or "response_url"
    body: dict[str, Any]
    path: str = ""
    at: float = field(default_factory=time.monotonic)


class SlackStandin:
    """Start with `start()`, stop with `stop()`; `url` is the Web API base for WebClient."""

    def __init__(self, bot_token: str) -> None:
        self.bot_token = bot_token
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.not_in_channel: set[str] = set()
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/response/{name}"

    def start(self) -> SlackStandin:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- the message store ------------------------------------------------------------------

    def new_ts(self) -> str:
        return f"{time.time():.0f}.{next(self._ts):06d}"

    def add_user_message(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A message a person wrote (Slack stores it before sending the event)."""
        msg = {"type": "message", "user": user, "text": text, "ts": self.new_ts(), "team": TEAM}
        if thread_ts:
            msg["thread_ts"] = thread_ts
        with self._cond:
            self.messages.setdefault(channel, []).append(msg)
        return msg

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        with self._cond:
            msgs = [
                dict(m)
                for m in self.messages.get(channel, [])
                if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts
            ]
        return sorted(msgs, key=lambda m: float(m["ts"]))

    # -- what the bot sent ----------------------------------------------------------------

    def calls_to(self, method: str, **match: Any) -> list[Call]:
        with self._cond:
            return [
                c
                for c in self.calls
                if c.method == method and all(c.body.get(k) == v for k, v in match.items())
            ]

    def wait_for(self, method: str, timeout: float = 180.0, n: int = 1, **match: Any) -> list[Call]:
        """Block until at least `n` calls to `method` match; the matching calls."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := self.calls_to(method, **match)) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.body.get("channel")) for c in self.calls]
                    raise AssertionError(f"no {n}x {method} {match} within {timeout}s; got {seen}")
                self._cond.wait(min(left, 0.5))
        return found

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    # -- Web API methods ------------------------------------------------------------------

    def api(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(
            self, "_m_" + method.replace(".", "_"), None
        )
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        with self._cond:
            return handler(body)

    def _m_auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://test.slack.com/",
            "team": "Test",
            "user": "ragbot",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = body["channel"]
        if channel in self.not_in_channel:
            return {"ok": False, "error": "not_in_channel"}
        msg = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "text": body.get("text", ""),
            "blocks": body.get("blocks", []),
            "ts": self.new_ts(),
            "team": TEAM,
        }
        if body.get("thread_ts"):
            msg["thread_ts"] = body["thread_ts"]
        self.messages.setdefault(channel, []).append(msg)
        return {"ok": True, "channel": channel, "ts": msg["ts"], "message": msg}

    def _m_chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        for msg in self.messages.get(body["channel"], []):
            if msg["ts"] == body["ts"]:
                msg["text"] = body.get("text", "")
                msg["blocks"] = body.get("blocks", [])
                return {
                    "ok": True,
                    "channel": body["channel"],
                    "ts": msg["ts"],
                    "text": msg["text"],
                }
        return {"ok": False, "error": "message_not_found"}

    def _m_chat_postEphemeral(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self.new_ts()}

    def _m_conversations_replies(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "messages": self.thread(body["channel"], body["ts"]), "has_more": False}

    def _m_conversations_history(self, body: dict[str, Any]) -> dict[str, Any]:
        latest = float(body.get("latest") or "inf")
        oldest = float(body.get("oldest") or 0)
        top = [
            dict(m)
            for m in self.messages.get(body["channel"], [])
            if m.get("thread_ts", m["ts"]) == m["ts"] and oldest < float(m["ts"]) < latest
        ]
        top.sort(key=lambda m: float(m["ts"]), reverse=True)  # newest first, as Slack does
        return {"ok": True, "messages": top[: int(body.get("limit") or 100)], "has_more": False}

    def _m_reactions_add(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True}


def _handler_for(standin: SlackStandin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            body = _parse_body(self._read(), self.headers.get("Content-Type", ""))
            body.update({k: v[0] for k, v in parse_qs(parts.query).items()})
            if parts.path.startswith("/response/"):
                standin._record(Call(RESPONSE_URL_METHOD, body, parts.path))
                self._send(200, b"ok", "text/plain")
                return
            method = parts.path.removeprefix("/api/")
            if self.headers.get("Authorization") != f"Bearer {standin.bot_token}":
                self._json({"ok": False, "error": "not_authed"})
                return
            standin._record(Call(method, body, parts.path))
            self._json(standin.api(method, body))

        def _read(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _json(self, payload: dict[str, Any]) -> None:
            self._send(200, json.dumps(payload).encode(), "application/json; charset=utf-8")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return dict(json.loads(raw))
    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
    for key in ("blocks", "attachments"):  # form-encoded calls send these as JSON strings
        if isinstance(form.get(key), str):
            form[key] = json.loads(form[key])
    return form
