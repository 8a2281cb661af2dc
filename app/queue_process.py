"""One process's part in running the queue of a data directory.

The server (unless `serve --no-workers`) and every `appliance worker` process run queue
consumers on the same data directory. Each, at start, recovers what killed processes
left behind without touching what live ones are doing (claims by process token), then
starts its consumers. Exactly one of them owns the periodic work (`PeriodicLease`): it
schedules Huey's periodic tasks and runs the document reconciler every
`[queue] reconcile_interval_s` and the fault reconciler (app/fault_recovery.py) every
`[storage] reconcile_interval_s`; when it dies another takes over within moments.

A start-up recovery step that fails (a full disk) is logged in one line and the process
starts anyway, degraded: the fault reconciler finishes the job once the fault clears.
"""

import logging
import threading
from collections.abc import Callable, Collection

from app.act_wiring import resume_actions
from app.fault_recovery import ReconcileLoop
from app.periodic_lease import PeriodicLease, Presence
from app.report_wiring import requeue_unfinished_reports
from app.runtime import Runtime
from app.tasks import queued_document_tasks, reindex_after_model_change
from app.workflow_wiring import for_each_tenant
from storage.errors import describe

log = logging.getLogger("appliance.queue")


class Every:
    """Calls `func` every `interval_s` seconds in a daemon thread until stopped."""

    def __init__(self, name: str, interval_s: float, func: Callable[[], object]) -> None:
        self._func = func
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._func()
            except Exception:
                log.exception("periodic %s failed", self._thread.name)

    def stop(self) -> None:
        self._stop.set()


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
        # more periodic functions (e.g. another agent's reconciler) run beside the
        # document reconciler, in the owner only
        self.periodic: list[Callable[[], object]] = [self.reconcile_documents]
        self._timer: Every | None = None
        self._faults = ReconcileLoop(
            runtime.fault_reconciler.run_once, runtime.settings.storage.reconcile_interval_s
        )
        self._lock = threading.Lock()

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
        with self._lock:
            if self._timer is not None:
                return
            self.run_periodic()
            interval = self.runtime.settings.queue.reconcile_interval_s
            self._timer = Every("queue-reconciler", interval, self.run_periodic)
            self._timer.start()
            self._faults.start()

    def run_periodic(self) -> None:
        for func in self.periodic:
            try:
                func()
            except Exception:
                log.exception("periodic work %s failed", getattr(func, "__name__", func))

    def reconcile_documents(self) -> int:
        """Re-queue documents killed processes left behind (the owner, periodically)."""
        runtime = self.runtime
        return runtime.ingest.reconcile(
            queued_document_tasks(runtime.queue), runtime.settings.queue.orphan_after_s
        )

    def stop(self) -> None:
        """Stop the reconciler and the consumers (running tasks finish), give the lease up."""
        with self._lock:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
        self._faults.stop()
        self.runtime.queue.stop()
        self.lease.release()
        self.presence.close()
