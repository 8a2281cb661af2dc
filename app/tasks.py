"""Queue tasks: each binds an agent's entry point to a task name. Builds no agent.

Task inputs are small frozen dataclasses of ids only (never content or secrets); the
agents they call are built by `app.runtime` and passed in.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from huey import crontab

from agents.analyze.remote_embedding import EmbeddingUnavailableError
from agents.analyze.service import AnalysisService
from agents.documents.tasks import IndexTask, ParseTask
from agents.ingest.service import IngestService
from agents.ingest.sources.connectors import ConnectorConfigError
from agents.ingest.sources.mail import MailError
from agents.ingest.sources.mail_ingest import ConnectorBusy, MailScheduler, poll_connector
from app.queue import QueueRunner
from app.services import Services
from storage.errors import NotFoundError

log = logging.getLogger("appliance.tasks")


@dataclass(frozen=True)
class CheckpointInput:
    tenant_id: str


@dataclass(frozen=True)
class PollMailboxInput:
    """Queue payload: poll one mailbox connector. Ids only."""

    tenant_id: str
    connector_id: str


@dataclass(frozen=True)
class DocumentTasks:
    """The enqueue functions of the document tasks."""

    parse: Callable[[ParseTask], Any]
    index: Callable[[IndexTask], Any]


@dataclass(frozen=True)
class Enqueuers:
    """Every enqueue function other parts of the appliance call."""

    parse: Callable[[ParseTask], Any]
    index: Callable[[IndexTask], Any]
    mail_poll: Callable[[str, str], None]  # (tenant_id, connector_id)


def register_document_tasks(
    queue: QueueRunner,
    parse: Callable[[ParseTask], object],
    index: Callable[[IndexTask], object],
) -> DocumentTasks:
    """`ingest.parse` and `analyze.index`."""
    return DocumentTasks(
        parse=queue.register("ingest.parse", parse),
        index=queue.register("analyze.index", index),
    )


def register_maintenance_tasks(queue: QueueRunner, services: Services) -> None:
    """WAL checkpoints of every database, every 15 minutes."""

    def checkpoint_tenant(task: CheckpointInput) -> None:
        services.tenants.database(task.tenant_id).checkpoint()

    checkpoint = queue.register("maintenance.checkpoint_tenant", checkpoint_tenant)

    @queue.huey.periodic_task(crontab(minute="*/15"), name="maintenance.checkpoint_all")
    def checkpoint_all() -> None:
        # keeps WAL files small on long-running servers
        services.system_db.checkpoint()
        for tenant in services.system.list_tenants():
            checkpoint(CheckpointInput(tenant.id))


def register_mail_tasks(
    queue: QueueRunner, ingest: IngestService, scheduler: MailScheduler
) -> Callable[[str, str], None]:
    """Mailbox polls and their per-minute schedule; returns enqueue(tenant_id, connector_id)."""

    def poll_mailbox(task: PollMailboxInput) -> None:
        scheduler.started(task.tenant_id, task.connector_id)
        try:
            poll_connector(ingest, task.tenant_id, task.connector_id, only_enabled=True)
        except ConnectorBusy:
            log.info("mailbox %s is already being polled", task.connector_id[:8])
        except (NotFoundError, ConnectorConfigError) as exc:
            log.warning("mailbox %s not polled: %s", task.connector_id[:8], exc)
        except MailError as exc:
            # recorded on the connector; the next scheduled poll is the retry
            log.warning("mailbox %s: %s (%s)", task.connector_id[:8], exc.code, exc.message)

    # no queue retries: the schedule polls again, and a failing server is not hammered
    enqueue_poll = queue.register("ingest.poll_mailbox", poll_mailbox, retries=0)

    def enqueue_mail_poll(tenant_id: str, connector_id: str) -> None:
        enqueue_poll(PollMailboxInput(tenant_id, connector_id))

    @queue.huey.periodic_task(crontab(minute="*"), name="ingest.schedule_mail_polls")
    def schedule_mail_polls() -> None:
        # every minute: queue the enabled mailboxes whose last poll is older than the
        # interval (settings.ingest.mail_poll_interval_minutes; 0 turns polling off)
        scheduler.enqueue_due(enqueue_mail_poll)

    return enqueue_mail_poll


def queued_document_tasks(queue: QueueRunner) -> set[ParseTask | IndexTask]:
    """The parse and index tasks waiting in the queue (read at start-up, before workers run)."""
    waiting: set[ParseTask | IndexTask] = set()
    for task in queue.pending_tasks():
        payload = task.args[0] if task.args else None
        if isinstance(payload, ParseTask | IndexTask):
            waiting.add(payload)
    return waiting


def reindex_after_model_change(
    analysis: AnalysisService, enqueue_index: Callable[[IndexTask], Any]
) -> int:
    """At start-up: record the embedding model per tenant, queue what must be re-indexed.
    An embeddings server that does not answer yet (its dimension unknown) postpones this
    to the next start; searches answer 503 until it is reachable."""
    try:
        pending = analysis.adopt_model()
    except EmbeddingUnavailableError as error:
        log.warning("embedding model not adopted: %s", error.message)
        return 0
    for tenant_id, document_id in pending:
        enqueue_index(IndexTask(tenant_id, document_id))
    return len(pending)
