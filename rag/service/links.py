"""Signed links: a source view (or a cited file) that opens in a browser when `rag serve` needs
bearer tokens, which a browser cannot send.

When tokens are on (`api.token` or `[[access.tokens]]` on the server; `api_token` for a bot or a UI
that calls such a server), every link rag/service/export.py builds carries `c` (the collection the
citation came from, "" for the default one), `exp` (Unix time after which it is refused, now +
`api.link_ttl_s`) and `sig`: HMAC-SHA256 under `api.link_secret` over what it opens (a view or a
file), the collection, the document id, the cited sentence (`hl`) and `exp`. The API accepts such a
link without a bearer token for exactly that document, sentence and collection, until `exp`
(rag/api/routers/retrieve.py); a link to another document, another sentence or collection, a
later `exp` or a changed `sig` is refused. Without tokens nothing is signed: links are as before.

The secret: `api.link_secret` (`RAG_API__LINK_SECRET`) when set; else one made on first use and
kept in `<index_dir>/link-secret` (0600), which every process on the host (the API, the Slack bot,
the CLI) reads, so links work out of the box and survive restarts. Processes on other hosts (a
second replica, a bot that calls the API over `api_url`) need the same `api.link_secret` set.
Nothing is derived from the tokens: rotating a token never leaks or changes the link key, and
rotating `link_secret` (or deleting the file) revokes every link at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from rag.core.settings import Settings

log = logging.getLogger(__name__)

SECRET_FILE = "link-secret"
VIEW, FILE = "view", "file"  # what a link opens: the source view, or the original file
_made: dict[Path, bytes] = {}  # a secret this process had to keep in memory only, per path
_lock = threading.Lock()


class LinkError(Exception):
    """A signed link that is refused: its message says why, for the reader."""


def signing_on(settings: Settings) -> bool:
    """Whether links must be signed: the API needs a bearer token (its own settings), or this
    process calls an API that does (`api_token`)."""
    return bool(settings.api.token or settings.access.tokens or settings.api_token)


def _read_or_make(path: Path) -> bytes:
    """The secret kept at `path`, made (32 random bytes, hex, mode 0600) if there is none yet.
    Two processes making it at once agree: it is written aside, then linked into place, and
    whoever links second reads the first one's."""
    try:
        return path.read_text().strip().encode()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip().encode()


def link_key(settings: Settings) -> bytes:
    """`api.link_secret`, else the secret kept in `<index_dir>/link-secret` (made on first use);
    if that folder cannot be written, one for this process only (its links die with it)."""
    given = settings.api.link_secret
    if given is not None and given.get_secret_value():
        return given.get_secret_value().encode()
    path = Path(settings.index_dir).expanduser().resolve() / SECRET_FILE
    with _lock:
        if path in _made:
            return _made[path]
        try:
            return _read_or_make(path)
        except OSError as e:
            log.warning(
                "cannot keep the link secret in %s (%s): signed links last until this process "
                "stops; set api.link_secret (RAG_API__LINK_SECRET)",
                path,
                e.strerror or e,
            )
            _made[path] = secrets.token_hex(32).encode()
            return _made[path]


@dataclass
class LinkSigner:
    """Signs and checks links under one settings object's secret (read on first use)."""

    settings: Settings
    _key: bytes | None = field(default=None, repr=False)

    @property
    def ttl_s(self) -> int:
        return self.settings.api.link_ttl_s

    def key(self) -> bytes:
        if self._key is None:
            self._key = link_key(self.settings)
        return self._key

    def signature(self, kind: str, collection: str, doc_id: str, hl: str, exp: int) -> str:
        # JSON of the fields: no separator inside a field can shift one into the next
        message = json.dumps(["rag-link-1", kind, collection, doc_id, hl, exp]).encode()
        return hmac.new(self.key(), message, hashlib.sha256).hexdigest()

    def query(
        self, kind: str, collection: str, doc_id: str, hl: str = "", exp: int | None = None
    ) -> str:
        """`c=…&exp=…&sig=…`, the parameters that let a link open without a token, until `exp`
        (default: now + `api.link_ttl_s`)."""
        exp = exp if exp is not None else int(time.time()) + self.ttl_s
        sig = self.signature(kind, collection, doc_id, hl, exp)
        return f"c={quote(collection, safe='')}&exp={exp}&sig={sig}"

    def check(
        self,
        kind: str,
        collection: str,
        doc_id: str,
        hl: str,
        exp: str,
        sig: str,
        now: float | None = None,
    ) -> int:
        """`exp` as a number if `sig` signs exactly this link and it has not expired; LinkError
        (saying which) otherwise. The signature is compared in constant time."""
        try:
            when = int(exp)
        except ValueError:
            raise LinkError("This link is damaged (its `exp` is not a time).") from None
        wanted = self.signature(kind, collection, doc_id, hl, when)
        if not hmac.compare_digest(wanted.encode(), sig.encode("utf-8", "replace")):
            raise LinkError(
                "This link's signature does not match what it opens (it was changed, or it "
                "belongs to another document, sentence or collection). Open it again from the "
                "answer."
            )
        if (now if now is not None else time.time()) >= when:
            stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(when))
            raise LinkError(
                f"This link expired at {stamp}. Ask again (or use a bearer token) for a fresh one."
            )
        return when


def link_signer(settings: Settings) -> LinkSigner | None:
    """The signer for `settings`' links; None when tokens are off (links stay unsigned)."""
    return LinkSigner(settings) if signing_on(settings) else None
