"""A first-come-first-served lock, so callers of the shared model are served in order.

`threading.Lock` gives no ordering guarantee: under steady load one caller could wait
indefinitely while later ones get through. Here every waiter takes a ticket.
"""

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class FairQueue:
    """Serialises work in arrival order; `waiting` and `busy` feed the status page."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._busy = False

    @property
    def busy(self) -> bool:
        """True while some caller holds the turn."""
        return self._busy

    @property
    def waiting(self) -> int:
        """How many callers are queued behind the current one."""
        with self._mutex:
            return len(self._waiters)

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait for this caller's turn; False when `timeout` seconds passed first."""
        with self._mutex:
            if not self._busy and not self._waiters:
                self._busy = True
                return True
            ticket = threading.Event()
            self._waiters.append(ticket)
        if ticket.wait(timeout):
            return True
        with self._mutex:
            if ticket.is_set():  # the turn arrived just as the wait timed out: keep it
                return True
            self._waiters.remove(ticket)
            return False

    def release(self) -> None:
        """Hand the turn to the longest waiter, or mark the queue idle."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # ownership passes directly; _busy stays True
            else:
                self._busy = False

    @contextmanager
    def turn(self, timeout: float | None = None) -> Iterator[bool]:
        """`with queue.turn(t) as got:` holds the turn for the block when `got` is True."""
        got = self.acquire(timeout)
        try:
            yield got
        finally:
            if got:
                self.release()
