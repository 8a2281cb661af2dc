"""DropBoxManager: one drop box per tenant, sharing one watchdog observer."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType

from watchdog.observers.api import BaseObserver

from agents.ingest.sources.dropbox.config import DropBoxConfig
from agents.ingest.sources.dropbox.events import make_observer
from agents.ingest.sources.dropbox.outcome import Sink
from agents.ingest.sources.dropbox.watcher import DropBox


class DropBoxManager:
    """Watches the inboxes of several tenants; tenants can be added and removed at runtime.

    All boxes whose config matches the manager's observer kind share one observer (one
    inotify instance: the per-user limit is small, often 128); each box keeps its own
    worker thread, so a slow tenant does not hold up the others.
    """

    def __init__(self, config: DropBoxConfig | None = None) -> None:
        self.config = config or DropBoxConfig()
        self._boxes: dict[str, DropBox] = {}
        self._lock = threading.Lock()
        self._observer: BaseObserver | None = None

    def slugs(self) -> list[str]:
        """The tenants being watched, sorted."""
        with self._lock:
            return sorted(self._boxes)

    def get(self, slug: str) -> DropBox | None:
        """The box of tenant `slug`, if any."""
        with self._lock:
            return self._boxes.get(slug)

    def add(
        self, slug: str, inbox: Path, sink: Sink, config: DropBoxConfig | None = None
    ) -> DropBox:
        """Watch `inbox` for tenant `slug` (started at once if the manager runs)."""
        config = config or self.config
        with self._lock:
            if slug in self._boxes:
                raise ValueError(f"tenant {slug!r} already has a drop box")
            wanted = Path(inbox).resolve()
            for other in self._boxes.values():
                known = other.inbox.resolve()
                if wanted == known or known in wanted.parents or wanted in known.parents:
                    # Overlapping inboxes would hand the same file to two tenants.
                    raise ValueError(f"inbox {inbox} overlaps the inbox of {other.name!r}")
            box = DropBox(inbox, sink, config, name=slug)
            self._boxes[slug] = box
            if self._observer is not None:
                box.start(self._observer_for(box))
        return box

    def _observer_for(self, box: DropBox) -> BaseObserver | None:
        # A box that wants the other observer kind (polling vs events) runs its own.
        if box.config.use_polling_observer != self.config.use_polling_observer:
            return None
        return self._observer

    def remove(self, slug: str) -> None:
        """Stop watching tenant `slug` (files already taken are finished first)."""
        with self._lock:
            box = self._boxes.pop(slug, None)
        if box is not None:
            box.stop()

    def start(self) -> None:
        """Start the shared observer and every box."""
        with self._lock:
            if self._observer is not None:
                return
            observer = make_observer(self.config)
            observer.start()
            self._observer = observer
            for box in self._boxes.values():
                box.start(self._observer_for(box))

    def stop(self, timeout: float | None = None) -> None:
        """Stop every box, then the observer; bounded by `timeout` in total."""
        deadline = time.monotonic() + (timeout or self.config.stop_timeout_s)
        with self._lock:
            boxes = list(self._boxes.values())
            observer, self._observer = self._observer, None
        for box in boxes:
            box.stop(max(0.01, deadline - time.monotonic()))
        if observer is not None:
            observer.stop()
            observer.join(max(0.0, deadline - time.monotonic()))

    def drain(self, timeout: float) -> bool:
        """Wait until every box has nothing pending; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            boxes = list(self._boxes.values())
        return all([box.drain(max(0.0, deadline - time.monotonic())) for box in boxes])

    def __enter__(self) -> DropBoxManager:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
