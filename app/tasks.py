"""Queue tasks and the agents they drive, wired once per queue by the composition root.

Task inputs are small frozen dataclasses of ids only (never content or secrets). Agents
provide plain functions; here they get the services they need bound in.
"""

import logging
from dataclasses import dataclass

from huey import crontab

from agents.ingest.limits import ParseLimits
from agents.ingest.pipeline import ParseTask
from agents.ingest.sandbox import SandboxPool
from agents.ingest.service import IndexTask, IngestService
from app.queue import QueueRunner
from app.services import Services

log = logging.getLogger("appliance.tasks")


@dataclass(frozen=True)
class CheckpointInput:
    tenant_id: str


def parse_limits(services: Services) -> ParseLimits:
    ingest = services.settings.ingest
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

    pool = SandboxPool(max_workers=services.settings.ingest.parse_workers)
    services.on_close(pool.close)

    def parse_document(task: ParseTask) -> None:
        ingest.parse(task.tenant_id, task.document_id)

    def index_document(task: IndexTask) -> None:
        indexer = services.extras.get("indexer")
        if indexer is None:
            log.warning("no indexer configured; document %s stays parsed", task.document_id)
            return
        indexer(task.tenant_id, task.document_id)

    enqueue_parse = queue.register("ingest.parse", parse_document)
    enqueue_index = queue.register("analyze.index", index_document)
    ingest = IngestService(
        services.tenants, pool.parse, parse_limits(services), enqueue_parse, enqueue_index
    )

    def checkpoint_tenant(task: CheckpointInput) -> None:
        services.tenants.database(task.tenant_id).checkpoint()

    checkpoint = queue.register("maintenance.checkpoint_tenant", checkpoint_tenant)

    @queue.huey.periodic_task(crontab(minute="*/15"), name="maintenance.checkpoint_all")
    def checkpoint_all() -> None:
        # keeps WAL files small on long-running servers
        services.system_db.checkpoint()
        for tenant in services.system.list_tenants():
            checkpoint(CheckpointInput(tenant.id))

    services.extras.update(ingest=ingest, tasks_queue=queue, sandbox_pool=pool)
    return ingest
