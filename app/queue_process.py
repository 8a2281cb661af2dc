"""One process's part in running the queue of a data directory.

The server (unless `serve --no-workers`) and every `appliance worker` process run queue
consumers on the same data directory. Each, at start, recovers what killed processes
left behind without touching what live ones are doing (claims by process token), then
starts its consumers. Exactly one of them owns the periodic work (`PeriodicLease`): it
schedules Huey's periodic tasks and runs the one reconciler (app/fault_recovery.py:
documents, run steps, outbox messages, reports left behind by a fault or a dead process) every
`[storage] reconcile_interval_s`; when it dies another takes over within moments.

A start-up recovery step that fails (a full disk) is logged in one line and the process
starts anyway, degraded: the fault reconciler finishes the job once the fault clears.
"""

import logging
import threading
from collections.abc import Callable, Collection

from app.act_wiring import resume_actions
from app.every import Every
from app.periodic_lease import PeriodicLease, Presence
from app.report_wiring import requeue_unfinished_reports
from app.runtime import Runtime
from app.tasks import queued_document_tasks, reindex_after_model_change
from app.workflow_wiring import for_each_tenant
from storage.errors import describe

log = logging.getLogger("appliance.queue")


def recover(name: str, work: Callable[[], object]) -> None:
    """Run one recovery step; a failure is logged in one line, never raised."""
    try:
        work()
    except Exception as exc:  # noqa: BLE001 - degraded mode instead of a crash loop
        log.warning(
            "start-up %s did not finish (%s); retried while running", name, describe(exc).code
        )


class QueueProcess:
    """Start-up recovery, consumers, the periodic lease and the reconciler of a process."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        queues: Collection[str] | None = None,
        workers: int | None = None,
    ) -> None:
        self.runtime = runtime
        self.queues = list(queues) if queues else None
        self.workers = workers
        data_dir = runtime.services.data.root
        self.lease = PeriodicLease(data_dir)
        self.presence = Presence(data_dir)
        self._reconciler = Every(
            "reconciler",
            runtime.settings.storage.reconcile_interval_s,
            runtime.fault_reconciler.run_once,
        )
        self._lock = threading.Lock()
        self._periodic_started = False

    @property
    def serves_default(self) -> bool:
        return self.queues is None or "default" in self.queues

    def start(self) -> None:
        """Recover, take the lease if free, start the consumers; else wait for the lease."""
        runtime = self.runtime
        alone = self.presence.alone()
        owner = self.serves_default and self.lease.try_acquire()
        recover(
            "re-index check",
            lambda: reindex_after_model_change(runtime.analysis, runtime.enqueue.index),
        )
        # documents a killed process left mid-way (Huey does not redeliver them); with
        # other processes running, only what dead ones claimed or nobody touched lately
        recover(
            "document reconcile",
            lambda: runtime.ingest.reconcile(
                queued_document_tasks(runtime.queue),
                None if alone else runtime.settings.queue.orphan_after_s,
            ),
        )
        if alone:
            # every `delivering` outbox row and running report was a dead process's
            recover("outbox resume", lambda: resume_actions(runtime.dispatcher))
            recover(
                "report requeue",
                lambda: requeue_unfinished_reports(
                    runtime.reports, runtime.services, runtime.queue
                ),
            )
        if owner:
            # workflow steps a killed process left running, and schedule slots it missed
            recover(
                "workflow reconcile",
                lambda: for_each_tenant(runtime.services, runtime.supervisor, startup=alone),
            )
        runtime.queue.start(self.queues, periodic=owner, workers=self.workers)
        if owner:
            self._start_periodic()
        elif self.serves_default:
            self.lease.wait_in_background(self._take_over)
        log.info(
            "queue process started (%s, %s)",
            "alone" if alone else "beside others",
            "periodic owner" if owner else "no periodic work",
        )

    def _take_over(self) -> None:
        runtime = self.runtime
        if not runtime.queue.enable_periodic():
            return
        for_each_tenant(runtime.services, runtime.supervisor, startup=False)
        self._start_periodic()

    def _start_periodic(self) -> None:
        """Reconcile once now (what a dead owner left is not kept waiting), then on a timer."""
        with self._lock:
            if self._periodic_started:
                return
            self._periodic_started = True
        self.runtime.fault_reconciler.run_once()
        self._reconciler.start()

    def stop(self) -> None:
        """Stop the reconciler and the consumers (running tasks finish), give the lease up."""
        self._reconciler.stop()
        self.runtime.queue.stop()
        self.lease.release()
        self.presence.close()
