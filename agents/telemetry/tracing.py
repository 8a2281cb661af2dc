"""Optional OpenTelemetry spans, off by default and free when off.

The composition root builds a `Tracing` with a tracer when `[observability] otlp_endpoint`
is set (app/observability/tracing_setup.py), else without one; then `span()` is an empty
context manager and opentelemetry is never imported. A span's context crosses the queue
as a W3C `traceparent` string beside the task's payload (`inject()` when enqueuing,
`continued()` when the task runs), so one trace follows a request into its tasks.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Tracing:
    """Spans under the current one; every method does nothing without a tracer."""

    def __init__(self, tracer: Any = None) -> None:
        self.tracer = tracer

    @property
    def enabled(self) -> bool:
        return self.tracer is not None

    @contextmanager
    def span(self, name: str, **attributes: Any) -> Iterator[Any]:
        """A child of the current span; yields the span (None when off)."""
        if self.tracer is None:
            yield None
            return
        with self.tracer.start_as_current_span(name, attributes=_clean(attributes)) as span:
            yield span

    def start(self, name: str, **attributes: Any) -> Any:
        """A child span that is not made current (for generators, which must not change
        their caller's context between items); the caller ends it. None when off."""
        if self.tracer is None:
            return None
        return self.tracer.start_span(name, attributes=_clean(attributes))

    def inject(self) -> str | None:
        """The current span's `traceparent`, to carry in a task message (None when off)."""
        if self.tracer is None:
            return None
        from opentelemetry import propagate

        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        return carrier.get("traceparent")

    @contextmanager
    def continued(self, traceparent: str | None, name: str, **attributes: Any) -> Iterator[None]:
        """A span that continues the trace `traceparent` came from (a new one without it)."""
        if self.tracer is None:
            yield
            return
        from opentelemetry import propagate

        parent = propagate.extract({"traceparent": traceparent} if traceparent else {})
        with self.tracer.start_as_current_span(name, context=parent, attributes=_clean(attributes)):
            yield


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attributes.items() if v is not None}
