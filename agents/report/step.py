"""The `report` workflow step: a template and data from earlier steps -> a stored report.

with: {template, format, params | data}. Output: {report_id, format, size, pages}, which
the email step can attach. The report is keyed by the step's idempotency key, so a
retried step returns the report it already made instead of making another.
"""

from typing import Any, ClassVar

from agents.report.errors import ReportError
from agents.report.service import ReportService
from agents.report.template import FORMATS
from agents.supervisor.step import Step, StepContext, StepError, StepResult


class ReportStep(Step):
    agent: ClassVar[str] = "report"
    description: ClassVar[str] = "Make a PDF, XLSX or CSV report from a template"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["template"],
        "additionalProperties": False,
        "properties": {
            "template": {"type": "string", "minLength": 1},
            "format": {"enum": list(FORMATS)},
            "params": {"type": "object"},
            "data": {"type": ["array", "object"]},
        },
    }

    def __init__(self, reports: ReportService) -> None:
        self.reports = reports

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        try:
            record = self.reports.produce_now(
                ctx.tenant_id,
                str(params["template"]),
                str(params.get("format", "pdf")),
                params.get("params"),
                params.get("data"),
                created_by=f"workflow run {ctx.run_id}",
                run_id=ctx.run_id,
                step_key=ctx.idempotency_key,
            )
        except ReportError as exc:
            # a bad template or data does not get better by retrying
            raise StepError(exc.message, code=exc.code, retryable=exc.status_code >= 500) from exc
        if record.status != "succeeded":
            code = record.error_code or "report_failed"
            raise StepError(
                record.error_message or "the report could not be made",
                code=code,
                retryable=code == "generation_failed",
            )
        return StepResult(
            output={
                "report_id": record.id,
                "format": record.format,
                "size": record.size,
                "pages": record.pages,
            }
        )
