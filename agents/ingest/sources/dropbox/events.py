"""watchdog glue: which observer to run, and turning its events into candidates."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from agents.ingest.sources.dropbox.config import DropBoxConfig


def make_observer(config: DropBoxConfig) -> BaseObserver:
    """A started-ready daemon observer: inotify (or the platform's), or polling."""
    observer: BaseObserver
    if config.use_polling_observer:
        observer = PollingObserver(timeout=config.poll_interval_s)
    else:
        observer = Observer()
    observer.daemon = True  # a stuck emitter must not keep the process alive
    return observer


class InboxEvents(FileSystemEventHandler):
    """Forwards paths that may be new or changed; all decisions stay with the worker.

    Runs on the observer's thread, so it only records and never raises.
    """

    def __init__(self, notice: Callable[[Path], None], rescan: Callable[[], None]) -> None:
        self._notice = notice
        self._rescan = rescan

    def on_any_event(self, event: FileSystemEvent) -> None:
        """Route one watchdog event."""
        if event.event_type in ("deleted", "opened", "closed_no_write"):
            return  # a vanished candidate is noticed by the worker's next look
        if event.is_directory:
            # A folder moved in brings files that get no events of their own.
            if event.event_type in ("created", "moved"):
                self._rescan()
            return
        raw = event.dest_path if event.event_type == "moved" else event.src_path
        if raw:
            self._notice(Path(os.fsdecode(raw)))
