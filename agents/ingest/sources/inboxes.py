"""The drop-box folders of every tenant, watched while the server runs.

Each tenant's inbox gets a sink that records the file in the ledger and parses it at
once, so the file is moved to `.done/` or `.failed/` (with the reason) only after its
ledger row is durable and its outcome is known. The set of inboxes follows the tenant
list (`sync`, run at start and then periodically; calls are serialised, so the start-up
sync and the periodic one can overlap safely).
"""

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from agents.ingest.errors import IngestError
from agents.ingest.service import IngestService
from agents.ingest.sources.dropbox import (
    DropBoxConfig,
    DropBoxManager,
    DropOutcome,
    DropRejected,
    Sink,
    read_dropped_file,
)
from storage.records import TenantRecord

log = logging.getLogger("appliance.dropbox")

TenantLister = Callable[[], Sequence[TenantRecord]]

_FINAL_FAILURES = ("failed", "unsupported")


def make_sink(ingest: IngestService, tenant_id: str, max_bytes: int) -> Sink:
    """The sink of one tenant's inbox."""

    def sink(path: Path, relative_name: str) -> DropOutcome:
        try:
            content = read_dropped_file(path, max_bytes + 1)
        except DropRejected:
            raise
        try:
            result = ingest.receive(
                tenant_id,
                content,
                filename=path.name,
                source="dropbox",
                source_ref=relative_name,
                parse_now=True,
            )
        except IngestError as exc:
            return DropOutcome.failed(exc.code, str(exc))
        document = result.document
        if result.duplicate and document.state in ("received", "parsing"):
            # a crash came between the ledger row and the move: finish the job now
            ingest.parse(tenant_id, document.id)
            document = ingest.ledger(tenant_id).get(document.id)
        if document.state in _FINAL_FAILURES:
            return DropOutcome.failed(
                document.error_code or document.state,
                document.error_message or "the document could not be processed",
                document_id=document.id,
            )
        code = "duplicate" if result.duplicate else "added"
        return DropOutcome.done(code, document_id=document.id)

    return sink


class DropBoxes:
    """Keeps one watched inbox per tenant."""

    def __init__(
        self,
        tenants: TenantLister,
        inbox_root: Path,
        config: DropBoxConfig,
        ingest: IngestService,
        max_bytes: int,
    ) -> None:
        self._tenants = tenants
        self._inbox_root = inbox_root
        self._ingest = ingest
        self._manager = DropBoxManager(config)
        self._max_bytes = max_bytes
        self._sync_lock = threading.Lock()

    def start(self) -> None:
        self.sync()
        self._manager.start()
        log.info("watching %d inbox folder(s)", len(self._manager.slugs()))

    def sync(self) -> None:
        """Add inboxes of new tenants and drop those of deleted ones (one sync at a time:
        the start-up sync and the periodic task used to race and add a tenant twice)."""
        with self._sync_lock:
            tenants = {t.slug: t for t in self._tenants()}
            for slug in set(self._manager.slugs()) - set(tenants):
                self._manager.remove(slug)
            for slug in set(tenants) - set(self._manager.slugs()):
                inbox = self._inbox_root / slug
                inbox.mkdir(mode=0o700, parents=True, exist_ok=True)
                sink = make_sink(self._ingest, tenants[slug].id, self._max_bytes)
                self._manager.add(slug, inbox, sink)

    def drain(self, timeout: float) -> bool:
        return self._manager.drain(timeout)

    def stop(self) -> None:
        self._manager.stop()
