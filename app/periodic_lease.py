"""Exactly one process of a data directory runs the periodic work.

Periodic work (workflow schedules and reconciler, mail polling, retention, outbox
sweeps, WAL checkpoints, the document reconciler) is scheduled by the process holding an
exclusive `flock` on `<data>/periodic.lock`. Every process that consumes the default
queue (the server with workers, `appliance worker`) tries to take it at start; the others
wait for it in a background thread, and the kernel hands it to one of them the moment
its holder exits or is killed (-9 included: the kernel drops the lock with the process).

`<data>/queue-processes.lock` is held shared by every queue process, so one can tell
whether it is alone (then the start-up recovery may treat every claim as abandoned).
"""

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("appliance.queue")

PERIODIC_LOCK = "periodic.lock"
PRESENCE_LOCK = "queue-processes.lock"


class PeriodicLease:
    """The exclusive right to schedule periodic work, for as long as this process lives."""

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / PERIODIC_LOCK
        self._fd: int | None = None
        self._waiter: threading.Thread | None = None
        self._closed = threading.Event()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lease now if no other process holds it."""
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._took(fd)
        return True

    def wait_in_background(self, on_acquired: Callable[[], None]) -> None:
        """Block a daemon thread on the lock; call `on_acquired` when it is ours."""

        def wait() -> None:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)  # returns when the holder is gone
            if self._closed.is_set():
                os.close(fd)
                return
            self._took(fd)
            log.info("periodic work taken over (its previous process ended)")
            try:
                on_acquired()
            except Exception:
                log.exception("taking over the periodic work failed")

        self._waiter = threading.Thread(target=wait, name="periodic-lease", daemon=True)
        self._waiter.start()

    def _took(self, fd: int) -> None:
        # the holder's pid, for people looking at the data directory
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        """Give the lease up (a graceful stop); a waiting process takes it at once."""
        self._closed.set()
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class Presence:
    """A shared lock every queue process holds while it runs."""

    def __init__(self, data_dir: Path) -> None:
        self._fd = os.open(data_dir / PRESENCE_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def alone(self) -> bool:
        """True when no other queue process of this data directory runs now."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        return True

    def close(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
