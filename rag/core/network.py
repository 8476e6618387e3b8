"""Where a server may listen: loopback freely; any other address only behind a token/login,
unless the operator says `--insecure`."""

from __future__ import annotations

import ipaddress

from rag.core.errors import RagError


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
