"""Host header check against `server.allowed_hosts` (DNS-rebinding protection).

Litestar's own AllowedHostsMiddleware (2.22+) compares the Host header *with* its port,
so `Host: 127.0.0.1:8080` never matches `127.0.0.1` (litestar-org/litestar#4869). This
check parses host and port strictly and renders errors in the appliance's JSON format.
"""

import re
from collections.abc import Iterable
from typing import Any

from app.errors import AppError

_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))(?::\d{1,5})?$")


class HostRejected(AppError):
    status_code = 400
    code = "invalid_host"


class AllowedHosts:
    """Exact names, `*.suffix` wildcards, or `*` for any host."""

    def __init__(self, allowed: Iterable[str]) -> None:
        names = {item.strip().lower().strip("[]") for item in allowed}
        self.any = "*" in names
        self.suffixes = tuple(n[1:] for n in names if n.startswith("*."))
        self.exact = frozenset(n for n in names if not n.startswith("*"))

    def allows(self, host_header: str | None) -> bool:
        if self.any:
            return True
        match = _HOST.match(host_header or "")
        if match is None:
            return False
        host = (match.group("v6") or match.group("name")).lower()
        return host in self.exact or host.endswith(self.suffixes)

    def allows_scope(self, scope: Any) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"host":
                return self.allows(value.decode("latin-1"))
        return False
