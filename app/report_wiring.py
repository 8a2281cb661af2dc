"""Builds the report service and registers its queue task (`report.generate`).

Called once by the composition root (app/runtime.py): the service needs the tenant
registry, the settings and, where loaded, the LLM and the answerer for the model-backed
sources.
"""

from dataclasses import dataclass
from typing import Any

from agents.analyze import documents_ops
from agents.analyze.answer import Answerer
from agents.llm.service import LLMService
from agents.report.limits import PdfLimits
from agents.report.render import RenderLimits
from agents.report.service import ReportService, remove_stale_report_files
from agents.report.sources import DataSources, SourceServices
from app.queue import QueueRunner
from app.services import Services
from app.settings import Settings
from storage.tenants import TenantRegistry


@dataclass(frozen=True)
class GenerateReportInput:
    """Queue payload: generate one requested report. Ids only."""

    tenant_id: str
    report_id: str


def source_services(llm: LLMService | None, answerer: Answerer | None) -> SourceServices:
    """The model-backed data sources, bound to the shared LLM and answerer."""
    if llm is None:
        return SourceServices()

    def extract(text: str, schema: dict[str, Any]) -> dict[str, Any]:
        return documents_ops.extract(llm, text, schema)

    def summarise(text: str) -> str:
        return str(documents_ops.summarise(llm, text)["summary"])

    def ask(tenant_id: str, question: str) -> dict[str, Any]:
        if answerer is None:
            return {"answer": "", "citations": []}
        return answerer.ask(tenant_id, question, 5, None)

    return SourceServices(extract=extract, ask=ask, summarise=summarise)


def build_report_service(
    tenants: TenantRegistry, settings: Settings, sources: SourceServices, scratch: Any = None
) -> ReportService:
    limits = RenderLimits(
        pdf=PdfLimits(
            max_rows=settings.reports.pdf_max_rows, max_pages=settings.reports.pdf_max_pages
        )
    )
    return ReportService(
        tenants,
        DataSources(tenants, sources, max_documents=settings.reports.max_documents),
        limits,
        scratch_dir=scratch,
    )


def build_reports(
    services: Services, queue: QueueRunner, llm: LLMService | None, answerer: Answerer | None
) -> ReportService:
    """The report service with `report.generate` registered on `queue` (runtime only)."""
    remove_stale_report_files(services.data.scratch_dir)
    reports = build_report_service(
        services.tenants,
        services.settings,
        source_services(llm, answerer),
        services.data.scratch_dir,
    )

    def generate_report(task: GenerateReportInput) -> None:
        reports.generate(task.tenant_id, task.report_id)

    # no queue retries: a failure is recorded on the report row, and the same data fails again
    enqueue = queue.register("report.generate", generate_report, retries=0)
    reports.enqueue = lambda tenant_id, report_id: enqueue(
        GenerateReportInput(tenant_id, report_id)
    )
    return reports


def requeue_unfinished_reports(
    reports: ReportService,
    services: Services,
    queue: QueueRunner,
    stale_after_s: float | None = None,
    now: float | None = None,
) -> int:
    """Queue again the reports killed processes left queued or running (Huey does not
    redeliver a task that was running when it died), except those whose task waits in the
    queue or runs here. `stale_after_s` None: at start-up, before the workers run; else
    the periodic pass (`ReportService.requeue_unfinished`)."""
    in_hand = {
        payload.report_id
        for payload in queue.payloads_in_hand()
        if isinstance(payload, GenerateReportInput)
    }
    return sum(
        reports.requeue_unfinished(tenant.id, in_hand, stale_after_s, now)
        for tenant in services.system.list_tenants()
    )
