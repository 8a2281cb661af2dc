"""Builds the observability parts once per process and hands them to the rest of the app.

`build_observability(services)` builds the one `Observability` (metrics, tenant labels,
the activity sink); the runtime keeps it. The server wraps the API with `observed_api`
and starts and stops the activity sink; the runtime gives the queue and the LLM backend
the metrics. With `[observability] metrics_enabled = false` and
`[logging] format = "text"`, nothing of this runs per request; traces only with
`otlp_endpoint` set.
"""

import platform
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from prometheus_client import disable_created_metrics

from agents.telemetry.metrics import Metrics
from app.observability.activity_sink import ActivitySink
from app.observability.collectors import ApplianceCollector
from app.observability.http_metrics import HttpObserver, HttpStats
from app.observability.tenant_labels import TenantLabels
from app.observability.tracing_setup import build_tracing
from app.services import Services
from app.settings import Settings


@dataclass
class Observability:
    metrics: Metrics
    labels: TenantLabels
    activity: ActivitySink | None
    collector: ApplianceCollector | None = None


def _version() -> str:
    try:
        return metadata.version("agent-appliance")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_observability(services: Services) -> Observability:
    """Metrics, tenant labels, tracing and the activity sink from `[observability]`."""
    settings = services.settings
    observe = settings.observability
    # the `_created` twin of every counter doubles the scrape and no rule reads it
    disable_created_metrics()
    metrics = Metrics(
        enabled=observe.metrics_enabled,
        info={
            "version": _version(),
            "python": platform.python_version(),
            "llm_backend": settings.models.llm_backend,
        },
    )
    metrics.tracing, provider = build_tracing(settings)
    if provider is not None:
        services.on_close(provider.shutdown)  # type: ignore[attr-defined]
    labels = TenantLabels(services.system, observe.tenant_label_limit)
    metrics.tenant_label = labels.label
    activity = (
        ActivitySink(services.tenants, observe.activity_retention_days, observe.activity_max_rows)
        if observe.activity_enabled
        else None
    )
    return Observability(metrics, labels, activity)


def collect_queue(obs: Observability, services: Services, queue_status: Any) -> None:
    """Register the scrape-time gauges (queue, disk, databases, tenants) once."""
    if obs.metrics.enabled and obs.collector is None:
        collector = ApplianceCollector(services.data, services.tenants, obs.labels, queue_status)
        obs.metrics.registry.register(collector)
        obs.collector = collector


def observed_api(api: Any, settings: Settings, obs: Observability) -> Any:
    """The API wrapped with request ids, HTTP metrics and request log lines, unless both
    metrics and JSON logging are off (then the API itself, at no cost)."""
    metrics = obs.metrics
    observing = settings.observability.metrics_enabled or settings.logging.format == "json"
    if not observing and not metrics.tracing.enabled:
        return api
    stats = None
    if metrics.enabled:
        stats = HttpStats()
        metrics.registry.register(stats)
    return HttpObserver(api, stats, metrics.tracing)
