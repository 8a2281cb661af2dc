"""The API rate limit: N requests per rolling minute per API key, user or client address.

A generic cell rate algorithm (GCRA): each caller has one number, the time its allowance
is spent until; a request pushes it 60/N seconds on and is refused when that lands more
than a minute ahead. So a caller may burst N requests, then gets one every 60/N seconds,
and each check is O(1). Litestar's RateLimitMiddleware keeps every request time of the
window per caller and decodes that list on each request; at a generous limit that alone
cost more than serving the request (docs/benchmarks.md, api suite).

All state lives on the event loop's thread (the middleware never awaits between reading
and writing it), so no lock is needed. Limits are per process, as the appliance is one.
"""

import math
import time
from collections.abc import Callable

from litestar.types import Scope

from app.api.headers import RawHeaders
from app.auth.client_address import client_address
from app.auth.principal import Principal
from app.errors import AppError

WINDOW_S = 60.0
_PRUNE_EVERY = 4096


class RateLimited(AppError):
    status_code = 429
    code = "too_many_requests"


class CellRateLimiter:
    """Allowance per key; `take` answers (allowed, remaining, seconds until a retry helps)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("the rate limit must allow at least one request a minute")
        self.per_minute = per_minute
        self._interval = WINDOW_S / per_minute
        self._spent_until: dict[str, float] = {}
        self._clock = clock
        self._calls = 0

    def take(self, key: str) -> tuple[bool, int, int]:
        now = self._clock()
        self._calls += 1
        if self._calls % _PRUNE_EVERY == 0:
            self._prune(now)
        spent_until = max(self._spent_until.get(key, now), now) + self._interval
        ahead = spent_until - now
        if ahead > WINDOW_S + 1e-9:
            return False, 0, max(1, math.ceil(ahead - WINDOW_S))
        self._spent_until[key] = spent_until
        remaining = int((WINDOW_S - ahead) / self._interval + 1e-9)
        return True, remaining, max(1, math.ceil(ahead))

    def _prune(self, now: float) -> None:
        # keys whose allowance is whole again carry no information
        self._spent_until = {k: v for k, v in self._spent_until.items() if v > now}


class RateLimit:
    """The per-caller limit of the API (run by the request gate, app/api/gate.py)."""

    def __init__(self, per_minute: int, trusted_proxies: list[str]) -> None:
        self.limiter = CellRateLimiter(per_minute)
        self._trusted = trusted_proxies
        self._policy = f"{per_minute}; w={int(WINDOW_S)}".encode()
        self._limit = str(per_minute).encode()

    def _key(self, principal: Principal | None, scope: Scope) -> str:
        if principal is not None:
            return principal.rate_key
        return "addr:" + client_address(scope, self._trusted)

    def take(self, principal: Principal | None, scope: Scope) -> RawHeaders:
        """Counts one request; its RateLimit-* headers, or RateLimited (429, Retry-After)."""
        allowed, remaining, reset = self.limiter.take(self._key(principal, scope))
        headers = (
            (b"ratelimit-policy", self._policy),
            (b"ratelimit-limit", self._limit),
            (b"ratelimit-remaining", str(remaining).encode()),
            (b"ratelimit-reset", str(reset).encode()),
        )
        if not allowed:
            raise RateLimited(
                f"too many requests: the limit is {self.limiter.per_minute} a minute",
                headers={
                    **{name.decode(): value.decode() for name, value in headers},
                    "Retry-After": str(reset),
                },
            )
        return headers
