"""Requests shaped and signed like Slack's, and a stoppable server for the bot's ASGI app.

The signature is computed here from Slack's documented scheme (v0, HMAC-SHA256 of
"v0:{timestamp}:{body}" with the signing secret), independently of slack_sdk's verifier, so the
tests check bolt's verification rather than agree with it by construction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from slack_standin import BOT_USER, TEAM


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    """An Events API `event_callback` envelope around `event`."""
    return json.dumps(
        {
            "token": "unused-verification-token",
            "team_id": TEAM,
            "api_app_id": "A0RAGAPP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "enterprise_id": None}
            ],
            "is_ext_shared_channel": False,
        }
    )


def message_event(
    msg: dict[str, Any], channel: str, kind: str = "message", channel_type: str = "channel"
) -> dict[str, Any]:
    """The event Slack sends for a stored message (`app_mention` or `message`)."""
    event = {**msg, "type": kind, "channel": channel, "event_ts": msg["ts"]}
    if kind == "message":
        event["channel_type"] = channel_type
    return event


def command_body(text: str, channel: str, user: str, response_url: str) -> str:
    """A slash command, form-encoded as Slack posts it."""
    return urlencode(
        {
            "token": "unused-verification-token",
            "team_id": TEAM,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "someone",
            "command": "/ask",
            "text": text,
            "api_app_id": "A0RAGAPP",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def block_action_body(
    action: dict[str, Any], channel: str, user: str, response_url: str, ephemeral: bool
) -> str:
    """A `block_actions` interaction (a button click), form-encoded as `payload=<json>`."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "someone", "team_id": TEAM},
        "api_app_id": "A0RAGAPP",
        "token": "unused-verification-token",
        "container": {"type": "message", "message_ts": "1.1", "is_ephemeral": ephemeral},
        "trigger_id": "1.2.3",
        "team": {"id": TEAM, "domain": "test"},
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action["action_id"],
                "block_id": "rag_answer_actions",
                "value": action["value"],
                "type": "button",
                "text": action["text"],
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def post(
    url: str,
    body: str,
    secret: str,
    *,
    form: bool = False,
    timestamp: int | None = None,
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    headers = {
        "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
        **sign(secret, body, timestamp),
        **(extra or {}),
    }
    return httpx.post(url, content=body.encode(), headers=headers, timeout=10.0)


class ThreadedServer:
    """uvicorn serving an ASGI app on 127.0.0.1 (a free port) in a thread; `stop()` ends it."""

    def __init__(self, asgi_app: Any) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        config = uvicorn.Config(asgi_app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Slack bot's HTTP server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
