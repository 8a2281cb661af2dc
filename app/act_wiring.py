"""Wiring of the actions agent: the dispatcher, its queue task, sweep and start-up resume.

Kept apart from app/tasks.py so the runtime restructuring can move it as one piece:
`register_actions` builds the one Dispatcher per queue (idempotent) and registers
`act.deliver` (payload: DeliverTask, ids only; no Huey retries, the outbox schedule is
the retry) and a sweep every minute; `resume_actions` runs at start-up before the
queue's workers start.
"""

import logging

from huey import crontab

from agents.act.dispatcher import ActionLimits, DeliverTask, Dispatcher
from agents.act.egress import EgressPolicy
from agents.act.steps import action_steps
from agents.supervisor.step import Step
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


def register_actions(queue: QueueRunner, services: Services) -> Dispatcher:
    """The dispatcher bound to `queue`; built once per queue."""
    existing = services.extras.get("dispatcher")
    if isinstance(existing, Dispatcher) and services.extras.get("act_queue") is queue:
        return existing

    def deliver(task: DeliverTask) -> None:
        dispatcher.deliver_and_drain(task)

    deliver_task = queue.register("act.deliver", deliver, retries=0)

    def enqueue(task: DeliverTask, delay_s: float) -> None:
        if delay_s <= 0:
            deliver_task(task)
        else:
            deliver_task.schedule(args=(task,), delay=delay_s)

    dispatcher = Dispatcher(
        services.tenants,
        egress_policy(services.settings),
        action_limits(services.settings),
        enqueue,
    )
    services.on_close(dispatcher.close)

    @queue.huey.periodic_task(crontab(minute="*"), name="act.sweep_outbox")
    def sweep_outbox() -> None:
        # messages due for over a minute whose task was lost (a crash right after commit)
        swept = dispatcher.sweep()
        if swept:
            log.info("outbox sweep queued %d message(s)", swept)

    services.extras.update(dispatcher=dispatcher, act_queue=queue)
    return dispatcher


def resume_actions(services: Services) -> int:
    """At start-up: undelivered messages (interrupted ones too) are queued again."""
    dispatcher: Dispatcher = services.extras["dispatcher"]
    resumed = dispatcher.resume(startup=True)
    if resumed:
        log.info("outbox: %d undelivered message(s) resumed", resumed)
    return resumed


def steps_of(services: Services) -> list[Step]:
    """The action steps, for the workflow engine's StepRegistry."""
    return action_steps(services.extras["dispatcher"])
