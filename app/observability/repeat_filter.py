"""Repeated identical errors are logged once with a count, not once per occurrence.

A worker polling a queue on a full disk fails the same way every second; each failure
used to write a full traceback into a log on that same full disk. `RepeatFilter` lets
the first record of a kind (logger, message template, exception type) through, holds
back the same kind for `window_s`, and lets the next one after the window through with
`repeated` = how many were held back (the formatter writes it; text gets a suffix).
Records below WARNING always pass.
"""

import logging
import logging.handlers
import threading
import time
from collections.abc import Callable

# keys remembered at most (a flood of distinct messages must not grow memory)
_MAX_KINDS = 1024


class RepeatFilter(logging.Filter):
    """A handler filter: one record per kind per window, with the count of the others."""

    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        # kind -> (time the last record of this kind was let through, records held back)
        self._seen: dict[tuple[str, str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or self.window_s <= 0:
            return True
        # one filter serves every handler: decide once per record
        verdict = getattr(record, "_repeat_verdict", None)
        if verdict is None:
            verdict = self._decide(record)
            record._repeat_verdict = verdict
        return bool(verdict)

    def _decide(self, record: logging.LogRecord) -> bool:
        exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else ""
        kind = (record.name, str(record.msg), exc_type)
        now = self._clock()
        with self._lock:
            last = self._seen.get(kind)
            if last is not None and now - last[0] < self.window_s:
                self._seen[kind] = (last[0], last[1] + 1)
                return False
            if len(self._seen) >= _MAX_KINDS:
                self._seen.clear()
            self._seen[kind] = (now, 0)
        if last is not None and last[1]:
            record.repeated = last[1]
            record.msg = f"{record.msg} (repeated {last[1]} more times)"
            if exc_type:
                # the traceback was written the first time; the count says the rest
                record.exc_info = None
                record.exc_text = None
        return True


class QuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log file; a write it cannot make (a full disk) is dropped silently instead of
    printing logging's own traceback to stderr for every record."""

    dropped = 0

    def handleError(self, record: logging.LogRecord) -> None:
        self.dropped += 1
