"""The durable run engine: starts runs, executes queued steps, cancels and retries.

State lives in the tenant database; the queue carries `StepTask` (ids only). Every
decision is taken inside a write transaction by the `Planner`; tasks are enqueued only
after that transaction has committed, and executing a task first claims its row, so a
task delivered twice (re-delivery, the reconciler) runs its step once.
"""

import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from agents.supervisor.definition import WorkflowDefinition, from_data
from agents.supervisor.errors import RunStateConflict
from agents.supervisor.execution import StepExecutor
from agents.supervisor.outputs import Outputs
from agents.supervisor.planner import Limits, Planner
from agents.supervisor.run_store import (
    RunRow,
    find_run,
    get_run,
    insert_run,
    next_seq,
    run_public,
    step_public,
    step_rows,
    update_run,
)
from agents.supervisor.step import StepRegistry
from agents.supervisor.templates import Templates
from agents.supervisor.workflow_store import WorkflowStore
from storage.blobs import BlobStore
from storage.database import Database

log = logging.getLogger("appliance.supervisor")


@dataclass(frozen=True)
class StepTask:
    """Queue payload of task "workflow.step": execute one run step row. Ids only."""

    tenant_id: str
    run_id: str
    row_id: int


Enqueue = Callable[[StepTask, float | None], None]  # (task, not before: epoch seconds)


class TenantStorage(Protocol):
    def database(self, tenant_id: str) -> Database: ...

    def blobs(self, tenant_id: str) -> BlobStore: ...


