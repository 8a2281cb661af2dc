"""`appliance worker`: queue consumers without the web server, on the same data directory.

Several worker processes and the server share one data directory (SQLite in WAL mode,
each process with its own connections; busy timeouts honoured) or one Redis queue.
Periodic work runs in exactly one of them (app/periodic_lease.py). SIGTERM or SIGINT
stops it gracefully: running tasks finish (up to `[server] shutdown_timeout_s`), queued
ones stay queued. A worker killed with -9 loses nothing: what it had claimed is
re-queued by the reconciler of the process owning the periodic work, or at its restart.
"""

import argparse
import logging
import signal
import threading
from types import FrameType

from app.cli.context import CliError, open_from
from app.logging_setup import configure_logging
from app.queue import GROUPS
from app.queue_process import QueueProcess
from app.runtime import build_runtime

log = logging.getLogger("appliance.worker")


def parse_queues(raw: str | None, separate: list[str]) -> list[str] | None:
    """`--queues documents,default` as a list (None: every queue of this appliance)."""
    if not raw:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    known = ["default", *separate]
    for name in names:
        if name not in GROUPS:
            raise CliError(f"unknown queue {name!r}; queues: {', '.join(GROUPS)}")
        if name not in known:
            raise CliError(
                f"queue {name!r} is not separate here: add it to [queue] separate "
                f"(queues now: {', '.join(known)})"
            )
    return list(dict.fromkeys(names))


def worker(args: argparse.Namespace) -> int:
    services = open_from(args)
    stop = threading.Event()

    def stopped(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
    process: QueueProcess | None = None
    try:
        configure_logging(services.settings.logging, services.data.logs_dir)
        queues = parse_queues(args.queues, list(services.settings.queue.separate))
        if args.workers is not None and args.workers < 1:
            raise CliError("--workers must be at least 1")
        runtime = build_runtime(services)
        process = QueueProcess(runtime, queues=queues, workers=args.workers)
        process.start()
        print(
            f"worker running: queues {', '.join(queues or runtime.queue.hueys)}, "
            f"{args.workers or services.settings.queue.workers} threads each",
            flush=True,
        )
        stop.wait()
        log.info("worker stopping")
    finally:
        if process is not None:
            process.stop()
        services.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
