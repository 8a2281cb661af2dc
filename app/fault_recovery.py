"""Recovery from transient faults without a restart: the periodic fault reconciler.

`FaultReconciler.run_once` is the one periodic hook (built by `app.runtime`, run by
`app.every.Every` in the periodic lease owner, app/queue_process.py, every
`storage.reconcile_interval_s`). Each pass queues again what a full disk, an I/O error, a
busy database, a lost task or a dead process left in a non-final state: documents (with
claims and backoff, agents/ingest/reconcile.py), workflow run
steps (expired leases, queued steps whose task was lost, agents/supervisor/reconcile.py),
outbox messages due for over a minute (the dispatcher's sweep) and reports whose process
died or whose task was lost (app/report_wiring.py). While the disk is
still full a pass fails quietly (one log line per kind of failure per window, see
app/observability/repeat_filter.py) and the next pass tries again.

It runs on a thread of its own rather than as a Huey periodic task: Huey's periodic
tasks have a one-minute grain and go through `queue.db`, the very file a full disk stops.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from agents.act.dispatcher import Dispatcher
from agents.ingest.reconcile import DocumentReconciler
from agents.supervisor.service import Supervisor
from storage.errors import describe
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.recovery")


@dataclass
class ReconcilePass:
    """What one pass did, and which parts could not run (their error codes)."""

    documents: int = 0
    steps: int = 0
    messages: int = 0
    reports: int = 0
    failures: dict[str, str] = field(default_factory=dict)


class FaultReconciler:
    """Queues again the documents, run steps and outbox messages left behind."""

    def __init__(
        self,
        tenants: TenantRegistry,
        documents: DocumentReconciler,
        supervisor: Supervisor,
        dispatcher: Dispatcher,
        reports: Callable[[], int] = lambda: 0,
    ) -> None:
        self.tenants = tenants
        self.documents = documents
        self.supervisor = supervisor
        self.dispatcher = dispatcher
        self.reports = reports
        self._lock = threading.Lock()  # one pass at a time

    def run_once(self) -> ReconcilePass:
        """One pass over every tenant; never raises."""
        result = ReconcilePass()
        with self._lock:
            self._part(result, "documents", self._documents)
            self._part(result, "steps", self._steps)
            self._part(result, "messages", self.dispatcher.sweep)
            self._part(result, "reports", self.reports)
        return result

    def _documents(self) -> int:
        return self.documents.run_once()

    def _steps(self) -> int:
        queued = 0
        for tenant in self.tenants.system.list_tenants():
            queued += self.supervisor.reconcile(tenant.id, startup=False).requeued
        return queued

    @staticmethod
    def _part(result: ReconcilePass, name: str, work: Callable[[], int]) -> None:
        try:
            setattr(result, name, work())
        except Exception as exc:  # noqa: BLE001 - the next pass tries again
            code = describe(exc).code
            result.failures[name] = code
            log.warning("fault reconciler: %s not reconciled (%s)", name, code)
