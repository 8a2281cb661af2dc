"""Builds the workflow supervisor: its step registry, the "workflow.step" queue task, the
per-minute timer (schedules, reconciler) and the hourly retention.

Kept apart from app/tasks.py so the integrator can move it into the typed runtime as is.
"""

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from huey import crontab

from agents.act.steps_email import EmailStep
from agents.act.steps_http import CrmStep, HttpStep, WebhookStep
from agents.analyze.answer import Answerer
from agents.analyze.service import AnalysisService
from agents.llm.service import LLMService
from agents.report.step import ReportStep
from agents.supervisor.engine import Engine, StepTask
from agents.supervisor.planner import Limits
from agents.supervisor.retention import Retention
from agents.supervisor.service import Supervisor
from agents.supervisor.step import Step, StepRegistry
from agents.supervisor.steps.analysis_steps import (
    AskStep,
    ClassifyStep,
    ExtractStep,
    SearchStep,
    SummarizeStep,
)
from agents.supervisor.steps.control_steps import DocumentsStep, RouteStep, SetStep, WaitStep
from app.queue import QueueRunner
from app.services import Services
from app.settings import Settings

log = logging.getLogger("appliance.workflows")


def builtin_steps(
    analysis: AnalysisService, llm: LLMService | None, answerer: Answerer | None
) -> list[Step]:
    """The supervisor's own steps; report and action agents register theirs beside them.
    Without a language model the steps that need one are not offered."""
    plain: list[Step] = [
        SearchStep(analysis),
        DocumentsStep(analysis.ledger),
        SetStep(),
        WaitStep(),
    ]
    if llm is None or answerer is None:
        return plain
    return [
        *plain,
        ClassifyStep(llm, analysis.ledger),
        ExtractStep(llm, analysis.ledger),
        SummarizeStep(llm, analysis.ledger),
        AskStep(answerer),
        RouteStep(llm),
    ]


BUILTIN_STEP_CLASSES: list[type[Step]] = [
    ClassifyStep,
    ExtractStep,
    SummarizeStep,
    AskStep,
    SearchStep,
    DocumentsStep,
    SetStep,
    RouteStep,
    WaitStep,
]


# the steps other agents register beside the supervisor's own (app/act_wiring.py, reports)
AGENT_STEP_CLASSES: list[type[Step]] = [ReportStep, EmailStep, WebhookStep, HttpStep, CrmStep]


def builtin_agent_names() -> list[str]:
    """Agent names of every step the runtime registers, known without building any service."""
    return sorted(cls.agent for cls in [*BUILTIN_STEP_CLASSES, *AGENT_STEP_CLASSES])


def engine_limits(settings: Settings) -> Limits:
    workflows = settings.workflows
    return Limits(
        max_foreach_items=workflows.max_foreach_items,
        inline_output_bytes=workflows.inline_output_kb * 1024,
        max_output_bytes=workflows.max_output_mb * 2**20,
        template_max_chars=workflows.template_max_chars,
    )


def wire_supervisor(
    queue: QueueRunner,
    services: Services,
    steps: StepRegistry | Sequence[Step],
    clock: Callable[[], float] = time.time,
) -> Supervisor:
    """Register the step task and timers on `queue`; returns the supervisor. `steps` is
    the runtime's registry (agents may register into it later) or a list of steps."""
    if isinstance(steps, StepRegistry):
        registry = steps
    else:
        registry = StepRegistry()
        for step in steps:
            registry.register(step)
    holder: dict[str, Any] = {}

    def enqueue(task: StepTask, not_before: float | None) -> None:
        delay = (not_before - clock()) if not_before is not None else 0.0
        if delay > 0.05:
            holder["task"].schedule(args=(task,), delay=delay)
        else:
            holder["task"](task)

    engine = Engine(services.tenants, registry, enqueue, engine_limits(services.settings), clock)
    # no Huey retries: the engine counts attempts itself, and a step that raised is
    # recorded as failed rather than re-run behind the engine's back
    holder["task"] = queue.register("workflow.step", engine.execute, retries=0)
    settings = services.settings.workflows
    supervisor = Supervisor(engine, Retention(settings.retention_days, settings.retention_max_runs))
    interval = max(1, settings.reconcile_interval_minutes)

    @queue.huey.periodic_task(
        crontab(minute=f"*/{interval}" if interval > 1 else "*"), name="workflow.tick"
    )
    def tick() -> None:
        for_each_tenant(services, supervisor, startup=False)

    @queue.huey.periodic_task(crontab(minute="23"), name="workflow.retention")
    def retention() -> None:
        for tenant in services.system.list_tenants():
            try:
                supervisor.prune(tenant.id)
            except Exception:
                log.exception("pruning runs of tenant %s failed", tenant.slug)

    return supervisor


def for_each_tenant(services: Services, supervisor: Supervisor, *, startup: bool) -> None:
    """Reconcile every tenant's runs and start due schedules (at start-up: missed slots)."""
    for tenant in services.system.list_tenants():
        try:
            supervisor.reconcile(tenant.id, startup=startup)
            supervisor.triggers.schedule_tick(tenant.id)
        except Exception:
            log.exception("workflow upkeep of tenant %s failed", tenant.slug)


def document_indexed(supervisor: Supervisor, tenant_id: str, document_id: str) -> None:
    """Start the workflows a newly indexed document triggers; never fails the indexing."""
    try:
        supervisor.triggers.document_indexed(tenant_id, document_id)
    except Exception:
        log.exception("document triggers of tenant %s failed", tenant_id[:8])
