"""The durable task queue: Huey (encrypted SQLite or Redis) and its consumers, in the
server or in `appliance worker` processes.

Task payloads are small dataclasses of ids (never content or secrets). Agents provide
plain functions; this module registers them on the Huey instance with the services
they need bound in, so no agent imports the app.
"""

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from huey import Huey
from huey.consumer import Consumer

from agents.telemetry import context
from agents.telemetry.metrics import Metrics
from app.queue_backends import build_huey, close_storage
from app.settings import Settings
from storage.datadir import DataDir
from storage.masterkey import MasterKey

log = logging.getLogger("appliance.queue")


# which task group (queue) a task belongs to, by its name; anything else is "default"
TASK_GROUPS = {
    "ingest.parse": "documents",
    "analyze.index": "documents",
    "workflow.step": "workflows",
    "act.deliver": "actions",
    "report.generate": "reports",
}
GROUPS = ("default", "documents", "workflows", "actions", "reports")


def group_of(task_name: str) -> str:
    return TASK_GROUPS.get(task_name, "default")


def build_queues(data: DataDir, master: MasterKey, settings: Settings) -> dict[str, Huey]:
    """One Huey instance per queue: `default`, plus each group `[queue] separate` names."""
    hueys = {"default": build_huey(data, master, settings)}
    for group in settings.queue.separate:
        hueys[group] = build_huey(data, master, settings, group)
    return hueys


class _InProcessConsumer(Consumer):
    """A consumer that leaves signal handling to its process's owner (uvicorn, or the
    worker command), and whose periodic scheduling can be switched on while it runs."""

    def _set_signal_handlers(self) -> None:
        return None

    def _create_scheduler(self) -> Any:
        self.scheduler_loop = super()._create_scheduler()
        return self.scheduler_loop

    def enable_periodic(self) -> None:
        self.periodic = True
        self.scheduler_loop.periodic = True


class QueueRunner:
    """Registers tasks on the queues and starts and stops their Huey worker threads
    (with the server's lifespan, or in `appliance worker`).

    `huey` is the default queue, which also holds the periodic tasks; `groups` the task
    groups `[queue] separate` gives queues of their own."""

    def __init__(
        self,
        huey: Huey,
        settings: Settings,
        metrics: Metrics | None = None,
        groups: Mapping[str, Huey] | None = None,
    ) -> None:
        self.huey = huey
        self.hueys: dict[str, Huey] = {"default": huey, **(groups or {})}
        self._settings = settings
        self.metrics = metrics or Metrics(enabled=False)
        self._consumers: dict[str, _InProcessConsumer] = {}
        # False in `serve --no-workers`: `appliance worker` processes run the tasks
        self.consumes_here = True
        self._workers = settings.queue.workers
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
        task = self.huey_for(name).task(retries=retries, retry_delay=5, name=name)(counted)
        tracing = self.metrics.tracing
        if not tracing.enabled:
            return task

        def enqueue_traced(*args: Any, **kwargs: Any) -> Any:
            # the trace crosses the queue as a traceparent beside the payload
            return task(*args, traceparent=tracing.inject(), **kwargs)

        return enqueue_traced

    def huey_for(self, task_name: str) -> Huey:
        """The queue a task goes to: its group's own, or the default one."""
        return self.hueys.get(group_of(task_name), self.huey)

    def start(
        self,
        queues: Collection[str] | None = None,
        *,
        periodic: bool = True,
        workers: int | None = None,
    ) -> None:
        """Start consumers for `queues` (default: every queue), `workers` threads each.
        `periodic`: this process schedules the periodic tasks (exactly one process of a
        data directory may: see app/periodic_lease.py)."""
        queue = self._settings.queue
        self._workers = workers or queue.workers
        for group in queues or list(self.hueys):
            consumer = _InProcessConsumer(
                self.hueys[group],
                workers=self._workers,
                worker_type="thread",
                periodic=periodic and group == "default",
                initial_delay=queue.poll_interval_s,
                max_delay=queue.max_poll_interval_s,
                check_worker_health=False,
                shutdown_timeout=self._settings.server.shutdown_timeout_s,
            )
            consumer.start()
            self._consumers[group] = consumer
        log.info(
            "queue started: %s, %d worker threads each%s",
            ", ".join(self._consumers),
            self._workers,
            ", periodic tasks" if periodic and "default" in self._consumers else "",
        )

    def enable_periodic(self) -> bool:
        """Take over the periodic tasks (their owner died); False without a default queue."""
        consumer = self._consumers.get("default")
        if consumer is None:
            return False
        consumer.enable_periodic()
        log.info("this process now schedules the periodic tasks")
        return True

    def stop(self) -> None:
        """Let running tasks finish (up to the shutdown timeout); queued ones stay queued."""
        if not self._consumers:
            return
        for consumer in self._consumers.values():
            consumer.stop(graceful=True)
        self._consumers = {}
        for huey in self.hueys.values():
            close_storage(huey)
        log.info("queue stopped")

    @property
    def running(self) -> bool:
        if not self._consumers:
            return False
        for consumer in self._consumers.values():
            if consumer.stop_flag.is_set():
                return False
            if not all(proc.is_alive() for _, proc in consumer.worker_threads):
                return False
        return True

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
        for task in self.pending_tasks():
            if task.args:
                held.add(task.args[0])
        return held

    def pending(self) -> int:
        return sum(int(huey.pending_count()) for huey in self.hueys.values())

    def pending_tasks(self) -> Iterator[Any]:
        """Every task waiting in any queue (not those scheduled for later)."""
        for huey in self.hueys.values():
            yield from huey.pending()

    def close(self) -> None:
        """Close the queue storages (for commands that enqueue without consuming)."""
        for huey in self.hueys.values():
            close_storage(huey)

    def status(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "workers": self._workers,
            "busy_workers": self.busy_workers,
            "pending": self.pending(),
        }
