"""A function called every few seconds on a daemon thread, until stopped."""

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("appliance.every")


class Every:
    """Calls `func` every `interval_s` seconds (the first call after one interval) on a
    daemon thread named `name`; an exception is logged and the next call made anyway."""

    def __init__(self, name: str, interval_s: float, func: Callable[[], object]) -> None:
        self.name = name
        self._func = func
        self._interval_s = max(0.1, interval_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self._func()
            except Exception:
                log.warning("periodic %s failed", self.name, exc_info=True)

    def stop(self) -> None:
        """Stop calling; waits for a call in progress (at most 30 s)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