class Engine:
    """Runs workflows of every tenant; one per process, built by the runtime."""

    def __init__(
        self,
        tenants: TenantStorage,
        registry: StepRegistry,
        enqueue: Enqueue,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.tenants = tenants
        self.registry = registry
        self.enqueue = enqueue
        self.limits = limits or Limits()
        self.clock = clock
        self.templates = Templates(self.limits.template_max_chars)
        self.planner = Planner(self._definition_of, self.templates, self.limits, clock)
        # who claims a step: the process (its pid decides whether a claim is orphaned)
        self.worker_token = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._definitions: dict[tuple[str, int], WorkflowDefinition] = {}
        self._definitions_lock = threading.Lock()
        self._executor = StepExecutor(self, rand)

    # -- helpers shared with the executor, reconciler and triggers ----------------------

    def db(self, tenant_id: str) -> Database:
        return self.tenants.database(tenant_id)

    def outputs(self, tenant_id: str) -> Outputs:
        return Outputs(
            self.tenants.blobs(tenant_id),
            self.limits.inline_output_bytes,
            self.limits.max_output_bytes,
        )

    def workflows(self, tenant_id: str) -> WorkflowStore:
        return WorkflowStore(self.db(tenant_id))

    def _definition_of(self, conn: Any, workflow_id: str, version: int) -> WorkflowDefinition:
        # versions are immutable, so a parsed one is good for good
        key = (workflow_id, version)
        with self._definitions_lock:
            found = self._definitions.get(key)
        if found is not None:
            return found
        (data,) = conn.execute(
            "SELECT definition FROM workflow_versions WHERE workflow_id = ? AND version = ?",
            (workflow_id, version),
        ).fetchone()
        definition = from_data(json.loads(data))
        with self._definitions_lock:
            if len(self._definitions) > 1024:
                self._definitions.clear()
            self._definitions[key] = definition
        return definition

    def dispatch(self, tenant_id: str, run_id: str, row_ids: list[int]) -> None:
        """Enqueue step rows (after the transaction that queued them committed)."""
        for row_id in row_ids:
            self.enqueue(StepTask(tenant_id, run_id, row_id), None)

    def dispatch_rows(self, tenant_id: str, row_ids: list[int]) -> None:
        """Enqueue rows of possibly several runs (looks up each row's run and wake time)."""
        if not row_ids:
            return
        with self.db(tenant_id).read() as conn:
            marks = ",".join("?" for _ in row_ids)
            found = conn.execute(
                f"SELECT id, run_id, not_before FROM run_steps WHERE id IN ({marks})", row_ids
            ).fetchall()
        for row_id, run_id, not_before in found:
            self.enqueue(StepTask(tenant_id, run_id, row_id), not_before)

    # -- operations ---------------------------------------------------------------------

    def start_run(
        self,
        tenant_id: str,
        workflow: str,
        inputs: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        trigger: dict[str, Any] | None = None,
        actor: str | None = None,
        event_key: str | None = None,
    ) -> str | None:
        """Queue a run of `workflow` (id or name); it starts at once unless the workflow's
        concurrency limit holds it back. With `event_key`, an event already recorded for
        this workflow starts nothing and None is returned."""
        store = self.workflows(tenant_id)
        record = store.get(workflow)
        definition, _, number = store.version(record.id, version)
        resolved = definition.resolve_inputs(inputs)
        run_id = uuid.uuid4().hex
        outputs = self.outputs(tenant_id)

        def queue_run(conn: Any) -> list[int] | None:
            now = self.clock()
            if event_key is not None:
                inserted = conn.execute(
                    "INSERT OR IGNORE INTO trigger_events (workflow_id, event_key, run_id, at) "
                    "VALUES (?, ?, ?, ?)",
                    (record.id, event_key, run_id, now),
                ).rowcount
                if not inserted:
                    return None
            run = RunRow(
                id=run_id,
                seq=next_seq(conn),
                workflow_id=record.id,
                version=number,
                status="queued",
                failing=0,
                inputs=json.dumps(resolved),
                trigger=json.dumps(trigger or {"type": "manual"}, default=str),
                error_code=None,
                error_message=None,
                created_by=actor,
                retries=0,
                queued_at=now,
                started_at=None,
                finished_at=None,
                deadline_at=None,
            )
            insert_run(conn, run)
            return self.planner.admit(conn, record.id, outputs)

        # group commit: runs started at the same time (API requests, a document matching
        # several workflows) share one durable commit
        rows = self.db(tenant_id).write_together(queue_run)
        if rows is None:
            return None
        self.dispatch_rows(tenant_id, rows)
        return run_id

    def execute(self, task: StepTask) -> None:
        """Queue task body: claim the row, run its step, record the outcome."""
        self._executor.execute(task)

    def cancel(self, tenant_id: str, run_id: str) -> dict[str, Any]:
        """Cancel a queued or running run; a step still running has its result discarded."""
        outputs = self.outputs(tenant_id)
        with self.db(tenant_id).write() as conn:
            run = get_run(conn, run_id)
            if run.final:
                raise RunStateConflict(f"the run has already finished ({run.status})")
            rows = self.planner.cancel(conn, run, outputs)
        self.dispatch_rows(tenant_id, rows)
        return self.detail(tenant_id, run_id)

    def retry(self, tenant_id: str, run_id: str, start_from: str = "failed") -> dict[str, Any]:
        """Run a finished run again: from its failed steps (succeeded steps and their
        outputs are kept) or from the start. Same run id, same version."""
        if start_from not in ("failed", "start"):
            raise RunStateConflict("retry from 'failed' or 'start'")
        outputs = self.outputs(tenant_id)
        with self.db(tenant_id).write() as conn:
            run = get_run(conn, run_id)
            if not run.final:
                raise RunStateConflict("the run has not finished; cancel it first")
            if start_from == "failed" and run.status == "succeeded":
                raise RunStateConflict("the run succeeded: nothing failed to retry")
            if start_from == "start":
                conn.execute("DELETE FROM run_steps WHERE run_id = ?", (run.id,))
            else:
                kept = [
                    r.step_id
                    for r in step_rows(conn, run.id)
                    if r.item < 0 and r.phase == "main" and r.status == "succeeded"
                ]
                marks = ",".join("?" for _ in kept) or "''"
                conn.execute(
                    f"DELETE FROM run_steps WHERE run_id = ? AND step_id NOT IN ({marks})",
                    (run.id, *kept),
                )
            update_run(
                conn,
                run.id,
                status="queued",
                failing=0,
                error_code=None,
                error_message=None,
                retries=run.retries + 1,
                started_at=None,
                finished_at=None,
                deadline_at=None,
            )
            rows = self.planner.admit(conn, run.workflow_id, outputs)
        self.dispatch_rows(tenant_id, rows)
        return self.detail(tenant_id, run_id)

    def detail(self, tenant_id: str, run_id: str) -> dict[str, Any]:
        """The run with every step: status, attempts, output, error, timings."""
        outputs = self.outputs(tenant_id)
        with self.db(tenant_id).read() as conn:
            run = get_run(conn, run_id)
            rows = step_rows(conn, run_id)
            name = conn.execute(
                "SELECT name FROM workflows WHERE id = ?", (run.workflow_id,)
            ).fetchone()
        body = run_public(run, name[0] if name else None)
        body["steps"] = [step_public(r, outputs.decode(r)) for r in rows]
        return body

    def run_status(self, tenant_id: str, run_id: str) -> str | None:
        with self.db(tenant_id).read() as conn:
            run = find_run(conn, run_id)
        return run.status if run else None
