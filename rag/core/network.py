"""Where a server may listen: loopback freely; any other address only behind a token/login,
unless the operator says `--insecure`; and how much of one request it reads."""

from __future__ import annotations

import ipaddress
from typing import Any

from rag.core.errors import RagError
from rag.core.settings import SecuritySettings

# Multipart framing around uploaded files (boundaries and part headers, a few hundred bytes each).
UPLOAD_FRAMING_BYTES = 1_000_000


def upload_limit(security: SecuritySettings) -> int:
    """The largest upload body a server reads: `max_request_bytes` of files and their framing."""
    return security.max_request_bytes + UPLOAD_FRAMING_BYTES


def server_options(security: SecuritySettings) -> dict[str, Any]:
    """uvicorn options that bound the request line and headers. uvicorn's default parser is
    httptools whenever it is installed (chromadb's uvicorn[standard] installs it), and it reads
    headers of any size (a 64 MB header was held in memory); h11 refuses a request whose head
    passes `max_header_bytes` with a 400 before reading more."""
    return {"http": "h11", "h11_max_incomplete_event_size": security.max_header_bytes}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name other than localhost: assume it can be reached
        return False


def check_exposure(host: str, protected: bool, insecure: bool, how: str) -> None:
    """Refuse to listen on a non-loopback `host` when nothing guards it (`protected` is false),
    unless `insecure`; `how` tells the operator what would guard it."""
    if protected or insecure or is_loopback(host):
        return
    raise RagError(
        f"Refusing to listen on {host} without protection: anyone who can reach it could use "
        f"it. Set {how}, or pass --insecure if this network is trusted."
    )
