"""Workflows of one tenant: GET|POST /workflows, GET|PUT|DELETE /workflows/{id},
GET /workflows/{id}/versions, POST /workflows/{id}/run.

Viewers read; editors save, enable/disable, roll back and run (the tenant guard's
defaults). A definition is sent as YAML or JSON text (`application/yaml`, `text/plain`,
or JSON `{"source": "..."}`), or as a JSON object that is the definition itself. Bad
definitions get 422 whose detail names the step and line (`problems` lists them all).
"""

import json
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from app.api.deps import ClientDep, RuntimeDep, ServicesDep, SupervisorDep, TenantAccessDep
from app.auth.tenant_access import TenantAccess
from app.errors import AppError
from app.services import Services

_TEXT_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")


class InvalidWorkflowRequest(AppError):
    status_code = 400
    code = "invalid_request"


class RunRequest(msgspec.Struct, forbid_unknown_fields=True):
    inputs: dict[str, Any] = msgspec.field(default_factory=dict)
    version: int | None = None


async def definition_text(request: Request[Any, Any, Any]) -> tuple[str, dict[str, Any]]:
    """(source text, other JSON fields) of a POST/PUT body."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(_TEXT_TYPES):
        try:
            return body.decode(), {}
        except UnicodeDecodeError as exc:
            raise InvalidWorkflowRequest("the definition is not UTF-8 text") from exc
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise InvalidWorkflowRequest("the body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise InvalidWorkflowRequest("send a JSON object")
    if isinstance(data.get("source"), str):
        return data["source"], {k: v for k, v in data.items() if k != "source"}
    if "steps" in data:
        return json.dumps(data, indent=2), {}
    return "", data


def _audit(
    services: Services, action: str, access: TenantAccess, target: str, client: str, **detail: Any
) -> None:
    services.system.audit(
        action,
        actor=access.principal.username,
        tenant_id=access.tenant_id,
        target=target,
        client=client,
        detail=detail,
    )


class WorkflowsController(Controller):
    path = "/workflows"
    tags = ["workflows"]

    @get("/", sync_to_thread=True)
    def list_workflows(
        self, tenant_access: TenantAccessDep, services: ServicesDep, supervisor: SupervisorDep
    ) -> dict[str, Any]:
        """Every workflow with its triggers, current version and last run."""
        return {"items": supervisor.list_workflows(tenant_access.tenant_id)}

    @post("/", status_code=HTTP_201_CREATED)
    async def create(
        self,
        request: Request[Any, Any, Any],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """Save a new workflow (version 1); `enabled: false` keeps its triggers off."""
        import anyio

        source, extra = await definition_text(request)
        if not source:
            raise InvalidWorkflowRequest("send the definition (YAML or JSON)")

        def save() -> dict[str, Any]:
            record = supervisor.create(
                tenant_access.tenant_id,
                source,
                tenant_access.principal.username,
                enabled=bool(extra.get("enabled", True)),
            )
            _audit(services, "workflow.create", tenant_access, record.id, client, name=record.name)
            return supervisor.workflow_detail(tenant_access.tenant_id, record.id)

        return await anyio.to_thread.run_sync(save)

    @get("/{workflow_id:str}", sync_to_thread=True)
    def show(
        self,
        workflow_id: FromPath[str],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
    ) -> dict[str, Any]:
        """The workflow with its current source, definition and last run."""
        return supervisor.workflow_detail(tenant_access.tenant_id, workflow_id)

    @put("/{workflow_id:str}")
    async def change(
        self,
        workflow_id: FromPath[str],
        request: Request[Any, Any, Any],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
        client: ClientDep,
    ) -> dict[str, Any]:
        """A new definition (a new version), `{"enabled": bool}`, or `{"version": n}`
        (rollback: an earlier version becomes current)."""
        import anyio

        source, extra = await definition_text(request)
        tenant_id = tenant_access.tenant_id

        def apply() -> dict[str, Any]:
            store = supervisor.engine.workflows(tenant_id)
            if source:
                record = supervisor.update(
                    tenant_id, workflow_id, source, tenant_access.principal.username
                )
            else:
                record = store.get(workflow_id)
            if "version" in extra:
                if not isinstance(extra["version"], int):
                    raise InvalidWorkflowRequest("'version' must be a number")
                record = store.set_current(record.id, extra["version"])
            if "enabled" in extra:
                record = store.set_enabled(record.id, bool(extra["enabled"]))
            if not source and not {"version", "enabled"} & set(extra):
                raise InvalidWorkflowRequest("send a definition, 'enabled' or 'version'")
            _audit(
                services,
                "workflow.update",
                tenant_access,
                record.id,
                client,
                name=record.name,
                version=record.current_version,
                enabled=record.enabled,
            )
            return supervisor.workflow_detail(tenant_id, record.id)

        return await anyio.to_thread.run_sync(apply)

    @delete("/{workflow_id:str}", status_code=HTTP_204_NO_CONTENT, sync_to_thread=True)
    def remove(
        self,
        workflow_id: FromPath[str],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
        client: ClientDep,
    ) -> None:
        """Delete the workflow, its versions and its runs."""
        store = supervisor.engine.workflows(tenant_access.tenant_id)
        record = store.get(workflow_id)
        store.delete(record.id)
        _audit(services, "workflow.delete", tenant_access, record.id, client, name=record.name)

    @get("/{workflow_id:str}/versions", sync_to_thread=True)
    def versions(
        self,
        workflow_id: FromPath[str],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
    ) -> dict[str, Any]:
        """Every saved version, newest first; `current` marks the one runs start with."""
        store = supervisor.engine.workflows(tenant_access.tenant_id)
        return {"items": store.versions(workflow_id)}

    @get("/{workflow_id:str}/versions/{version:int}", sync_to_thread=True)
    def version_source(
        self,
        workflow_id: FromPath[str],
        version: Annotated[int, Parameter(ge=1, le=2**31 - 1)],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
    ) -> Response[str]:
        """The text of one version as saved."""
        text = supervisor.export(tenant_access.tenant_id, workflow_id, version)
        return Response(text, media_type="text/plain; charset=utf-8")

    @post("/{workflow_id:str}/run", status_code=HTTP_202_ACCEPTED, sync_to_thread=True)
    def run(
        self,
        workflow_id: FromPath[str],
        data: JSONBody[RunRequest],
        tenant_access: TenantAccessDep,
        services: ServicesDep,
        supervisor: SupervisorDep,
        runtime: RuntimeDep,
    ) -> dict[str, Any]:
        """Start a run with `inputs` (of `version`, default the current one); 202 with it.
        507 while the disk is below the intake threshold (new work waits for space)."""
        runtime.space.check()
        run_id = supervisor.run(
            tenant_access.tenant_id,
            workflow_id,
            data.inputs,
            version=data.version,
            actor=tenant_access.principal.username,
            trigger_type="api",
        )
        return supervisor.run_detail(tenant_access.tenant_id, run_id)
