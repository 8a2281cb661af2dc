"""Mailbox connectors wired to the ingestion service: state in the tenant DB, a ledger sink.

`poll_connector` is what both the scheduled task and "poll now" run. Per message the
order is the mail package's: sink (ledger rows committed) -> server-side action ->
`TenantMailState.mark_done`. Every part of a mail is parsed at once (`parse_now`), so a
part that fails is known before the message is flagged: the sink then answers "failed"
and the connector's `on_failure` decides whether the message is left for a retry or
recorded. Passwords never reach a log line or a status message.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from agents.ingest.errors import IngestError
from agents.ingest.service import IngestService
from agents.ingest.sources.connectors import ConnectorRecord, ConnectorStore, due_mail_connectors
from agents.ingest.sources.mail import (
    MailError,
    MailItem,
    MailPart,
    PollReport,
    SinkResult,
    poll,
)
from agents.ingest.sources.mail.errors import scrub
from storage.clock import now_iso
from storage.database import Database
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.ingest.mail")

FAILED_STATES = frozenset({"failed", "unsupported"})
# outcomes after which a message's content is in the ledger (or it had none)
_KNOWN_OUTCOMES = ("stored", "duplicate", "empty")


class ConnectorBusy(IngestError):
    """A poll of this connector is already running in this process."""

    status_code = 409
    code = "connector_busy"
    default_message = "This mailbox is being polled right now; try again when it is done."


class TenantMailState:
    """`MailState` over the tenant tables mail_state and mail_folders.

    `outcomes` lets the sink refine what `mark_done` stores (e.g. "empty" for a mail
    without documents) by idempotency key. Done-markers of an old UIDVALIDITY are kept:
    their idempotency keys still tell `seen_message` the mail is in the ledger.
    """

    def __init__(self, db: Database, outcomes: Mapping[str, str] | None = None) -> None:
        self.db = db
        self._outcomes = outcomes if outcomes is not None else {}

    def uidvalidity(self, connector_id: str, folder: str) -> int | None:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT uidvalidity FROM mail_folders WHERE connector_id = ? AND folder = ?",
                (connector_id, folder),
            ).fetchone()
        return int(row[0]) if row else None

    def set_uidvalidity(self, connector_id: str, folder: str, value: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO mail_folders (connector_id, folder, uidvalidity) VALUES (?,?,?) "
                "ON CONFLICT (connector_id, folder) "
                "DO UPDATE SET uidvalidity = excluded.uidvalidity",
                (connector_id, folder, value),
            )

    def is_done(self, connector_id: str, key: str) -> bool:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM mail_state WHERE connector_id = ? AND key = ?", (connector_id, key)
            ).fetchone()
        return row is not None

    def seen_message(self, connector_id: str, idempotency_key: str) -> bool:
        # a recorded failure does not count: its content is not stored, so it must never
        # be treated as consumed (and perhaps deleted at the server)
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM mail_state WHERE connector_id = ? AND idempotency_key = ? "
                f"AND outcome IN ({','.join('?' * len(_KNOWN_OUTCOMES))}) LIMIT 1",
                (connector_id, idempotency_key, *_KNOWN_OUTCOMES),
            ).fetchone()
        return row is not None

    def mark_done(self, connector_id: str, key: str, idempotency_key: str, outcome: str) -> None:
        if outcome == "stored":
            outcome = self._outcomes.get(idempotency_key, outcome)
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO mail_state "
                "(connector_id, key, idempotency_key, outcome, at) VALUES (?,?,?,?,?)",
                (connector_id, key, idempotency_key, outcome, now_iso()),
            )


class MailSink:
    """The `Sink` of one poll: each part of a mail becomes a document, parsed at once."""

    def __init__(self, ingest: IngestService, tenant_id: str, connector: ConnectorRecord) -> None:
        self.ingest = ingest
        self.tenant_id = tenant_id
        self.connector = connector
        # idempotency key -> outcome for TenantMailState.mark_done ("empty")
        self.outcomes: dict[str, str] = {}

    def __call__(self, item: MailItem) -> SinkResult:
        if item.problem:
            return self._refuse(item, item.problem)
        if not item.parts:
            self.outcomes[item.idempotency_key] = "empty"
            return SinkResult.stored()
        failures: list[str] = []
        new = 0
        for part in item.parts:
            try:
                result = self.ingest.receive(
                    self.tenant_id,
                    part.content,
                    filename=part.filename,
                    source=self.connector.kind,
                    source_ref=self.source_ref(item),
                    metadata=self.metadata(item, part),
                    parse_now=True,
                )
            except IngestError as error:
                failures.append(f"{part.filename}: {error.message}")
                continue
            document = result.document
            new += not result.duplicate
            if document.state in FAILED_STATES:
                reason = document.error_message or document.error_code or document.state
                failures.append(f"{part.filename}: {reason}")
        if failures:
            return SinkResult.failed("; ".join(failures)[:1000])
        return SinkResult.stored() if new else SinkResult.duplicate()

    def source_ref(self, item: MailItem) -> str:
        """ "<connector name>/<folder>/<uid>" (IMAP) or "<connector name>/<uidl>" (POP3)."""
        if item.uidl is not None:
            return f"{self.connector.name}/{item.uidl}"
        return f"{self.connector.name}/{item.folder}/{item.uid}"

    def metadata(self, item: MailItem, part: MailPart) -> dict[str, Any]:
        return {
            "subject": item.subject,
            "sender": item.sender,
            "date": item.date.isoformat() if item.date else None,
            "message_id": item.message_id,
            "part": part.role,
            "connector": self.connector.name,
        }

    def _refuse(self, item: MailItem, problem: str) -> SinkResult:
        """A mail whose content was not taken: one failed arrival, however often retried."""
        ledger = self.ingest.ledger(self.tenant_id)
        ref = self.source_ref(item)
        arrivals = ledger.arrivals_for(self.connector.kind, ref)
        if not any(outcome == "failed" for _, outcome in arrivals):
            ledger.record_failed_arrival(
                source=self.connector.kind,
                source_ref=ref,
                filename=item.subject[:200] or None,
                detail=problem,
            )
        if problem == "too_large":
            return SinkResult.failed(f"the mail is larger than the limit ({item.size} bytes)")
        return SinkResult.failed(f"the mail was not taken: {problem}")


def mail_sink(ingest: IngestService, tenant_id: str, connector: ConnectorRecord) -> MailSink:
    """The sink for one poll of `connector` (see MailSink)."""
    return MailSink(ingest, tenant_id, connector)


_running: set[tuple[str, str]] = set()
_running_lock = threading.Lock()


@contextmanager
def _exclusive(tenant_id: str, connector_id: str) -> Iterator[None]:
    """One poll per connector at a time in this process (scheduled and on demand)."""
    slot = (tenant_id, connector_id)
    with _running_lock:
        if slot in _running:
            raise ConnectorBusy()
        _running.add(slot)
    try:
        yield
    finally:
        with _running_lock:
            _running.discard(slot)


def summary(report: PollReport) -> str:
    """One line for people: what a poll did."""
    text = (
        f"{report.stored} stored, {report.duplicates} duplicate(s), {report.failed} failed, "
        f"{report.skipped} already done"
    )
    if report.left:
        text += f"; {report.left} left at the server for a retry"
    if report.uidvalidity_changed:
        text += "; the folder was renumbered by the server (UIDVALIDITY changed)"
    return text


def report_dict(report: PollReport) -> dict[str, Any]:
    return {**asdict(report), "summary": summary(report)}


def poll_connector(
    ingest: IngestService,
    tenant_id: str,
    connector_id: str,
    *,
    limit: int | None = None,
    only_enabled: bool = False,
) -> PollReport | None:
    """Poll one mailbox connector now; its last_run_at/status/message record the outcome.

    With `only_enabled` (scheduled polls) a disabled connector is left alone (None).
    Raises NotFoundError, ConnectorConfigError (not a mailbox / bad settings),
    ConnectorBusy, or MailError (auth, TLS, unreachable, ...).
    """
    tenants = ingest.tenants
    db = tenants.database(tenant_id)
    store = ConnectorStore(db, tenants.data_key(tenant_id))
    record, config = store.mailbox(connector_id)
    if only_enabled and not record.enabled:
        return None
    with _exclusive(tenant_id, connector_id):
        sink = mail_sink(ingest, tenant_id, record)
        try:
            report = poll(
                config, connector_id, TenantMailState(db, sink.outcomes), sink, limit=limit
            )
        except MailError as error:
            store.record_run(connector_id, "error", scrub(error.message, config.password))
            raise
        except Exception as error:
            store.record_run(connector_id, "error", f"internal error ({type(error).__name__})")
            raise
    status = "ok" if report.failed == 0 else "partial"
    store.record_run(connector_id, status, summary(report))
    return report


class MailScheduler:
    """Finds enabled mailboxes not polled for `interval_minutes` and queues their polls.

    A queued poll is remembered until its task starts (`started`), so a slow queue does
    not collect one poll per minute per mailbox; the memory expires after a while in
    case the task was lost.
    """

    def __init__(
        self,
        tenants: TenantRegistry,
        interval_minutes: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenants = tenants
        self.interval_minutes = interval_minutes
        self._clock = clock
        self._pending: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def due(self) -> list[tuple[str, str]]:
        """(tenant id, connector id) of every enabled mailbox whose poll is due."""
        if self.interval_minutes <= 0:
            return []
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        cutoff = (now - dt.timedelta(minutes=self.interval_minutes)).isoformat(
            timespec="milliseconds"
        )
        found: list[tuple[str, str]] = []
        for tenant in self.tenants.system.list_tenants():
            try:
                ids = due_mail_connectors(self.tenants.database(tenant.id), cutoff)
            except Exception:
                log.exception("could not list the mailboxes of tenant %s", tenant.id[:8])
                continue
            found += [(tenant.id, connector_id) for connector_id in ids]
        return found

    def enqueue_due(self, enqueue: Callable[[str, str], object]) -> int:
        """Queue a poll for each due mailbox not already queued; returns how many."""
        now = self._clock()
        expiry = max(3 * self.interval_minutes, 15) * 60
        queued = 0
        for slot in self.due():
            with self._lock:
                since = self._pending.get(slot)
                if since is not None and now - since < expiry:
                    continue
                self._pending[slot] = now
            enqueue(*slot)
            queued += 1
        return queued

    def started(self, tenant_id: str, connector_id: str) -> None:
        """The queued poll of this mailbox began; it may be queued again when due."""
        with self._lock:
            self._pending.pop((tenant_id, connector_id), None)
