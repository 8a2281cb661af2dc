"""Health of the inference endpoints an appliance uses, and which one to call next.

An `EndpointPool` holds one or more endpoints serving the same model, in order of
preference. A call goes to the first endpoint not known to be down; a failed connection
marks it down and the caller moves on (fail-over). A down endpoint is tried again once
`recheck_after_s` has passed, and every health check (`/health/ready`, the dashboard)
probes endpoints whose last check is older than the caller allows, so an endpoint that
comes back is used again without a restart.
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit


class Probeable(Protocol):
    """An endpoint client: where it points (no credentials) and a cheap liveness check."""

    @property
    def endpoint(self) -> str: ...

    def check_health(self) -> str | None:
        """None when the endpoint answers, else a short reason without secrets."""
        ...


@dataclass(frozen=True)
class EndpointHealth:
    """What the appliance last learned about one endpoint."""

    url: str
    up: bool
    detail: str  # empty when up
    checked_at: float  # monotonic seconds; 0 = never checked


T = TypeVar("T", bound=Probeable)


def public_url(url: str) -> str:
    """`url` without user name, password, query or fragment: safe for logs and status."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class EndpointPool(Generic[T]):
    """Endpoints in order of preference with what is known of their health."""

    def __init__(
        self,
        endpoints: Sequence[T],
        *,
        recheck_after_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not endpoints:
            raise ValueError("an endpoint pool needs at least one endpoint")
        self.endpoints = list(endpoints)
        self._recheck_after_s = recheck_after_s
        self._clock = clock
        self._lock = threading.Lock()
        # unknown endpoints count as up until a call or a probe says otherwise
        self._state = {id(e): EndpointHealth(e.endpoint, True, "", 0.0) for e in self.endpoints}

    def candidates(self) -> list[T]:
        """Endpoints to try, in order: those up, then those down whose recheck is due; when
        every endpoint is down and none is due, all of them (a call must try something)."""
        now = self._clock()
        with self._lock:
            up = [e for e in self.endpoints if self._state[id(e)].up]
            due = [
                e
                for e in self.endpoints
                if not self._state[id(e)].up
                and now - self._state[id(e)].checked_at >= self._recheck_after_s
            ]
        return up + due or list(self.endpoints)

    def mark_up(self, endpoint: T) -> None:
        self._set(endpoint, True, "")

    def mark_down(self, endpoint: T, detail: str) -> None:
        self._set(endpoint, False, detail)

    @property
    def available(self) -> bool:
        """True while at least one endpoint is believed up (no probing)."""
        with self._lock:
            return any(state.up for state in self._state.values())

    def health(self, max_age_s: float = 5.0) -> list[EndpointHealth]:
        """Each endpoint's health, probing those last checked more than `max_age_s` ago."""
        now = self._clock()
        for endpoint in self.endpoints:
            with self._lock:
                stale = now - self._state[id(endpoint)].checked_at > max_age_s
            if stale:
                problem = endpoint.check_health()
                self._set(endpoint, problem is None, problem or "")
        with self._lock:
            return [self._state[id(e)] for e in self.endpoints]

    def _set(self, endpoint: T, up: bool, detail: str) -> None:
        with self._lock:
            self._state[id(endpoint)] = EndpointHealth(endpoint.endpoint, up, detail, self._clock())
