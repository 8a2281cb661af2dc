"""The drop-box folders of every tenant, watched while the server runs.

Each tenant's inbox gets a sink that records the file in the ledger and parses it at
once, so the file is moved to `.done/` or `.failed/` (with the reason) only after its
ledger row is durable and its outcome is known. The set of inboxes follows the tenant
list (`sync`, run at start and then periodically).
"""

import logging
import threading
from pathlib import Path

from agents.ingest.dropbox import (
    DropBoxConfig,
    DropBoxManager,
    DropOutcome,
    DropRejected,
    Sink,
    read_dropped_file,
)
from agents.ingest.errors import IngestError
from agents.ingest.service import IngestService
from app.services import Services

log = logging.getLogger("appliance.dropbox")

_FINAL_FAILURES = ("failed", "unsupported")


def dropbox_config(services: Services) -> DropBoxConfig:
    ingest = services.settings.ingest
    return DropBoxConfig(
        poll_interval_s=ingest.dropbox_poll_interval_s,
        stable_for_s=ingest.dropbox_stable_for_s,
        # the ledger records over-size files too, so the sink sees every file
        max_file_bytes=None,
        use_polling_observer=ingest.dropbox_use_polling,
    )


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

    def __init__(self, services: Services, ingest: IngestService) -> None:
        self._services = services
        self._ingest = ingest
        self._manager = DropBoxManager(dropbox_config(services))
        self._max_bytes = services.settings.ingest.max_file_mb * 2**20
        # start() and the periodic `ingest.sync_dropboxes` task (a queue thread, running
        # from the moment the queue starts) both sync; one at a time, or both would see a
        # new tenant missing and the second `add` would fail
        self._sync_lock = threading.Lock()

    def start(self) -> None:
        self.sync()
        self._manager.start()
        log.info("watching %d inbox folder(s)", len(self._manager.slugs()))

    def sync(self) -> None:
        """Add inboxes of new tenants and drop those of deleted ones.

        Idempotent and serialised: any number of concurrent calls leave exactly one box
        per tenant, and a tenant that already has one is left alone.
        """
        with self._sync_lock:
            tenants = {t.slug: t for t in self._services.system.list_tenants()}
            for slug in set(self._manager.slugs()) - set(tenants):
                self._manager.remove(slug)
            for slug in sorted(set(tenants) - set(self._manager.slugs())):
                self._add(slug, tenants[slug].id)

    def _add(self, slug: str, tenant_id: str) -> None:
        if self._manager.get(slug) is not None:
            return
        inbox = self._services.data.inbox_dir / slug
        inbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._manager.add(slug, inbox, make_sink(self._ingest, tenant_id, self._max_bytes))

    def drain(self, timeout: float) -> bool:
        return self._manager.drain(timeout)

    def stop(self) -> None:
        self._manager.stop()
