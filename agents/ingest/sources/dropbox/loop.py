"""The worker thread's loop: scans when due, looks at due candidates one at a time."""

from __future__ import annotations

import logging
import time

from agents.ingest.sources.dropbox.pending import PendingFiles
from agents.ingest.sources.dropbox.scan import iter_entries
from agents.ingest.sources.dropbox.worker import FileProcessor

log = logging.getLogger("agents.ingest.sources.dropbox")


def work_loop(processor: FileProcessor, pending: PendingFiles) -> None:
    """Run until `pending` is closed; stops between files, never inside a sink call."""
    root, config = processor.root, processor.config
    next_scan = 0.0  # the first scan runs at once: files present at start-up
    while (work := pending.next_work(next_scan)) is not None:
        scan_number, due = work
        if scan_number is not None:
            found = [(p, p.relative_to(root).as_posix()) for p in iter_entries(root)]
            pending.finish_scan(scan_number, found)
            next_scan = time.monotonic() + config.poll_interval_s
            continue
        for cand in due:
            if pending.closed:
                return
            try:
                finished = processor.look(cand)
            except Exception:
                # A bug must not end the watch: log it and look at the file again later.
                log.exception("drop box %s: error on %s", processor.name, cand.relative_name)
                cand.due = time.monotonic() + config.retry_interval_s
                finished = False
            if finished:
                pending.remove(cand)
