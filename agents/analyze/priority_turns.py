"""Turns on a shared model where short, interactive calls go before bulk work.

Indexing a large document embeds thousands of chunks; a search query needs one vector.
Bulk callers take one turn per batch and, between batches, let every waiting urgent
caller go first, so a query waits for at most one batch, never for a whole document.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class PriorityTurns:
    """A lock with two classes of waiters: urgent ones are served before bulk ones."""

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._busy = False
        self._urgent_waiting = 0

    @property
    def busy(self) -> bool:
        """True while some caller holds the turn."""
        return self._busy

    @contextmanager
    def turn(self, *, urgent: bool) -> Iterator[None]:
        """Hold the turn for the block; bulk callers also wait for queued urgent ones."""
        with self._changed:
            if urgent:
                self._urgent_waiting += 1
                try:
                    while self._busy:
                        self._changed.wait()
                finally:
                    self._urgent_waiting -= 1
            else:
                while self._busy or self._urgent_waiting:
                    self._changed.wait()
            self._busy = True
        try:
            yield
        finally:
            with self._changed:
                self._busy = False
                self._changed.notify_all()
