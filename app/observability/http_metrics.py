"""One ASGI wrapper around the API: request id, HTTP metrics and the request log line.

It wraps Litestar from outside (not a Litestar middleware: each layer there cost
microseconds per request, docs/benchmarks.md). Litestar routes in place, so once the
request is done the scope names the route template and handler; the tenant and user
are in the log context (set by the request gate). Each request gets an id
(`X-Request-ID` on the response, `request_id` on every log line written meanwhile).
Changing requests to a tenant (and server errors) are logged as one line; reads are not,
as a line per listing would cost more than the listing (the api benchmark).
"""

import itertools
import logging
import secrets
import time
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from agents.telemetry import context
from agents.telemetry.metrics import HTTP_BUCKETS, PREFIX, status_class
from agents.telemetry.tracing import Tracing
from app.api.headers import REQUEST_ID_KEY, STATUS_KEY

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


class HttpStats(Collector):
    """Request counts and latency buckets, kept as plain numbers and exposed at scrape time.

    prometheus_client's Counter and Histogram take a lock per update (about 6 us per
    request for both, measured); every update here happens on the event loop thread, so
    plain integers suffice, and a scrape (in a worker thread) copies them in one step.
    """

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = {}
        # (route, method) -> [bucket counts (last one: above the highest bound), sum]
        self.latency: dict[tuple[str, str], list[Any]] = {}

    def record(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status_class(status))
        self.requests[key] = self.requests.get(key, 0) + 1
        entry = self.latency.get((route, method))
        if entry is None:
            entry = self.latency[(route, method)] = [[0] * (len(HTTP_BUCKETS) + 1), 0.0]
        entry[0][bisect_left(HTTP_BUCKETS, seconds)] += 1
        entry[1] += seconds

    def collect(self) -> Iterator[CounterMetricFamily | HistogramMetricFamily]:
        requests = CounterMetricFamily(
            f"{PREFIX}_http_requests",
            "API requests by route template, method and status class.",
            labels=["route", "method", "status"],
        )
        for key, count in sorted(list(self.requests.items())):
            requests.add_metric(list(key), count)
        yield requests
        latency = HistogramMetricFamily(
            f"{PREFIX}_http_request_duration_seconds",
            "API request latency by route template.",
            labels=["route", "method"],
        )
        bounds = [*map(str, HTTP_BUCKETS), "+Inf"]
        for (route, method), (buckets, total) in sorted(list(self.latency.items())):
            cumulative, running = [], 0
            for bound, in_bucket in zip(bounds, list(buckets), strict=True):
                running += in_bucket
                cumulative.append((bound, running))
            latency.add_metric([route, method], cumulative, total)
        yield latency


class HttpObserver:
    """The ASGI wrapper; `stats` None when metrics are off (then only ids and log lines)."""

    def __init__(self, app: Any, stats: HttpStats | None, tracing: Tracing | None = None) -> None:
        self.app = app
        self.stats = stats
        self.tracing = tracing or Tracing(None)
        # request ids: a random prefix per process and a counter (unique, and cheaper
        # than random bytes per request)
        self._prefix = secrets.token_hex(4)
        self._numbers = itertools.count(1)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"{self._prefix}{next(self._numbers):08x}"
        context.request_id.set(request_id)
        # Litestar's before_send hook (app/api/headers.py) sends the id back and leaves
        # the status in the scope: a send wrapper here cost more than all the rest
        scope[REQUEST_ID_KEY] = request_id
        started = time.perf_counter()
        if self.tracing.enabled:
            await self._traced(scope, receive, send, started)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._record(scope, scope.get(STATUS_KEY, 500), time.perf_counter() - started)

    async def _traced(self, scope: Any, receive: Any, send: Any, started: float) -> None:
        with self.tracing.span(
            f"{scope['method']} request", request_id=scope[REQUEST_ID_KEY]
        ) as span:
            try:
                await self.app(scope, receive, send)
            finally:
                status = scope.get(STATUS_KEY, 500)
                span.update_name(f"{scope['method']} {route_template(scope)}")
                span.set_attribute("http.status_code", status)
                self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Any, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope["method"]
        if self.stats is not None:
            self.stats.record(route, method, status, seconds)
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
