"""Copies the log records of tenant work into that tenant's activity log, in batches.

A logging handler takes every record at INFO or above from an `appliance.*` logger that
belongs to a tenant (a tenant id in the log context or the record) and queues it in
memory; a thread writes the queue to each tenant's database once a second and prunes
each tenant's log (age, row count) every few minutes. Writing from the handler itself
would take a tenant database's write lock inside code that may hold it already; the
bounded queue drops the oldest records rather than slow the appliance when a disk stalls.
"""

import logging
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta

from agents.telemetry.activity_log import ActivityEntry, ActivityLog
from app.observability.log_format import EXTRA_FIELDS, record_fields
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.activity")

FLUSH_INTERVAL_S = 1.0
PRUNE_INTERVAL_S = 600.0
MAX_QUEUED = 10_000


class ActivitySink(logging.Handler):
    """The handler and its writer thread; `start()` installs it on the root logger."""

    def __init__(self, tenants: TenantRegistry, retention_days: int, max_rows: int) -> None:
        super().__init__(level=logging.INFO)
        self.tenants = tenants
        self.retention = timedelta(days=retention_days)
        self.max_rows = max_rows
        self._queue: deque[tuple[str, ActivityEntry]] = deque(maxlen=MAX_QUEUED)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("appliance") or record.name == log.name:
            return
        fields = record_fields(record)
        tenant_id = fields.pop("tenant_id", None)
        if not tenant_id:
            return
        detail = {k: fields[k] for k in EXTRA_FIELDS if k in fields and k != "duration_ms"}
        if record.exc_info and record.exc_info[0] is not None:
            detail["exc_type"] = record.exc_info[0].__name__
        self._queue.append(
            (
                str(tenant_id),
                ActivityEntry(
                    at=fields["ts"],
                    level=fields["level"],
                    logger=fields["logger"],
                    event=fields["event"],
                    agent=fields.get("agent"),
                    request_id=fields.get("request_id"),
                    user=fields.get("user"),
                    run_id=fields.get("run_id"),
                    step_id=fields.get("step_id"),
                    duration_ms=fields.get("duration_ms"),
                    detail=detail,
                ),
            )
        )

    def start(self) -> None:
        logging.getLogger().addHandler(self)
        self._thread = threading.Thread(target=self._run, name="activity-sink", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Remove the handler and write what is queued."""
        logging.getLogger().removeHandler(self)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL_S):
            self.flush()

    def flush(self) -> None:
        """Write every queued entry to its tenant's database (also called by tests)."""
        by_tenant: dict[str, list[ActivityEntry]] = {}
        while self._queue:
            tenant_id, entry = self._queue.popleft()
            by_tenant.setdefault(tenant_id, []).append(entry)
        for tenant_id, entries in by_tenant.items():
            try:
                activity = ActivityLog(self.tenants.database(tenant_id))
                activity.append_many(entries)
                self._maybe_prune(tenant_id, activity)
            except Exception as exc:  # noqa: BLE001 - a deleted tenant, a full disk: drop them
                log.warning(
                    "activity entries of a tenant dropped: %s",
                    type(exc).__name__,
                    extra={"count": len(entries)},
                )

    def _maybe_prune(self, tenant_id: str, activity: ActivityLog) -> None:
        now = time.monotonic()
        if now - self._pruned_at.get(tenant_id, -PRUNE_INTERVAL_S) < PRUNE_INTERVAL_S:
            return
        self._pruned_at[tenant_id] = now
        cutoff = (datetime.now(UTC) - self.retention).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        activity.prune(cutoff, self.max_rows)
