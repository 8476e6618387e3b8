"""A `rag serve` running on this machine, found and asked by the CLI (issue 26, cold start).

`rag ask` from a new process spends ~5-6 s importing the answering code, opening the store and
the embedding and starting the local model before it can answer. A running `rag serve` of the
same index has all of that loaded: the CLI asks it instead when it finds one, and answers in
process otherwise (`--local` forces that).

How a server is found: `rag serve` writes `<index_dir>/serve-<pid>.json` once it listens (its
URL, pid, host name, a random instance id, whether it needs a token, and `identity`: a hash of
the settings that decide an answer, rag/api/server.py) and removes it when it stops. The CLI
takes a file only when all of these hold, and otherwise answers in process, quietly:

- written on this machine (host name) by a process that is still alive (a file left by a killed
  server is removed);
- the same index and the same answering settings (`identity`: index folder, store, embedding,
  chunking, retrieval, LLM, prompts, collections; not ports, threads, tokens or logs);
- a loopback URL (the question and a token never leave the machine);
- no token needed, or the CLI has one (`api.token` or `api_token` of its settings);
- the server answers `INSTANCE_PATH` with the file's instance id within `PROBE_TIMEOUT_S`
  (alive, not hung, and not another server that took the port of a dead one).

A question is then sent as one chat completion (plain JSON over the standard library's
`http.client`: this module and what it imports cost ~10 ms, where rag/service/client.py's
`openai` client costs ~0.8 s) and the checked `Answer` the API returns is printed as in
process. Errors about the question itself (400: empty, too long) are raised as the API raised
them; any other failure (connection, token refused, collection unknown to the server, quota,
5xx, a malformed reply) falls back to answering in process.

This module imports nothing heavy (the standard library, the settings and the types): the CLI
imports it before it decides.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag.core import errors
from rag.core.settings import Settings
from rag.core.types import Answer

log = logging.getLogger("rag.cli")

FILE_GLOB = "serve-*.json"
# Answered by `rag serve` without a token, on the event loop (not behind busy request threads).
INSTANCE_PATH = "/.well-known/rag-instance"
PROBE_TIMEOUT_S = 1.5  # connect and answer, for the instance probe
CONNECT_TIMEOUT_S = 2.0
READ_TIMEOUT_S = 600.0  # an answer from a slow LLM can take minutes (as rag/service/client.py)
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_ANY = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # listening everywhere: loopback
# Errors about the question itself: the same as in process, so they are not retried there.
_QUESTION_ERRORS = (errors.EmptyQuestionError, errors.QuestionTooLongError)

# What decides an answer: a server whose settings differ in any of these answers differently.
_IDENTITY_FIELDS = {
    "index_dir",
    "lexical_dir",
    "prompts_dir",
    "max_question_chars",
    "store",
    "embedding",
    "chunking",
    "retrieval",
    "llm",
    "collections",
}
_NOT_IDENTITY: dict[str, Any] = {  # how it runs, not what it answers
    "store": {"batch_size"},
    "embedding": {"batch_size", "threads", "api_key"},
    "llm": {"n_threads", "parallel", "api_key", "timeout", "max_retries"},
    "retrieval": {"version_check_s"},
}


def identity(settings: Settings) -> str:
    """A hash of the settings that decide an answer, the index folder resolved (the default
    collection's settings: a server serves every collection of its index)."""
    fields = settings.model_dump(mode="json", include=_IDENTITY_FIELDS, exclude=_NOT_IDENTITY)
    for key in ("index_dir", "lexical_dir", "prompts_dir"):
        if fields.get(key):
            fields[key] = str(Path(fields[key]).expanduser().resolve())
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_instance() -> str:
    return secrets.token_hex(16)


def _url(host: str, port: int) -> str:
    host = _ANY.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


# --- the server's side ---------------------------------------------------------------------------


def announce(
    settings: Settings, host: str, port: int, tokens_required: bool, instance: str
) -> Path | None:
    """Write this server's discovery file (atomically); None when the index folder is not
    writable (the CLI then answers in process)."""
    path = Path(settings.index_dir) / f"serve-{os.getpid()}.json"
    info = {
        "url": _url(host, port),
        "pid": os.getpid(),
        "hostname": socket.gethostname(),
        "instance": instance,
        "identity": identity(settings),
        "tokens_required": tokens_required,
        "started": time.time(),
    }
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(info), "utf-8")
        os.replace(tmp, path)
    except OSError as e:
        log.debug("no discovery file for the CLI: %s", e)
        with contextlib.suppress(OSError):
            tmp.unlink()
        return None
    return path


