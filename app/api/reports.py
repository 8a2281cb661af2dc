"""Reports of one tenant: request (202, generated on the queue), list, show, download,
delete; and report templates (built-in and the tenant's own).

Roles (tenant_scope.required_role): reading, listing and downloading need a viewer;
requesting and deleting reports and adding templates need an editor.
"""

import functools
from typing import Annotated, Any, Literal

import anyio
import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from agents.report.catalog import decode_template
from agents.report.render import MEDIA_TYPES
from agents.report.service import download_name
from app.api.deps import ClientDep, ReportsDep, ServicesDep, TenantAccessDep
from app.errors import AppError

MAX_PAGE = 200


class InvalidReportBody(AppError):
    status_code = 400
    code = "invalid_request"


class ReportRequest(msgspec.Struct, forbid_unknown_fields=True):
    template: str
    format: str = "pdf"
    params: dict[str, Any] | None = None
    data: list[Any] | dict[str, Any] | None = None


class ReportsController(Controller):
    path = "/reports"
    tags = ["reports"]

    @post("/", status_code=HTTP_202_ACCEPTED)
    async def request_report(
        self,
        request: Request[Any, Any, Any],
        tenant_access: TenantAccessDep,
        reports: ReportsDep,
    ) -> dict[str, Any]:
        """Validate and queue a report; 202 with its id (poll GET .../reports/{id})."""
        try:
            body = msgspec.json.decode(await request.body(), type=ReportRequest)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise InvalidReportBody(f"invalid report request: {exc}") from exc
        record = await anyio.to_thread.run_sync(
            functools.partial(
                reports.request,
                tenant_access.tenant_id,
                body.template,
                body.format,
                body.params,
                body.data,
                tenant_access.principal.username,
            )
        )
        return {"id": record.id, "status": record.status, "report": record.public()}

    @get("/", sync_to_thread=True)
    def list_reports(
        self,
        tenant_access: TenantAccessDep,
        reports: ReportsDep,
        status: FromQuery[Literal["queued", "running", "succeeded", "failed"] | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="items per page")] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Newest first; cursor paging."""
        records, following = reports.list_reports(
            tenant_access.tenant_id,
            limit=max(1, min(limit, MAX_PAGE)),
            cursor=cursor,
            status=status,
        )
        return {"items": [r.public() for r in records], "next_cursor": following}

    @get("/{report_id:str}", sync_to_thread=True)
    def show(
        self, report_id: FromPath[str], tenant_access: TenantAccessDep, reports: ReportsDep
    ) -> dict[str, Any]:
        return reports.get(tenant_access.tenant_id, report_id).public()

    @get("/{report_id:str}/download", sync_to_thread=True)
    def download(
        self, report_id: FromPath[str], tenant_access: TenantAccessDep, reports: ReportsDep
    ) -> Stream:
        """The report file, decrypted as it is sent."""
        record, chunks = reports.download(tenant_access.tenant_id, report_id)
        return Stream(
            chunks,
            media_type=MEDIA_TYPES[record.format],
            headers={
                "Content-Disposition": f'attachment; filename="{download_name(record)}"',
                "Content-Length": str(record.size or 0),
            },
        )

    @delete("/{report_id:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def remove(
        self,
        report_id: FromPath[str],
        tenant_access: TenantAccessDep,
        reports: ReportsDep,
        services: ServicesDep,
        client: ClientDep,
    ) -> None:
        record = reports.delete(tenant_access.tenant_id, report_id)
        services.system.audit(
            "report.delete",
            actor=tenant_access.principal.username,
            tenant_id=tenant_access.tenant_id,
            target=record.id,
            client=client,
            detail={"template": record.template, "format": record.format},
        )


class ReportTemplatesController(Controller):
    path = "/report-templates"
    tags = ["reports"]

    @get("/", sync_to_thread=True)
    def list_templates(self, tenant_access: TenantAccessDep, reports: ReportsDep) -> dict[str, Any]:
        """Built-in templates first, then the tenant's own."""
        catalog = reports.catalog(tenant_access.tenant_id)
        return {"items": [t.summary() for t in catalog.templates()]}

    @post("/", status_code=HTTP_201_CREATED)
    async def add_template(
        self,
        request: Request[Any, Any, Any],
        tenant_access: TenantAccessDep,
        reports: ReportsDep,
        services: ServicesDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """A template as JSON, or YAML text (Content-Type application/yaml or text/*)."""
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidReportBody("the template is not UTF-8 text") from exc
        definition = decode_template(text)
        if "json" in content_type and isinstance(definition, dict) and set(definition) == {"yaml"}:
            definition = decode_template(str(definition["yaml"]))
        catalog = reports.catalog(tenant_access.tenant_id)
        template = await anyio.to_thread.run_sync(
            catalog.add, definition, tenant_access.principal.username
        )
        services.system.audit(
            "report_template.create",
            actor=tenant_access.principal.username,
            tenant_id=tenant_access.tenant_id,
            target=template.id,
            client=client,
        )
        return template.summary()
