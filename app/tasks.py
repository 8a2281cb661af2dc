"""Queue tasks and the agents they drive, wired once per queue by the composition root.

Task inputs are small frozen dataclasses of ids only (never content or secrets). Agents
provide plain functions; here they get the services they need bound in.
"""

import logging
from dataclasses import dataclass

from huey import crontab

from agents.analyze.chunking import Chunker
from agents.analyze.embedding import Embedder
from agents.analyze.service import AnalysisService
from agents.ingest.connectors import ConnectorConfigError
from agents.ingest.limits import ParseLimits
from agents.ingest.mail import MailError
from agents.ingest.mail_ingest import ConnectorBusy, MailScheduler, poll_connector
from agents.ingest.pipeline import ParseTask
from agents.ingest.sandbox import SandboxPool
from agents.ingest.service import IndexTask, IngestService
from agents.ingest.worker_process import remove_stale_scratch
from agents.models import locate_embedding_model
from app.llm_wiring import build_answerer, build_llm
from app.queue import QueueRunner
from app.report_wiring import register_report_tasks
from app.services import Services
from app.settings import Settings
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


def parse_limits(services: Services) -> ParseLimits:
    return parse_limits_of(services.settings)


def parse_limits_of(settings: Settings) -> ParseLimits:
    """The sandbox limits `[ingest]` sets."""
    ingest = settings.ingest
    return ParseLimits(
        wall_seconds=ingest.parse_timeout_s,
        cpu_seconds=int(ingest.parse_timeout_s),
        memory_bytes=ingest.parse_memory_mb * 2**20,
        max_input_bytes=ingest.max_file_mb * 2**20,
        max_unzipped_bytes=ingest.max_unzipped_mb * 2**20,
        max_zip_entries=ingest.max_zip_entries,
    )


def register_tasks(queue: QueueRunner, services: Services) -> IngestService:
    """Bind each task to its services and register it; idempotent per queue."""
    existing = services.extras.get("ingest")
    if isinstance(existing, IngestService) and services.extras.get("tasks_queue") is queue:
        return existing

    scratch = services.data.scratch_dir
    scratch.mkdir(mode=0o700, exist_ok=True)
    remove_stale_scratch(scratch)
    pool = SandboxPool(max_workers=services.settings.ingest.parse_workers, scratch_dir=scratch)
    services.on_close(pool.close)

    def parse_document(task: ParseTask) -> None:
        ingest.parse(task.tenant_id, task.document_id)

    embedding_model = locate_embedding_model(services.settings.models.embedding_model)
    analysis = AnalysisService(
        services.tenants, Embedder(embedding_model), Chunker(embedding_model.path)
    )

    llm = build_llm(services.settings)
    services.on_close(llm.close)
    answerer = build_answerer(services.settings, analysis, llm)

    def index_document(task: IndexTask) -> None:
        analysis.index_document(task.tenant_id, task.document_id)

    enqueue_parse = queue.register("ingest.parse", parse_document)
    enqueue_index = queue.register("analyze.index", index_document)
    ingest = IngestService(
        services.tenants,
        pool.parse,
        parse_limits(services),
        enqueue_parse,
        enqueue_index,
        parse_slots=pool.max_workers,
    )
    # closers run last-registered first: the early-parse threads stop before the pool
    services.on_close(ingest.close)

    def checkpoint_tenant(task: CheckpointInput) -> None:
        services.tenants.database(task.tenant_id).checkpoint()

    checkpoint = queue.register("maintenance.checkpoint_tenant", checkpoint_tenant)

    @queue.huey.periodic_task(crontab(minute="*/15"), name="maintenance.checkpoint_all")
    def checkpoint_all() -> None:
        # keeps WAL files small on long-running servers
        services.system_db.checkpoint()
        for tenant in services.system.list_tenants():
            checkpoint(CheckpointInput(tenant.id))

    scheduler = MailScheduler(services.tenants, services.settings.ingest.mail_poll_interval_minutes)

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

    services.extras.update(
        ingest=ingest,
        tasks_queue=queue,
        sandbox_pool=pool,
        mail_scheduler=scheduler,
        enqueue_mail_poll=enqueue_mail_poll,
        analysis=analysis,
        embedder=analysis.embedder,
        llm=llm,
        answerer=answerer,
        enqueue_index=enqueue_index,
    )
    # reports (issue 14): the service and its `report.generate` task
    register_report_tasks(queue, services)
    return ingest


def queued_document_tasks(queue: QueueRunner) -> set[ParseTask | IndexTask]:
    """The parse and index tasks waiting in the queue (read at start-up, before workers run)."""
    waiting: set[ParseTask | IndexTask] = set()
    for task in queue.huey.pending():
        payload = task.args[0] if task.args else None
        if isinstance(payload, ParseTask | IndexTask):
            waiting.add(payload)
    return waiting


def reindex_after_model_change(services: Services) -> int:
    """At start-up: record the embedding model per tenant, queue what must be re-indexed."""
    analysis: AnalysisService = services.extras["analysis"]
    enqueue = services.extras["enqueue_index"]
    pending = analysis.adopt_model()
    for tenant_id, document_id in pending:
        enqueue(IndexTask(tenant_id, document_id))
    return len(pending)
