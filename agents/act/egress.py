"""The egress guard: outbound destinations are resolved, checked, and connected to by the
checked address only, so a name that resolves differently a moment later (DNS rebinding)
cannot slip through.

Refused unless allow-listed: loopback, private (RFC 1918, fc00::/7), link-local (incl.
169.254.169.254), CGNAT 100.64.0.0/10, multicast, unspecified, reserved and other
non-global addresses, and IPv4-mapped / tunnelled IPv6 forms. Odd IPv4 spellings
(`0x7f000001`, `2130706433`, `127.1`) resolve to the address they mean and are refused
by it. The allow-list (`[actions] egress_allow`) takes networks, addresses and host
names, each optionally with a port (`127.0.0.1:8025`, `[::1]:9000`, `crm.internal:443`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from agents.act.errors import EgressBlockedError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_RULES: tuple[tuple[str, str], ...] = (
    ("is_unspecified", "an unspecified address"),
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address"),
    ("is_multicast", "a multicast address"),
    ("is_private", "a private network address"),
    ("is_reserved", "a reserved address"),
)


def blocked_reason(ip: IPAddress) -> str | None:
    """Why `ip` must not be called, in plain words; None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if ip.sixtofour is not None or ip.teredo is not None or ip in _NAT64:
            return "a tunnelled IPv6 address"
    if ip in _CGNAT:
        return "a carrier-grade NAT address (100.64.0.0/10)"
    for attribute, reason in _RULES:
        if getattr(ip, attribute):
            return reason
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class _Allowed:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None
    host: str | None
    port: int | None

    def matches(self, host: str, ip: IPAddress | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return host.lower().rstrip(".") == self.host
        return ip is not None and self.network is not None and ip in self.network


def _parse_entry(entry: str) -> _Allowed:
    text = entry.strip()
    port: int | None = None
    if text.startswith("["):  # [v6] or [v6]:port
        inner, _, rest = text[1:].partition("]")
        text = inner
        if rest.startswith(":"):
            port = int(rest[1:])
    elif text.count(":") == 1:  # v4:port or host:port (a bare v6 has several colons)
        text, _, port_text = text.partition(":")
        port = int(port_text)
    try:
        return _Allowed(ipaddress.ip_network(text, strict=False), None, port)
    except ValueError:
        if not text or "/" in text:
            raise ValueError(f"egress_allow entry {entry!r} is not a network or host") from None
        return _Allowed(None, text.lower().rstrip("."), port)


def _address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%", 1)[0])


def _literal(name: str) -> list[IPAddress]:
    """An address written in its standard form needs no lookup (odd spellings do)."""
    try:
        return [_address(name)]
    except ValueError:
        return []


def _lookup(name: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise EgressBlockedError(f"The host {name!r} could not be resolved.") from error
    addresses: list[IPAddress] = []
    for info in infos:
        ip = _address(str(info[4][0]))
        if ip not in addresses:
            addresses.append(ip)
    return addresses


class EgressPolicy:
    """Which destinations outbound connections may reach; built once from settings."""

    def __init__(self, allow: Iterable[str] = (), *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._allow = tuple(_parse_entry(entry) for entry in allow)

    def allowed(self, host: str, ip: IPAddress | None, port: int) -> bool:
        return any(rule.matches(host, ip, port) for rule in self._allow)

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` resolves to, checked; EgressBlockedError if any is refused.

        Connect only to an address this returns (never resolve the name again).
        """
        name = host.strip("[]")
        addresses = _literal(name) or _lookup(name, port)
        if not addresses:
            raise EgressBlockedError(f"The host {name!r} has no address.")
        if not self.enabled:
            return addresses
        for ip in addresses:
            reason = blocked_reason(ip)
            if reason and not self.allowed(name, ip, port):
                raise EgressBlockedError(
                    f"Calls to {name} (port {port}) are not allowed: it resolves to {reason}. "
                    "An appliance admin can allow it with [actions] egress_allow."
                )
        return addresses

    def connect(self, host: str, port: int, timeout: float) -> socket.socket:
        """A TCP connection to a checked address of `host` (for SMTP)."""
        last: OSError | None = None
        for ip in self.resolve(host, port):
            try:
                return socket.create_connection((str(ip), port), timeout=timeout)
            except OSError as error:
                last = error
        assert last is not None
        raise last
