"""The `email` workflow step: render a mail from an SMTP connector's templates and the
step's parameters, and hand it to the outbox.

Parameters (rendered `with`): connector (an smtp connector's name or id); to, cc (lists
or comma-separated; default the connector's); subject, text, html (override the
connector's templates); data (what the connector's templates see as `data`);
attachments: [{"blob_id" | "document_id", "filename"?, "content_type"?}] (a report's
blob, or a document's original), read and size-checked when the mail is sent.
"""

from __future__ import annotations

from typing import Any, ClassVar

from agents.act.errors import ActError
from agents.act.steps_http import _OutboxStep, endpoint_of, find_connector
from agents.act.templates import render
from agents.supervisor.step import StepContext, StepError, StepResult


def _addresses(value: Any) -> list[str]:
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    addresses = [str(item).strip() for item in items if str(item).strip()]
    for address in addresses:
        if "@" not in address or any(c in address for c in "\r\n"):
            raise StepError(
                f"{address!r} is not an e-mail address.", code="invalid_params", retryable=False
            )
    return addresses


def _attachments(value: Any) -> list[dict[str, Any]]:
    refs = []
    for item in value or []:
        if not isinstance(item, dict) or not (item.get("blob_id") or item.get("document_id")):
            raise StepError(
                "Each attachment needs a blob_id (a report) or a document_id.",
                code="invalid_params",
                retryable=False,
            )
        keep = ("blob_id", "document_id", "filename", "content_type")
        refs.append({k: str(item[k]) for k in keep if item.get(k)})
    return refs


_ADDRESSES = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}


class EmailStep(_OutboxStep):
    agent = "email"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "connector": {"type": "string"},
            "to": _ADDRESSES,
            "cc": _ADDRESSES,
            "subject": {"type": "string"},
            "text": {"type": "string"},
            "html": {"type": "string"},
            "data": {},
            "attachments": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["connector"],
    }
    description = "Send an e-mail (text and HTML, attachments from reports or documents)."

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        if not params.get("connector"):
            raise StepError(
                "An email step needs a 'connector'.", code="invalid_params", retryable=False
            )
        _, connector = find_connector(self.dispatcher, ctx.tenant_id, params["connector"], "smtp")
        config = connector.config
        context = {"data": params.get("data", {}), "inputs": ctx.inputs, "trigger": ctx.trigger}
        try:
            subject = params.get("subject") or render(config.get("subject_template", ""), context)
            text = params.get("text") or render(config.get("text_template", ""), context)
            html = params.get("html") or (
                render(config["html_template"], context, html=True)
                if config.get("html_template")
                else ""
            )
        except ActError as error:
            raise StepError(error.message, code=error.code, retryable=False) from error
        to = _addresses(params.get("to")) or list(config.get("to") or [])
        if not to:
            raise StepError(
                "The mail has no recipient ('to').", code="invalid_params", retryable=False
            )
        payload = {
            "from": config["from_address"],
            "to": to,
            "cc": _addresses(params.get("cc")) or list(config.get("cc") or []),
            "subject": " ".join(str(subject).split()),
            "text": str(text),
            "html": str(html),
            "attachments": _attachments(params.get("attachments")),
        }
        return self.queue(ctx, "email", payload, endpoint_of(connector.id, ""), connector.id)
