"""Workflows and runs for the UI, through the supervisor, with the API's roles and audit."""

from typing import Any

from agents.supervisor.errors import DefinitionError
from agents.supervisor.service import Supervisor
from app.runtime import Runtime
from app.services import Services
from app.ui_backend.gate import SessionGate


class WorkflowMethods:
    _gate: SessionGate
    _services: Services
    _runtime: Runtime

    def _supervisor(self) -> Supervisor:
        return self._runtime.supervisor

    def workflows_available(self) -> bool:
        return True

    def workflows(self, token: str | None, tenant_id: str) -> list[dict[str, Any]]:
        access = self._gate.access(token, tenant_id, "viewer")
        return self._supervisor().list_workflows(access.tenant_id)

    def workflow(self, token: str | None, tenant_id: str, workflow_id: str) -> dict[str, Any]:
        access = self._gate.access(token, tenant_id, "viewer")
        return self._supervisor().workflow_detail(access.tenant_id, workflow_id)

    def check_workflow(self, token: str | None, tenant_id: str, source: str) -> dict[str, Any]:
        self._gate.access(token, tenant_id, "viewer")
        try:
            definition = self._supervisor().validate(source)
        except DefinitionError as exc:
            return {"problems": exc.problems, "definition": None}
        return {"problems": [], "definition": definition.data}

    def save_workflow(
        self, token: str | None, tenant_id: str, workflow_id: str | None, source: str
    ) -> dict[str, Any]:
        access = self._gate.access(token, tenant_id, "editor")
        supervisor = self._supervisor()
        actor = access.principal.username
        if workflow_id:
            record = supervisor.update(access.tenant_id, workflow_id, source, actor)
            action = "workflow.update"
        else:
            record = supervisor.create(access.tenant_id, source, actor)
            action = "workflow.create"
        self._services.system.audit(
            action,
            actor=actor,
            tenant_id=access.tenant_id,
            target=record.id,
            client="ui",
            detail={"name": record.name, "version": record.current_version},
        )
        return supervisor.workflow_detail(access.tenant_id, record.id)

    def set_workflow_enabled(
        self, token: str | None, tenant_id: str, workflow_id: str, enabled: bool
    ) -> dict[str, Any]:
        access = self._gate.access(token, tenant_id, "editor")
        store = self._supervisor().engine.workflows(access.tenant_id)
        record = store.set_enabled(workflow_id, enabled)
        self._services.system.audit(
            "workflow.update",
            actor=access.principal.username,
            tenant_id=access.tenant_id,
            target=record.id,
            client="ui",
            detail={"name": record.name, "enabled": enabled},
        )
        return record.public()

    def run_workflow(
        self, token: str | None, tenant_id: str, workflow_id: str, inputs: dict[str, Any]
    ) -> str:
        access = self._gate.access(token, tenant_id, "editor")
        return self._supervisor().run(
            access.tenant_id, workflow_id, inputs, actor=access.principal.username
        )

    def runs(
        self, token: str | None, tenant_id: str, workflow: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        access = self._gate.access(token, tenant_id, "viewer")
        items, _ = self._supervisor().list_runs(access.tenant_id, workflow=workflow, limit=limit)
        return items

    def run(self, token: str | None, tenant_id: str, run_id: str) -> dict[str, Any]:
        access = self._gate.access(token, tenant_id, "viewer")
        return self._supervisor().run_detail(access.tenant_id, run_id)

    def retry_run(
        self, token: str | None, tenant_id: str, run_id: str, start_from: str
    ) -> dict[str, Any]:
        access = self._gate.access(token, tenant_id, "editor")
        return self._supervisor().retry(access.tenant_id, run_id, start_from)

    def cancel_run(self, token: str | None, tenant_id: str, run_id: str) -> dict[str, Any]:
        access = self._gate.access(token, tenant_id, "editor")
        return self._supervisor().cancel(access.tenant_id, run_id)
