"""The supervisor as the app sees it: workflows (save, validate), runs, triggers, upkeep."""

from typing import Any

from agents.supervisor.definition import WorkflowDefinition, load_definition
from agents.supervisor.engine import Engine
from agents.supervisor.errors import InvalidInputs, WorkflowNotFound
from agents.supervisor.reconcile import ReconcileReport, reconcile_tenant
from agents.supervisor.retention import Retention, prune_runs
from agents.supervisor.run_store import RUN_STATUSES, list_runs, run_public
from agents.supervisor.source import dump_source
from agents.supervisor.triggers import Triggers
from agents.supervisor.workflow_store import WorkflowRecord


class Supervisor:
    """Facade over the engine for the API, the CLI, the UI and the runtime's timers."""

    def __init__(self, engine: Engine, retention: Retention | None = None) -> None:
        self.engine = engine
        self.triggers = Triggers(engine)
        self.retention = retention or Retention()

    # -- definitions --------------------------------------------------------------------

    def validate(self, source: str) -> WorkflowDefinition:
        """Parse and check a definition (DefinitionError, 422, names step and line)."""
        return load_definition(source, self.engine.registry.names(), self.engine.templates)

    def create(
        self, tenant_id: str, source: str, actor: str | None = None, enabled: bool = True
    ) -> WorkflowRecord:
        definition = self.validate(source)
        store = self.engine.workflows(tenant_id)
        record = store.create(definition, source, actor)
        return record if enabled else store.set_enabled(record.id, False)

    def update(
        self, tenant_id: str, workflow: str, source: str, actor: str | None = None
    ) -> WorkflowRecord:
        definition = self.validate(source)
        return self.engine.workflows(tenant_id).save_version(workflow, definition, source, actor)

    def import_source(
        self, tenant_id: str, source: str, actor: str | None = None, enabled: bool = True
    ) -> tuple[WorkflowRecord, bool]:
        """Create, or add a version to the workflow of the same name; (record, created)."""
        definition = self.validate(source)
        store = self.engine.workflows(tenant_id)
        try:
            existing = store.get(definition.name)
        except WorkflowNotFound:
            record = store.create(definition, source, actor)
            return (record if enabled else store.set_enabled(record.id, False)), True
        return store.save_version(existing.id, definition, source, actor), False

    def export(
        self, tenant_id: str, workflow: str, version: int | None = None, fmt: str | None = None
    ) -> str:
        """The definition's text as saved (or re-serialised as `fmt`)."""
        definition, source, _ = self.engine.workflows(tenant_id).version(workflow, version)
        return source if fmt is None else dump_source(definition.data, fmt)

    def workflow_detail(self, tenant_id: str, workflow: str) -> dict[str, Any]:
        store = self.engine.workflows(tenant_id)
        record = store.get(workflow)
        definition, source, _ = store.version(record.id)
        return {
            **record.public(),
            "source": source,
            "definition": definition.data,
            "inputs": definition.inputs,
            "last_run": store.last_runs().get(record.id),
        }

    def list_workflows(self, tenant_id: str) -> list[dict[str, Any]]:
        store = self.engine.workflows(tenant_id)
        last = store.last_runs()
        return [{**r.public(), "last_run": last.get(r.id)} for r in store.list_all()]

    # -- runs ---------------------------------------------------------------------------

    def run(
        self,
        tenant_id: str,
        workflow: str,
        inputs: dict[str, Any] | None = None,
        version: int | None = None,
        actor: str | None = None,
        trigger_type: str = "manual",
    ) -> str:
        run_id = self.engine.start_run(
            tenant_id,
            workflow,
            inputs,
            version=version,
            actor=actor,
            trigger={"type": trigger_type, "by": actor},
        )
        assert run_id is not None  # no event key: always started
        return run_id

    def list_runs(
        self,
        tenant_id: str,
        *,
        workflow: str | None = None,
        status: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 50,
        cursor: int | None = None,
    ) -> tuple[list[dict[str, Any]], int | None]:
        if status is not None and status not in RUN_STATUSES:
            raise InvalidInputs(f"unknown status {status!r}; one of {', '.join(RUN_STATUSES)}")
        store = self.engine.workflows(tenant_id)
        workflow_id = store.get(workflow).id if workflow else None
        names = {r.id: r.name for r in store.list_all()}
        with self.engine.db(tenant_id).read() as conn:
            runs, next_cursor = list_runs(
                conn,
                workflow_id=workflow_id,
                status=status,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
            )
        return [run_public(r, names.get(r.workflow_id)) for r in runs], next_cursor

    def run_detail(self, tenant_id: str, run_id: str) -> dict[str, Any]:
        return self.engine.detail(tenant_id, run_id)

    def cancel(self, tenant_id: str, run_id: str) -> dict[str, Any]:
        return self.engine.cancel(tenant_id, run_id)

    def retry(self, tenant_id: str, run_id: str, start_from: str = "failed") -> dict[str, Any]:
        return self.engine.retry(tenant_id, run_id, start_from)

    # -- upkeep -------------------------------------------------------------------------

    def reconcile(self, tenant_id: str, startup: bool = False) -> ReconcileReport:
        return reconcile_tenant(self.engine, tenant_id, startup=startup)

    def prune(self, tenant_id: str) -> int:
        return prune_runs(self.engine, tenant_id, self.retention)
