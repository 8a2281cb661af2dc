"""One ASGI wrapper around the API: request id, HTTP metrics and the request log line.

It wraps Litestar from outside (not a Litestar middleware: each layer there cost
microseconds per request, docs/benchmarks.md). Litestar routes in place, so once the
request is done the scope names the route template and handler; the tenant and user
are in the log context (set by the request gate). Each request gets an id
(`X-Request-ID` on the response, `request_id` on every log line written meanwhile).
Changing requests to a tenant (and server errors) are logged as one line; reads are not,
as a line per listing would cost more than the listing (the api benchmark).
"""

import logging
import secrets
import time
from typing import Any

from agents.telemetry import context
from agents.telemetry.metrics import Metrics, status_class

log = logging.getLogger("appliance.http")

UNMATCHED = "unmatched"
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def route_template(scope: dict[str, Any]) -> str:
    """The matched route's path template (`/api/v1/tenants/{tenant}/documents`), never
    the raw path, so ids do not multiply the series."""
    template = scope.get("path_template")
    if template:
        return str(template)
    return UNMATCHED


class HttpObserver:
    """The ASGI wrapper; `metrics` may be disabled (then only ids and log lines)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._counters: dict[tuple[str, str, str], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        context.request_id.set(request_id)
        status = 500
        header = (b"x-request-id", request_id.encode())

        async def observed_send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, observed_send)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Any, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"]
        if self.metrics.enabled:
            key = (route, method, status_class(status))
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = self.metrics.http_requests.labels(*key)
            counter.inc()
            hkey = (route, method)
            histogram = self._histograms.get(hkey)
            if histogram is None:
                histogram = self._histograms[hkey] = self.metrics.http_duration.labels(*hkey)
            histogram.observe(seconds)
        if status >= 500 or (method not in _READS and context.tenant_id.get() is not None):
            log.log(
                logging.ERROR if status >= 500 else logging.INFO,
                "request %s %s -> %d",
                method,
                route,
                status,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "agent": "api",
                },
            )
