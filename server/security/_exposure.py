"""Which listen addresses only this machine (or pod) can reach."""

from __future__ import annotations

import ipaddress

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_local(address: str) -> bool:
    """Whether ``address`` (``unix:/path`` or ``host:port``) is a Unix socket or a loopback address.

    An empty host, ``0.0.0.0`` or ``[::]`` listens on every interface: not local.
    """
    if address.startswith(("unix:", "unix-abstract:")):
        return True
    host = address.rpartition(":")[0].strip("[]")
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def exposed(addresses: tuple[str, ...] | list[str]) -> list[str]:
    """The addresses others than this machine may reach."""
    return [a for a in addresses if not is_local(a)]
