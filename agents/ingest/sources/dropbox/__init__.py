"""Drop box: a watched folder per tenant, `<data>/inbox/<tenant_slug>/`.

Contract (the composition root wires a sink that writes the ledger):

    DropBox(inbox: Path, sink: Sink, config: DropBoxConfig | None = None, *, name=None)
        .start(observer=None)  .stop(timeout=None)  .drain(timeout) -> bool
        .request_scan()  .pending_count() -> int  .running; also a context manager
    DropBoxManager(config=None)                  one box per tenant, one shared observer
        .add(slug, inbox, sink, config=None) -> DropBox  .remove(slug)  .get(slug)
        .slugs()  .start()  .stop(timeout=None)  .drain(timeout) -> bool
    Sink = Callable[[Path, str], DropOutcome]    sink(path, relative_name)
    DropOutcome(status "done"|"failed", code, message="", document_id=None)
        .done(code="added", ...)  .failed(code, message, ...)
    DropRejected(code, message)                  raise from a sink to fail with a code
    read_dropped_file(path, max_bytes=None) -> bytes   O_NOFOLLOW read for sinks

Behaviour: files present at start-up and files announced by watchdog events or found by
a periodic full scan (the fallback for network mounts) become candidates. A candidate is
taken once its size, mtime and inode have not changed for `stable_for_s`; the sink is
called once, on the worker thread, one file at a time per inbox. Only after the sink has
returned (its ledger row is durable) the file moves to `.done/<name>` or to
`.failed/<name>` beside `.failed/<name>.reason.json` = {"code", "message", "time"
(ISO 8601 UTC), "relative_name", "document_id"?}, written atomically. Collisions get
`name (2).ext`; nothing is overwritten. Subfolders are processed recursively; the
relative path is metadata only, the moved file keeps its base name.

Ignored: names starting with "." (so `.done/`, `.failed/`, hidden and rsync temp files)
and names ending in .part, .partial, .tmp, .crdownload or "~". Refused without calling
the sink: symlinks ("forbidden"; the link itself is moved, never followed), FIFOs and
devices ("unsupported"), files over max_file_bytes ("too_large"). A sink exception
fails the file with code "internal" and the exception's message (traceback only in the
log); PermissionError (from the sink or a move) is logged once and retried every
retry_interval_s. A file deleted before it is taken is forgotten.
"""

from agents.ingest.sources.dropbox.config import DropBoxConfig
from agents.ingest.sources.dropbox.manager import DropBoxManager
from agents.ingest.sources.dropbox.names import REASON_SUFFIX
from agents.ingest.sources.dropbox.outcome import DropOutcome, DropRejected, Sink
from agents.ingest.sources.dropbox.reader import read_dropped_file
from agents.ingest.sources.dropbox.scan import DONE_DIR, FAILED_DIR, is_ignored
from agents.ingest.sources.dropbox.watcher import DropBox

__all__ = [
    "DONE_DIR",
    "FAILED_DIR",
    "REASON_SUFFIX",
    "DropBox",
    "DropBoxConfig",
    "DropBoxManager",
    "DropOutcome",
    "DropRejected",
    "Sink",
    "is_ignored",
    "read_dropped_file",
]
