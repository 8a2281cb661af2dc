"""Reports through the ReportService, with the API's roles (app/api/reports.py) and audit:
viewers list, preview and download; editors also generate and delete."""

from typing import Any

from agents.report.preview import pdf_page_images
from agents.report.render import MEDIA_TYPES
from agents.report.service import ReportService, download_name
from app.auth.tenant_access import TenantAccess
from app.runtime import Runtime
from app.services import Services
from app.ui_backend.errors import InvalidInput
from app.ui_backend.gate import SessionGate
from ui.backend import Row


class ReportMethods:
    """The ReportsBackend part of ApplianceUiBackend."""

    _gate: SessionGate
    _services: Services
    _runtime: Runtime

    def reports_available(self) -> bool:
        return isinstance(self._runtime.reports, ReportService)

    def _reports(
        self, token: str | None, tenant_id: str, needed: str
    ) -> tuple[ReportService, TenantAccess]:
        access = self._gate.access(token, tenant_id, needed)
        return self._runtime.reports, access

    def report_templates(self, token: str | None, tenant_id: str) -> list[Row]:
        reports, access = self._reports(token, tenant_id, "viewer")
        return [t.summary() for t in reports.catalog(access.tenant_id).templates()]

    def reports(self, token: str | None, tenant_id: str, limit: int = 100) -> list[Row]:
        reports, access = self._reports(token, tenant_id, "viewer")
        records, _ = reports.list_reports(access.tenant_id, limit=max(1, min(limit, 200)))
        return [r.public() for r in records]

    def request_report(
        self,
        token: str | None,
        tenant_id: str,
        template_id: str,
        fmt: str,
        params: dict[str, Any],
        data: Any = None,
    ) -> Row:
        """Queue a report (editor); the list shows it once the queue has made it."""
        if not template_id:
            raise InvalidInput("choose a template")
        reports, access = self._reports(token, tenant_id, "editor")
        record = reports.request(
            access.tenant_id, template_id, fmt, params, data, access.principal.username
        )
        return record.public()

    def report_file(
        self, token: str | None, tenant_id: str, report_id: str
    ) -> tuple[str, str, bytes]:
        reports, access = self._reports(token, tenant_id, "viewer")
        record, content = reports.content(access.tenant_id, report_id)
        return download_name(record), MEDIA_TYPES[record.format], content

    def report_preview(
        self, token: str | None, tenant_id: str, report_id: str, pages: int = 2
    ) -> list[bytes]:
        reports, access = self._reports(token, tenant_id, "viewer")
        record, content = reports.content(access.tenant_id, report_id)
        if record.format != "pdf":
            raise InvalidInput("only PDF reports have a preview")
        return pdf_page_images(content, pages=max(1, min(pages, 4)))

    def delete_report(self, token: str | None, tenant_id: str, report_id: str) -> None:
        reports, access = self._reports(token, tenant_id, "editor")
        record = reports.delete(access.tenant_id, report_id)
        self._services.system.audit(
            "report.delete",
            actor=access.principal.username,
            tenant_id=access.tenant_id,
            target=record.id,
            client=self._gate.client(token),
            detail={"template": record.template, "format": record.format},
        )
