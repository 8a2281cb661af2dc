"""The worker's to-do list: candidate files (de-duplicated) and scan bookkeeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path

from agents.ingest.sources.dropbox.stability import Candidate


class PendingFiles:
    """Thread-safe: event threads add, the one worker takes, drain() waits for empty."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._items: dict[Path, Candidate] = {}
        self._scan_requested = True  # the first pass lists files present at start-up
        self._scans_started = 0
        self._scans_done = 0
        self._closed = False

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def add(self, path: Path, relative_name: str) -> None:
        """Note a file to look at now; a file already pending keeps its state."""
        with self._cond:
            if path not in self._items:
                self._items[path] = Candidate(path, relative_name, due=time.monotonic())
                self._cond.notify_all()

    def remove(self, candidate: Candidate) -> None:
        """Forget a candidate (moved out of the inbox, or gone)."""
        with self._cond:
            if self._items.get(candidate.path) is candidate:
                del self._items[candidate.path]
            self._cond.notify_all()

    def request_scan(self) -> None:
        """Ask the worker for a full rescan as soon as it is free."""
        with self._cond:
            self._scan_requested = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        """True once close() was called: the worker should stop between files."""
        return self._closed

    def close(self) -> None:
        """Wake the worker so that it can exit."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def next_work(self, next_scan: float) -> tuple[int | None, list[Candidate]] | None:
        """Block until there is work: (scan number, []) when a scan is due, (None, due
        candidates) when files need a look, None once closed."""
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                if self._scan_requested or now >= next_scan:
                    self._scan_requested = False
                    self._scans_started += 1
                    return self._scans_started, []
                due = [c for c in self._items.values() if c.due <= now]
                if due:
                    return None, sorted(due, key=lambda c: c.due)
                wake = min([next_scan, *(c.due for c in self._items.values())])
                self._cond.wait(max(0.0, wake - now))
            return None

    def finish_scan(self, number: int, found: Iterable[tuple[Path, str]]) -> None:
        """Add what scan `number` found and mark it complete."""
        with self._cond:
            now = time.monotonic()
            for path, relative_name in found:
                if path not in self._items:
                    self._items[path] = Candidate(path, relative_name, due=now)
            self._scans_done = max(self._scans_done, number)
            self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until a scan started after this call has run and nothing is pending."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self._scans_started + 1
            self._scan_requested = True
            self._cond.notify_all()
            while self._scans_done < target or self._items:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._cond.wait(remaining)
            return True