def withdraw(path: Path | None) -> None:
    """Remove this server's discovery file (at shutdown)."""
    if path is not None:
        with contextlib.suppress(OSError):
            path.unlink()


# --- the CLI's side ------------------------------------------------------------------------------


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if os.name == "nt":  # os.kill(pid, 0) would end the process there: the probe decides
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return False
    return True


def _loopback(url: object) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK and bool(parts.port)


@dataclass
class LocalServer:
    """A `rag serve` of the same index on this machine; `settings`: the CLI's, aimed at the
    collection asked (for the printed links)."""

    url: str
    token: str
    collection: str | None
    settings: Settings

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        parts = urlsplit(self.url)
        return http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None, timeout: float
    ) -> tuple[int, Any]:
        conn = self._connection(min(timeout, CONNECT_TIMEOUT_S))
        try:
            conn.connect()
            if conn.sock is not None:
                conn.sock.settimeout(timeout)
            headers = {"Accept": "application/json"}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            data = None
            if body is not None:
                data = json.dumps(body).encode("utf-8")
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        try:
            return r.status, json.loads(raw or b"null")
        except ValueError:
            return r.status, None

    def probe(self, instance: str) -> bool:
        """Does the server that wrote the file answer, quickly?"""
        try:
            status, body = self._request("GET", INSTANCE_PATH, None, PROBE_TIMEOUT_S)
        except (OSError, http.client.HTTPException) as e:
            log.debug("no running server at %s: %s", self.url, e)
            return False
        return status == 200 and isinstance(body, dict) and body.get("instance") == instance

    def ask(
        self,
        question: str,
        history: Sequence[tuple[str, str]] | None = None,
        k: int | None = None,
    ) -> Answer | None:
        """The server's checked answer; None when it cannot give one (the caller answers in
        process). A question the API refuses (empty, too long) raises its error."""
        messages: list[dict[str, str]] = []
        for q, a in history or []:
            messages += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
        messages.append({"role": "user", "content": question})
        body: dict[str, Any] = {"model": self.collection or "rag", "messages": messages}
        if k is not None:
            body["k"] = k
        try:
            status, reply = self._request("POST", "/v1/chat/completions", body, READ_TIMEOUT_S)
        except (OSError, http.client.HTTPException) as e:
            log.debug("the running server at %s failed: %s; answering here", self.url, e)
            return None
        if status == 400 and isinstance(reply, dict):
            err = reply.get("error") or {}
            cls = getattr(errors, str(err.get("type", "")), None)
            if isinstance(cls, type) and issubclass(cls, _QUESTION_ERRORS):
                raise cls(str(err.get("message") or "The question was refused."))
        answer = reply.get("answer") if isinstance(reply, dict) else None
        if status != 200 or not isinstance(answer, dict):
            log.debug("the server at %s answered HTTP %s; answering here", self.url, status)
            return None
        try:
            return Answer.model_validate(answer)
        except ValueError as e:
            log.debug("the running server's answer is malformed (%s); answering here", e)
            return None


def find(settings: Settings, collection: str | None = None) -> LocalServer | None:
    """The `rag serve` of `settings`' index running on this machine, if one is there and may
    be asked (see the module's description); None otherwise."""
    folder = Path(settings.index_dir)
    try:
        files = sorted(folder.glob(FILE_GLOB), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None
    if not files:
        return None
    here, wanted = socket.gethostname(), identity(settings)
    secret = settings.api.token or settings.api_token
    token = secret.get_secret_value() if secret else ""
    for path in files:
        try:
            info = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(info, dict) or info.get("hostname") != here:
            continue  # another machine's (a shared folder): its pid means nothing here
        if not _alive(info.get("pid")):
            log.debug("removing %s: its server is gone", path)
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        if info.get("identity") != wanted or not _loopback(info.get("url")):
            continue
        if info.get("tokens_required") and not token:
            continue
        server = LocalServer(
            str(info["url"]), token, collection, settings.for_collection(collection)
        )
        if server.probe(str(info.get("instance", ""))):
            return server
    return None
