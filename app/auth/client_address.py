"""The caller's address, for throttling and the audit log.

X-Forwarded-For is believed only when the TCP peer is a configured trusted proxy;
otherwise anyone could pick a fresh address per request and dodge per-client limits.
"""

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def check_trusted_proxies(trusted: Iterable[str]) -> None:
    """Fail at start (not on the first request) when server.trusted_proxies has a typo."""
    for item in trusted:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise ValueError(
                f"setting 'server.trusted_proxies': {item!r} is not an IP address or network"
            ) from exc


def _is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _forwarded_for(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    hops: list[str] = []
    for name, value in headers:
        if name.lower() == b"x-forwarded-for":
            hops += [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
    return hops


def client_address(scope: Mapping[str, Any], trusted_proxies: Iterable[str]) -> str:
    """The peer address, or the nearest untrusted hop of X-Forwarded-For behind our proxies."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _is_trusted(peer, networks):
        return peer
    # walk from the nearest hop back; the first address not ours is the real client
    for hop in reversed(_forwarded_for(scope.get("headers", ()))):
        if not _is_trusted(hop, networks):
            return hop[:64]
    return peer
