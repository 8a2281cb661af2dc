"""The durable task queue: encrypted SqliteHuey plus a consumer running inside the server.

Task payloads are small dataclasses of ids (never content or secrets). Agents provide
plain functions; this module registers them on the Huey instance with the services
they need bound in, so no agent imports the app.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from huey.consumer import Consumer

from agents.telemetry import context
from agents.telemetry.metrics import Metrics
from app.settings import Settings
from storage.datadir import DataDir
from storage.masterkey import MasterKey
from storage.queue_storage import EncryptedHuey

log = logging.getLogger("appliance.queue")


def build_huey(data: DataDir, master: MasterKey) -> EncryptedHuey:
    return EncryptedHuey(
        "appliance",
        filename=str(data.queue_db),
        key=master.queue_db_key,
        results=False,
        utc=True,
    )


class _InProcessConsumer(Consumer):
    """A consumer that leaves signal handling to uvicorn, which owns the process."""

    def _set_signal_handlers(self) -> None:
        return None


class QueueRunner:
    """Starts and stops Huey worker threads with the server's lifespan."""

    def __init__(
        self, huey: EncryptedHuey, settings: Settings, metrics: Metrics | None = None
    ) -> None:
        self.huey = huey
        self._settings = settings
        self.metrics = metrics or Metrics(enabled=False)
        self._consumer: _InProcessConsumer | None = None
        self._busy = 0
        self._busy_lock = threading.Lock()
        # what each worker is doing now: (task name, tenant id or None, monotonic start)
        self._running: dict[int, tuple[str, str | None, float]] = {}
        self._payloads: dict[int, Any] = {}  # the payload each worker runs now

    def register(self, name: str, func: Callable[..., Any], retries: int = 2) -> Any:
        """Register `func` as task `name`; returns the callable that enqueues it.

        Every run is counted (busy workers, what runs now), timed and counted by outcome
        in the metrics, and logged with the payload's tenant and the agent (the name's
        first part) in the log context."""
        agent = name.partition(".")[0]

        def counted(*args: Any, traceparent: str | None = None, **kwargs: Any) -> Any:
            tenant_id = getattr(args[0], "tenant_id", None) if args else None
            started = time.monotonic()
            with self._busy_lock:
                self._busy += 1
                self._running[threading.get_ident()] = (name, tenant_id, started)
                self._payloads[threading.get_ident()] = args[0] if args else None
            self.metrics.task_started(name)
            ok = False
            error = None
            try:
                with (
                    context.bound(tenant_id=tenant_id, agent=agent),
                    self.metrics.tracing.continued(traceparent, f"task {name}", tenant=tenant_id),
                ):
                    result = func(*args, **kwargs)
                    ok = True
                    return result
            except Exception as exc:
                error = type(exc).__name__  # the type only: messages may quote content
                raise
            finally:
                seconds = time.monotonic() - started
                with self._busy_lock:
                    self._busy -= 1
                    self._running.pop(threading.get_ident(), None)
                    self._payloads.pop(threading.get_ident(), None)
                self.metrics.task_finished(name, seconds, ok)
                with context.bound(tenant_id=tenant_id, agent=agent):
                    log.log(
                        logging.INFO if ok else logging.WARNING,
                        "task %s %s",
                        name,
                        "done" if ok else "failed",
                        extra={
                            "task": name,
                            "outcome": "ok" if ok else "failed",
                            "duration_ms": round(seconds * 1000, 3),
                            "error": error,
                        },
                    )

        counted.__name__ = name
        task = self.huey.task(retries=retries, retry_delay=5, name=name)(counted)
        tracing = self.metrics.tracing
        if not tracing.enabled:
            return task

        def enqueue_traced(*args: Any, **kwargs: Any) -> Any:
            # the trace crosses the queue as a traceparent beside the payload
            return task(*args, traceparent=tracing.inject(), **kwargs)

        return enqueue_traced

    def start(self) -> None:
        queue = self._settings.queue
        self._consumer = _InProcessConsumer(
            self.huey,
            workers=queue.workers,
            worker_type="thread",
            periodic=True,
            initial_delay=queue.poll_interval_s,
            max_delay=queue.max_poll_interval_s,
            check_worker_health=False,
            shutdown_timeout=self._settings.server.shutdown_timeout_s,
        )
        self._consumer.start()
        log.info("queue started with %d worker threads", queue.workers)

    def stop(self) -> None:
        """Let running tasks finish (up to the shutdown timeout); queued ones stay queued."""
        if self._consumer is None:
            return
        self._consumer.stop(graceful=True)
        self._consumer = None
        self.huey.storage.close()
        log.info("queue stopped")

    @property
    def running(self) -> bool:
        consumer = self._consumer
        if consumer is None or consumer.stop_flag.is_set():
            return False
        return all(proc.is_alive() for _, proc in consumer.worker_threads)

    @property
    def busy_workers(self) -> int:
        return self._busy

    def running_tasks(self) -> list[tuple[str, str | None, float]]:
        """(task name, tenant id, seconds running) of every task running now."""
        now = time.monotonic()
        with self._busy_lock:
            return [(n, t, now - started) for n, t, started in self._running.values()]

    def payloads_in_hand(self) -> set[Any]:
        """The payloads waiting in the queue and those this process's workers run now:
        what a reconciler must not queue again."""
        with self._busy_lock:
            held = {p for p in self._payloads.values() if p is not None}
        for task in self.huey.pending():
            if task.args:
                held.add(task.args[0])
        return held

    def pending(self) -> int:
        return int(self.huey.pending_count())

    def status(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "workers": self._settings.queue.workers,
            "busy_workers": self.busy_workers,
            "pending": self.pending(),
        }
