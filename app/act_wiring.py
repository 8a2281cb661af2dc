"""Wiring of the actions agent: the dispatcher, its queue task, sweep and start-up resume.

`build_dispatcher` (called by app/runtime.py) builds the one Dispatcher of a runtime and
registers `act.deliver` (payload: DeliverTask, ids only; no Huey retries, the outbox
schedule is the retry) and a sweep every minute; `resume_actions` runs at start-up
before the queue's workers start.
"""

import logging

from huey import crontab

from agents.act.dispatcher import ActionLimits, DeliverTask, Dispatcher
from agents.act.egress import EgressPolicy
from agents.act.steps import action_steps
from agents.supervisor.step import StepRegistry
from app.queue import QueueRunner
from app.services import Services
from app.settings import Settings

log = logging.getLogger("appliance.act")


def action_limits(settings: Settings) -> ActionLimits:
    actions = settings.actions
    return ActionLimits(
        timeout_s=actions.request_timeout_s,
        max_body_bytes=actions.max_body_kb * 1024,
        max_response_bytes=actions.max_response_kb * 1024,
        max_attachment_bytes=actions.max_attachments_mb * 2**20,
        concurrency=actions.concurrency,
    )


def egress_policy(settings: Settings) -> EgressPolicy:
    return EgressPolicy(settings.actions.egress_allow, enabled=settings.actions.egress_guard)


def build_dispatcher(queue: QueueRunner, services: Services) -> Dispatcher:
    """The dispatcher bound to `queue`, with its task and periodic sweep registered."""

    def deliver(task: DeliverTask) -> None:
        dispatcher.deliver_and_drain(task)

    deliver_task = queue.register("act.deliver", deliver, retries=0)

    def enqueue(task: DeliverTask, delay_s: float) -> None:
        if delay_s <= 0:
            deliver_task(task)
        else:
            deliver_task.schedule(args=(task,), delay=delay_s)

    settings = services.settings
    dispatcher = Dispatcher(
        services.tenants, egress_policy(settings), action_limits(settings), enqueue
    )
    services.on_close(dispatcher.close)

    @queue.huey.periodic_task(crontab(minute="*"), name="act.sweep_outbox")
    def sweep_outbox() -> None:
        # messages due for over a minute whose task was lost (a crash right after commit)
        swept = dispatcher.sweep()
        if swept:
            log.info("outbox sweep queued %d message(s)", swept)

    return dispatcher


def register_action_steps(registry: StepRegistry, dispatcher: Dispatcher) -> None:
    """The email, webhook, http and crm steps, for the workflow engine."""
    for step in action_steps(dispatcher):
        registry.register(step)


def resume_actions(dispatcher: Dispatcher) -> int:
    """At start-up: undelivered messages (interrupted ones too) are queued again."""
    resumed = dispatcher.resume(startup=True)
    if resumed:
        log.info("outbox: %d undelivered message(s) resumed", resumed)
    return resumed
