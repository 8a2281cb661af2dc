"""The action steps the runtime registers with the supervisor's StepRegistry."""

from agents.act.dispatcher import Dispatcher
from agents.act.steps_email import EmailStep
from agents.act.steps_http import CrmStep, HttpStep, WebhookStep
from agents.supervisor.step import Step


def action_steps(dispatcher: Dispatcher) -> list[Step]:
    """One step object per action agent (email, webhook, http, crm)."""
    return [
        EmailStep(dispatcher),
        WebhookStep(dispatcher),
        HttpStep(dispatcher),
        CrmStep(dispatcher),
    ]
