"""The dispatcher: delivers outbox messages from the queue, one attempt per task.

The queue task `act.deliver` carries a `DeliverTask` (tenant id + message id). An attempt
claims the row (so two tasks for one message never both send), sends it with the
connector's secrets, records the outcome, and schedules the next attempt by the retry
schedule. At start-up `resume` puts interrupted messages back to pending and queues every
due one; `sweep` (periodic) does the same for messages whose task was lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from agents.act import crm_profiles, http_sender, outbox
from agents.act.connector_kinds import OUTBOUND_KINDS
from agents.act.egress import EgressPolicy
from agents.act.email_message import build_email, recipients
from agents.act.errors import ActError
from agents.act.guarded_http import guarded_client
from agents.act.http_sender import Connector
from agents.act.schedule import Attempt, next_delay
from agents.act.smtp_sender import send_mail
from agents.ingest.sources.connectors import ConnectorStore
from storage.errors import NotFoundError
from storage.tenants import TenantRegistry

log = logging.getLogger("appliance.act")
_SWEEP_GRACE_S = 60.0
DRAIN_LIMIT = 100
DRAIN_STALE_S = 5.0
_CLAIM_BATCH = 16


@dataclass(frozen=True)
class DeliverTask:
    """Queue payload of `act.deliver`: ids only."""

    tenant_id: str
    message_id: str


@dataclass(frozen=True)
class ActionLimits:
    """What `[actions]` sets, in the units the code uses."""

    timeout_s: float = 30.0
    max_body_bytes: int = 1024 * 1024
    max_response_bytes: int = 64 * 1024
    max_attachment_bytes: int = 20 * 2**20
    concurrency: int = 4


#: enqueue(task, delay_s): queue an `act.deliver` task now or after a delay
Enqueue = Callable[[DeliverTask, float], None]


class Dispatcher:
    """Delivers the outbox messages of every tenant; built once by the composition root."""

    def __init__(
        self,
        tenants: TenantRegistry,
        policy: EgressPolicy,
        limits: ActionLimits,
        enqueue: Enqueue,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenants = tenants
        self.policy = policy
        self.limits = limits
        self.enqueue = enqueue
        self.clock = clock
        self.client = guarded_client(policy, limits.timeout_s, limits.concurrency * 4)
        # tenant id -> when a drain of it was queued or last made progress in this process
        self._draining: dict[str, float] = {}
        self._draining_lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def connectors(self, tenant_id: str) -> ConnectorStore:
        """The tenant's connector store, outbound kinds included."""
        return ConnectorStore(
            self.tenants.database(tenant_id), self.tenants.data_key(tenant_id), OUTBOUND_KINDS
        )

    # -- delivering --

    @property
    def _lease(self) -> float:
        return self.limits.timeout_s * 2 + 60

    def deliver(self, task: DeliverTask) -> str | None:
        """One attempt at one message; returns its new state (None: nothing to do)."""
        db = self.tenants.database(task.tenant_id)
        message = outbox.claim(db, task.message_id, self.clock(), self._lease)
        if message is None:
            return None
        return self._attempt(task.tenant_id, message)

    def trigger(self, tenant_id: str, message_id: str) -> None:
        """Queue the delivery of a message that just became due (a step completed, a
        redelivery). One drain delivers every due message of a tenant, so while one is
        queued or running in this process no other task is queued; a drain that has not
        shown progress for DRAIN_STALE_S (it may run in another process) no longer counts."""
        now = time.monotonic()
        with self._draining_lock:
            since = self._draining.get(tenant_id)
            if since is not None and now - since < DRAIN_STALE_S:
                return
            self._draining[tenant_id] = now
        self.enqueue(DeliverTask(tenant_id, message_id), 0.0)

    def deliver_and_drain(self, task: DeliverTask, limit: int = DRAIN_LIMIT) -> int:
        """The queue task: deliver `task`'s message, then up to `limit` more messages of
        the tenant that are due, without a queue round trip each. Claims are taken a few
        at a time; each outcome is recorded before the next send, so a kill repeats at
        most the message in flight. Returns how many attempts were made."""
        tenant_id = task.tenant_id
        try:
            attempts = int(self.deliver(task) is not None)
            db = self.tenants.database(tenant_id)
            while attempts < limit + 1:
                room = min(_CLAIM_BATCH, limit + 1 - attempts)
                batch = outbox.claim_due(db, self.clock(), self._lease, room)
                if not batch:
                    break
                disabled = outbox.disabled_endpoints(db)
                for message in batch:
                    self._attempt(tenant_id, message, disabled)
                    attempts += 1
                with self._draining_lock:
                    if tenant_id in self._draining:
                        self._draining[tenant_id] = time.monotonic()
        finally:
            with self._draining_lock:
                self._draining.pop(tenant_id, None)
        # a message committed while the drain was finishing found the flag still set:
        # look once more now that it is cleared
        due = outbox.first_due(self.tenants.database(tenant_id), self.clock())
        if due is not None:
            self.trigger(tenant_id, due)
        return attempts

    def _attempt(
        self,
        tenant_id: str,
        message: outbox.OutboxMessage,
        disabled_endpoints: dict[str, str] | None = None,
    ) -> str:
        task = DeliverTask(tenant_id, message.id)
        db = self.tenants.database(tenant_id)
        connector: Connector | None = None
        if disabled_endpoints is None:
            disabled = outbox.endpoint_disabled(db, message.endpoint)
        else:  # read once per claimed batch
            disabled = disabled_endpoints.get(message.endpoint)
        if message.connector_id and disabled is None:
            connector, disabled = self._connector(task.tenant_id, message.connector_id)
        if disabled is not None:
            outbox.record_outcome(
                db, message.id, "disabled", status=None, error=disabled, code="endpoint_disabled"
            )
            return "disabled"
        try:
            attempt = self._send(task.tenant_id, message, connector)
        except ActError as error:
            attempt = Attempt("dead", error=error.message, code=error.code)
        except Exception as error:  # a sender bug must not leave the row delivering
            log.exception("delivery of outbox message failed unexpectedly")
            attempt = Attempt("retry", error=f"Internal error: {type(error).__name__}.")
        return self._record(task, message, attempt)

    def _connector(self, tenant_id: str, connector_id: str) -> tuple[Connector | None, str | None]:
        store = self.connectors(tenant_id)
        try:
            record = store.get(connector_id)
        except NotFoundError:
            return None, "The connector of this message was deleted."
        if not record.enabled:
            return None, f"The connector {record.name!r} is switched off."
        return Connector(record.id, record.kind, record.config, store.secrets(record.id)), None

    def _send(
        self, tenant_id: str, message: outbox.OutboxMessage, connector: Connector | None
    ) -> Attempt:
        limits = self.limits
        if message.kind == "email":
            if connector is None:
                return Attempt("dead", error="An e-mail needs an SMTP connector.")
            mail = build_email(
                message.id,
                message.payload,
                lambda ref: self._attachment(tenant_id, ref),
                limits.max_attachment_bytes,
            )
            return send_mail(
                self.policy,
                connector.config,
                connector.secrets.get("password"),
                mail,
                recipients(message.payload),
            )
        if message.kind == "crm":
            return self._send_crm(message, connector)
        self._precheck(str(message.payload.get("url", "")))
        timeout = float(connector.config.get("timeout", limits.timeout_s)) if connector else None
        return http_sender.send(
            self.client,
            message.id,
            message.kind,
            message.payload,
            connector,
            max_response=limits.max_response_bytes,
            timeout=timeout or limits.timeout_s,
        )

    def _precheck(self, url: str) -> None:
        """Refuse a blocked destination before httpx parses the URL: httpx rejects some
        spellings (`0177.0.0.1`) that the resolver would take; the transport checks the
        address it connects to again."""
        parts = urlsplit(url)
        if parts.hostname:
            default = 443 if parts.scheme == "https" else 80
            try:
                port = parts.port or default
            except ValueError:
                return
            self.policy.resolve(parts.hostname, port)

    def _send_crm(self, message: outbox.OutboxMessage, connector: Connector | None) -> Attempt:
        if connector is None:
            return Attempt("dead", error="A CRM call needs a CRM connector.")
        payload = message.payload
        call = crm_profiles.http_call(
            connector.config, connector.secrets, payload["operation"], payload["params"]
        )
        auth = connector if crm_profiles.uses_header_auth(connector.config) else None
        attempt = http_sender.send(
            self.client,
            message.id,
            "crm",
            call,
            auth,
            max_response=self.limits.max_response_bytes,
            timeout=float(connector.config.get("timeout", self.limits.timeout_s)),
        )
        if attempt.outcome != "delivered" or not attempt.response:
            return attempt
        result, error = crm_profiles.result_of(
            connector.config, payload["operation"], attempt.response.get("json")
        )
        if error:
            return Attempt("dead", attempt.status, error, response=attempt.response)
        return Attempt("delivered", attempt.status, response={**attempt.response, "result": result})

    def _attachment(self, tenant_id: str, reference: dict[str, Any]) -> tuple[bytes, str]:
        blobs = self.tenants.blobs(tenant_id)
        if reference.get("blob_id"):
            return blobs.get(str(reference["blob_id"])), ""
        with self.tenants.database(tenant_id).read() as conn:
            row = conn.execute(
                "SELECT blob_id, filename, title FROM documents WHERE id = ?",
                (str(reference.get("document_id")),),
            ).fetchone()
        if row is None or not row[0]:
            raise ActError("An attachment's document no longer exists.")
        return blobs.get(str(row[0])), str(row[1] or row[2] or "")

    def _record(self, task: DeliverTask, message: outbox.OutboxMessage, attempt: Attempt) -> str:
        db = self.tenants.database(task.tenant_id)
        state, next_at, gone = attempt.outcome, None, None
        if attempt.outcome == "gone":
            state, gone = "disabled", message.endpoint
        elif attempt.outcome == "retry":
            delay = next_delay(message.attempts, attempt.retry_after)
            if delay is None:
                state = "dead"
            else:
                state, next_at = "pending", self.clock() + delay
        error = attempt.error
        if state == "dead" and attempt.outcome == "retry":
            error = f"{error} Gave up after {message.attempts} attempts."
        if gone:
            error = "The endpoint answered 410 Gone; nothing more is sent to it until redelivered."
        outbox.record_outcome(
            db,
            message.id,
            state,
            status=attempt.status,
            error=error,
            next_attempt_at=next_at,
            response=attempt.response,
            disable_endpoint=gone,
            code=attempt.code,
        )
        if next_at is not None:
            self.enqueue(task, max(0.0, next_at - self.clock()))
        log.info(
            "outbox %s attempt %d: %s (%s)",
            message.id[:40],
            message.attempts,
            state,
            attempt.status,
        )
        return state

    # -- by hand, and after a crash --

    def redeliver(self, tenant_id: str, message_id: str) -> outbox.OutboxMessage:
        """Send a dead, disabled or delivered message again, with a fresh schedule."""
        message = outbox.redeliver(self.tenants.database(tenant_id), message_id, self.clock())
        self.trigger(tenant_id, message_id)
        return message

    def resume(self, *, startup: bool = True) -> int:
        """Queue the delivery of every due message of every tenant; at start-up messages
        left `delivering` by a killed process go back to pending first. Returns how many
        messages are due."""
        queued = 0
        now = self.clock()
        for tenant in self.tenants.system.list_tenants():
            db = self.tenants.database(tenant.id)
            cutoff = now if startup else now - _SWEEP_GRACE_S
            for message_id in outbox.due_messages(db, cutoff, interrupted_too=startup):
                self.trigger(tenant.id, message_id)  # one drain per tenant delivers them all
                queued += 1
        return queued

    def sweep(self) -> int:
        """Periodic: queue messages due for a while whose task was lost."""
        return self.resume(startup=False)
