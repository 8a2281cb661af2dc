"""Queue tasks the appliance runs. Inputs are small dataclasses of ids only."""

import logging
from dataclasses import dataclass

from huey import crontab

from app.queue import QueueRunner
from app.services import Services

log = logging.getLogger("appliance.tasks")


@dataclass(frozen=True)
class CheckpointInput:
    tenant_id: str


def register_tasks(queue: QueueRunner, services: Services) -> None:
    """Bind each task to the services it needs and register it on the queue."""

    def checkpoint_tenant(task: CheckpointInput) -> None:
        services.tenants.database(task.tenant_id).checkpoint()

    checkpoint = queue.register("maintenance.checkpoint_tenant", checkpoint_tenant)

    @queue.huey.periodic_task(crontab(minute="*/15"), name="maintenance.checkpoint_all")
    def checkpoint_all() -> None:
        # keeps WAL files small on long-running servers
        services.system_db.checkpoint()
        for tenant in services.system.list_tenants():
            checkpoint(CheckpointInput(tenant.id))

    services.extras["enqueue_checkpoint"] = checkpoint
