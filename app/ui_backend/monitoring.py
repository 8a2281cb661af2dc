"""Monitoring figures and logs for the UI: a tenant's own, or (admins) the whole appliance.

Members of a tenant see their tenant's figures (its queued and running tasks, documents,
errors and task times from its activity log) and its activity log. Appliance admins may
ask for the appliance-wide view: the process's metrics and the JSON log file.
"""

import time
from typing import Any

from agents.telemetry.activity_log import ActivityLog, ActivityQuery
from app.observability.log_file import search_log_file
from app.observability.log_query import parse_log_query
from app.observability.status_api import agent_states
from app.runtime import Runtime
from app.services import Services
from app.ui_backend.gate import SessionGate
from ui.backend import MonitoringSample

WINDOW_S = 300  # task times are averaged over the last five minutes


def _metric_sums(registry: Any) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    sums: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in registry.collect():
        for sample in family.samples:
            sums.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return sums


def _total(sums: dict[str, Any], name: str, **match: str) -> float:
    return sum(
        v
        for labels, v in sums.get(name, {}).items()
        if all(dict(labels).get(k) == want for k, want in match.items())
    )


class MonitoringMethods:
    _gate: SessionGate
    _services: Services
    _runtime: Runtime

    def monitoring_available(self) -> bool:
        return True

    def _queue(self) -> Any:
        return self._runtime.queue

    def monitoring_sample(self, token: str | None, tenant_id: str | None) -> MonitoringSample:
        """One sample of live figures; `tenant_id` None: the appliance (admins only)."""
        if tenant_id is None:
            self._gate.admin(token)
            return self._appliance_sample()
        access = self._gate.access(token, tenant_id, "viewer", active=False)
        return self._tenant_sample(access.tenant_id)

    def _appliance_sample(self) -> MonitoringSample:
        sums = _metric_sums(self._runtime.observability.metrics.registry)
        status = self._queue().status()
        return MonitoringSample(
            at=time.time(),
            counters={
                "requests": _total(sums, "appliance_http_requests_total"),
                "server errors": _total(sums, "appliance_http_requests_total", status="5xx"),
                "tasks": _total(sums, "appliance_queue_tasks_total"),
                "task failures": _total(sums, "appliance_queue_tasks_total", outcome="failed"),
            },
            gauges={"queue depth": status["pending"], "busy workers": status["busy_workers"]},
            latency_sums={
                "request": _total(sums, "appliance_http_request_duration_seconds_sum"),
                "task": _total(sums, "appliance_queue_task_duration_seconds_sum"),
            },
            latency_counts={
                "request": _total(sums, "appliance_http_request_duration_seconds_count"),
                "task": _total(sums, "appliance_queue_task_duration_seconds_count"),
            },
        )

    def _tenant_sample(self, tenant_id: str) -> MonitoringSample:
        db = self._services.tenants.database(tenant_id)
        agents = agent_states(self._queue(), tenant_id, None)
        since = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - WINDOW_S))
        with db.read() as conn:
            done = conn.execute(
                "SELECT count(*) FROM documents WHERE state IN ('indexed', 'failed', 'unsupported')"
            ).fetchone()[0]
            errors = conn.execute(
                "SELECT count(*) FROM activity_log WHERE levelno >= 40"
            ).fetchone()[0]
            times = conn.execute(
                "SELECT agent, sum(duration_ms), count(*) FROM activity_log"
                " WHERE at >= ? AND duration_ms IS NOT NULL AND agent IS NOT NULL GROUP BY agent",
                (since,),
            ).fetchall()
        return MonitoringSample(
            at=time.time(),
            counters={"documents processed": float(done), "errors": float(errors)},
            gauges={
                "queued tasks": float(sum(a.get("queued", 0) for a in agents.values())),
                "running tasks": float(sum(len(a.get("running", [])) for a in agents.values())),
            },
            latency_sums={agent: total / 1000 for agent, total, _ in times},
            latency_counts={agent: float(n) for agent, _, n in times},
        )

    def logs(
        self, token: str | None, tenant_id: str | None, filters: dict[str, str]
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Log entries newest first and the next cursor; `tenant_id` None: the appliance's
        log file (admins only). Filters as the /logs API (level, agent, run_id, q, since,
        limit, cursor); a bad one raises the API's 400 error."""
        params = {k: v for k, v in filters.items() if v}
        query: ActivityQuery = parse_log_query(params)
        if tenant_id is None:
            self._gate.admin(token)
            return search_log_file(self._services.data.logs_dir, query)
        access = self._gate.access(token, tenant_id, "viewer", active=False)
        entries, cursor = ActivityLog(self._services.tenants.database(access.tenant_id)).search(
            query
        )
        return [e.public() for e in entries], cursor
