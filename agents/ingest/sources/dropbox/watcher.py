"""DropBox: watches one inbox with file events plus periodic scans; one worker thread."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from types import TracebackType

from watchdog.observers.api import BaseObserver, ObservedWatch

from agents.ingest.sources.dropbox.config import DropBoxConfig
from agents.ingest.sources.dropbox.events import InboxEvents, make_observer
from agents.ingest.sources.dropbox.loop import work_loop
from agents.ingest.sources.dropbox.outcome import Sink
from agents.ingest.sources.dropbox.pending import PendingFiles
from agents.ingest.sources.dropbox.scan import DONE_DIR, FAILED_DIR, is_ignored
from agents.ingest.sources.dropbox.worker import FileProcessor

log = logging.getLogger("agents.ingest.sources.dropbox")


class DropBox:
    """Hands every stable file in `inbox` to `sink` once, then moves it to .done/.failed."""

    def __init__(
        self,
        inbox: Path,
        sink: Sink,
        config: DropBoxConfig | None = None,
        *,
        name: str | None = None,
    ) -> None:
        self.inbox = Path(inbox)
        self.config = config or DropBoxConfig()
        self.name = name or self.inbox.name
        self._sink = sink
        self._shared_observer: BaseObserver | None = None
        self._observer: BaseObserver | None = None
        self._watch: ObservedWatch | None = None
        self._pending = PendingFiles()
        self._thread: threading.Thread | None = None
        self._lingering: threading.Thread | None = None
        self._root = self.inbox.absolute()

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._thread is not None and self._thread.is_alive()

    def pending_count(self) -> int:
        """Files seen but not yet moved out (still being written, or waiting to retry)."""
        return len(self._pending)

    def start(self, observer: BaseObserver | None = None) -> None:
        """Create the inbox if needed, start the worker and the event watch.

        `observer` (already started) lets several boxes share one watchdog observer, as
        DropBoxManager does; without it the box runs its own when config.use_events is set.
        """
        if self.running:
            return
        if self._lingering is not None and self._lingering.is_alive():
            # stop() timed out inside the sink; a second worker could take the same file.
            raise RuntimeError(f"drop box {self.name}: the previous worker is still busy")
        self._shared_observer = observer
        self.inbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._root = self.inbox.resolve()
        # A folder created while watchdog walks the tree for a recursive watch is
        # registered twice (its walk and its create event) and watchdog warns from its
        # thread; so the outcome folders exist, and the watch is set, before any file moves.
        for folder in (DONE_DIR, FAILED_DIR):
            # Something in the way is reported, per file, when a move needs the folder.
            with contextlib.suppress(OSError):
                (self._root / folder).mkdir(mode=0o700, exist_ok=True)
        self._pending = PendingFiles()
        if self.config.use_events:
            self._start_events()
        processor = FileProcessor(self._root, self._sink, self.config, self.name)
        self._thread = threading.Thread(
            target=work_loop,
            args=(processor, self._pending),
            name=f"dropbox-{self.name}",
            daemon=True,
        )
        self._thread.start()

    def _start_events(self) -> None:
        observer = self._shared_observer
        try:
            if observer is None:
                observer = self._observer = make_observer(self.config)
                observer.start()
            handler = InboxEvents(self.notice, self.request_scan)
            self._watch = observer.schedule(handler, str(self._root), recursive=True)
        except OSError as exc:  # e.g. the inotify watch limit; scans still find files
            log.warning(
                "drop box %s: file events unavailable (%s); scanning every %.1f s",
                self.name,
                exc,
                self.config.poll_interval_s,
            )

    def stop(self, timeout: float | None = None) -> None:
        """Stop watching; waits up to `timeout` (default config.stop_timeout_s) in total."""
        deadline = time.monotonic() + (timeout or self.config.stop_timeout_s)
        self._pending.close()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(max(0.0, deadline - time.monotonic()))
            self._observer = None
        elif self._shared_observer is not None and self._watch is not None:
            try:
                self._shared_observer.unschedule(self._watch)
            except (KeyError, OSError):
                pass  # already gone, e.g. the observer was stopped first
        self._watch = None
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                self._lingering = thread
                log.warning("drop box %s: worker still busy in the sink after stop()", self.name)

    def drain(self, timeout: float) -> bool:
        """Rescan and wait until nothing is pending; False if that took longer than timeout."""
        return self.running and self._pending.wait_idle(timeout)

    def request_scan(self) -> None:
        """Ask for a full rescan of the inbox at the next opportunity."""
        self._pending.request_scan()

    def notice(self, path: Path) -> None:
        """Tell the box that `path` (inside the inbox) may be new or changed."""
        try:
            relative = path.relative_to(self._root).as_posix()
        except ValueError:
            return
        if relative != "." and not is_ignored(relative):
            self._pending.add(path, relative)

    def __enter__(self) -> DropBox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
