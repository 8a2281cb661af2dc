"""Deciding what happens next in a run, inside the caller's write transaction.

`Planner.advance` looks at a run's step rows and its definition and: queues steps whose
`needs` are finished (evaluating `if` and expanding `foreach`), skips steps whose needs
were skipped, folds foreach items into their parent, turns a failed step (on_error: fail)
into a failing run (cancelling what is still active and starting `on_failure` steps),
finishes the run, and admits runs waiting for the workflow's concurrency limit.
It returns the step row ids to enqueue once the transaction has committed.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.supervisor.definition import StepDef, WorkflowDefinition
from agents.supervisor.outputs import Outputs, template_context
from agents.supervisor.run_store import (
    RunRow,
    StepRow,
    get_run,
    insert_step,
    step_rows,
    update_run,
    update_step,
)
from agents.supervisor.step import StepError
from agents.supervisor.templates import Templates

ACTIVE = ("queued", "running", "waiting")
DefinitionOf = Callable[[Any, str, int], WorkflowDefinition]


@dataclass(frozen=True)
class Limits:
    """Bounds the engine enforces (from `[workflows]` settings)."""

    max_foreach_items: int = 1000
    inline_output_bytes: int = 64 * 1024
    max_output_bytes: int = 8 * 1024 * 1024
    template_max_chars: int = 200_000
    default_lease_s: float = 3600.0


class Planner:
    def __init__(
        self,
        definition_of: DefinitionOf,
        templates: Templates,
        limits: Limits,
        clock: Callable[[], float],
    ) -> None:
        self.definition_of = definition_of
        self.templates = templates
        self.limits = limits
        self.clock = clock

    # -- runs ---------------------------------------------------------------------------

    def admit(self, conn: Any, workflow_id: str, outputs: Outputs) -> list[int]:
        """Start queued runs of the workflow, oldest first, while under its limit."""
        (running,) = conn.execute(
            "SELECT count(*) FROM runs WHERE workflow_id = ? AND status = 'running'",
            (workflow_id,),
        ).fetchone()
        queued = conn.execute(
            "SELECT id, version FROM runs WHERE workflow_id = ? AND status = 'queued' ORDER BY seq",
            (workflow_id,),
        ).fetchall()
        tasks: list[int] = []
        for run_id, version in queued:
            definition = self.definition_of(conn, workflow_id, version)
            if definition.concurrency is not None and running >= definition.concurrency:
                break  # excess runs wait, in order
            now = self.clock()
            deadline = now + definition.timeout_s if definition.timeout_s else None
            update_run(conn, run_id, status="running", started_at=now, deadline_at=deadline)
            running += 1
            tasks += self.advance(conn, run_id, outputs)
        return tasks

    def fail_run(
        self, conn: Any, run: RunRow, code: str, message: str, outputs: Outputs
    ) -> list[int]:
        """Mark the run failing: cancel what is active, then run the on_failure steps."""
        if run.final or run.failing:
            return []
        self._cancel_active(conn, run.id)
        update_run(conn, run.id, failing=1, error_code=code, error_message=message)
        return self.advance(conn, run.id, outputs)

    def cancel(self, conn: Any, run: RunRow, outputs: Outputs) -> list[int]:
        self._cancel_active(conn, run.id)
        update_run(conn, run.id, status="cancelled", finished_at=self.clock())
        return self.admit(conn, run.workflow_id, outputs)

    def _cancel_active(self, conn: Any, run_id: str) -> None:
        conn.execute(
            "UPDATE run_steps SET status = 'cancelled', finished_at = ?, claimed_by = NULL "
            "WHERE run_id = ? AND status IN ('queued', 'running', 'waiting')",
            (self.clock(), run_id),
        )

    # -- steps --------------------------------------------------------------------------

    def advance(self, conn: Any, run_id: str, outputs: Outputs) -> list[int]:
        """Everything that can happen now; returns step row ids to enqueue."""
        tasks: list[int] = []
        for _ in range(1000):  # each round changes something, or stops
            run = get_run(conn, run_id)
            if run.status != "running":
                return tasks
            definition = self.definition_of(conn, run.workflow_id, run.version)
            if run.deadline_at is not None and self.clock() > run.deadline_at and not run.failing:
                tasks += self.fail_run(
                    conn, run, "run_timeout", "the run took longer than its timeout", outputs
                )
                continue
            rows = step_rows(conn, run.id)
            if self._fold_foreach(conn, definition, rows, outputs):
                continue
            failed = self._failed_step(definition, rows) if not run.failing else None
            if failed is not None:
                message = (
                    f"step {failed.step_id!r} failed: {failed.error_message or failed.error_code}"
                )
                tasks += self.fail_run(
                    conn, run, failed.error_code or "step_failed", message, outputs
                )
                continue
            changed, new = self._schedule(conn, run, definition, rows, outputs)
            tasks += new
            if changed:
                continue
            self._maybe_finish(conn, run, definition, rows)
            if get_run(conn, run.id).final:
                tasks += self.admit(conn, run.workflow_id, outputs)
            return tasks
        raise RuntimeError("the planner did not settle")  # pragma: no cover - a bug guard

    @staticmethod
    def _failed_step(definition: WorkflowDefinition, rows: list[StepRow]) -> StepRow | None:
        for row in rows:
            if row.item < 0 and row.phase == "main" and row.status == "failed":
                if definition.step(row.step_id).on_error == "fail":
                    return row
        return None

    def _fold_foreach(
        self, conn: Any, definition: WorkflowDefinition, rows: list[StepRow], outputs: Outputs
    ) -> bool:
        """A foreach parent whose items are all final gets its output (or error)."""
        changed = False
        fanned_out = {r.step_id for r in rows if r.item >= 0}
        parents = [
            r for r in rows if r.item < 0 and r.status == "running" and r.step_id in fanned_out
        ]
        for parent in parents:
            items = sorted(
                (r for r in rows if r.step_id == parent.step_id and r.item >= 0),
                key=lambda r: r.item,
            )
            if not items or not all(r.final for r in items):
                continue
            step = definition.step(parent.step_id)
            failed = [r for r in items if r.status == "failed"]
            now = self.clock()
            if failed and step.on_error == "fail":
                first = failed[0]
                update_step(
                    conn,
                    parent.id,
                    status="failed",
                    finished_at=now,
                    error_code=first.error_code,
                    error_message=f"item {first.item}: {first.error_message}",
                )
            else:
                results = [outputs.decode(r) if r.status == "succeeded" else None for r in items]
                inline, blob = outputs.encode({"items": results, "failed": len(failed)})
                update_step(
                    conn,
                    parent.id,
                    status="succeeded",
                    finished_at=now,
                    output=inline,
                    output_blob=blob,
                )
            changed = True
        return changed

    def _schedule(
        self,
        conn: Any,
        run: RunRow,
        definition: WorkflowDefinition,
        rows: list[StepRow],
        outputs: Outputs,
    ) -> tuple[bool, list[int]]:
        phase = "on_failure" if run.failing else "main"
        steps = definition.on_failure if run.failing else definition.steps
        plain = {r.step_id: r for r in rows if r.item < 0}
        context: dict[str, Any] | None = None
        for step in steps:
            if step.id in plain:
                continue
            needed = [plain.get(n) for n in step.needs]
            if any(r is None or not r.final for r in needed):
                continue
            now = self.clock()
            base = {
                "run_id": run.id,
                "step_id": step.id,
                "phase": phase,
                "agent": step.agent,
                "max_attempts": step.retry.attempts,
                "queued_at": now,
            }
            if any(r is not None and r.status in ("skipped", "cancelled") for r in needed):
                insert_step(
                    conn,
                    **base,
                    status="skipped",
                    finished_at=now,
                    error_message="a step it needs was skipped",
                )
                return True, []
            if context is None:
                context = template_context(run, rows, outputs)
            try:
                if step.condition is not None and not self.templates.truthy(
                    step.condition, context
                ):
                    insert_step(conn, **base, status="skipped", finished_at=now)
                    return True, []
                if step.foreach is not None:
                    return True, self._expand(conn, step, base, context)
            except StepError as exc:
                insert_step(
                    conn,
                    **base,
                    status="failed",
                    finished_at=now,
                    error_code=exc.code,
                    error_message=exc.message,
                )
                return True, []
            return True, [insert_step(conn, **base, status="queued")]
        return False, []

    def _expand(
        self, conn: Any, step: StepDef, base: dict[str, Any], context: dict[str, Any]
    ) -> list[int]:
        items = self.templates.evaluate(step.foreach, context, bounded=False)
        if isinstance(items, dict):
            items = [{"key": k, "value": v} for k, v in items.items()]
        if not isinstance(items, list | tuple):
            raise StepError("foreach must give a list", code="template_error", retryable=False)
        limit = self.limits.max_foreach_items
        if len(items) > limit:
            raise StepError(
                f"foreach gave {len(items)} items, over the limit of {limit}",
                code="too_many_items",
                retryable=False,
            )
        self.templates.check_size(items)
        now = base["queued_at"]
        if not items:
            insert_step(
                conn,
                **base,
                status="succeeded",
                finished_at=now,
                output=json.dumps({"items": [], "failed": 0}),
            )
            return []
        insert_step(conn, **base, status="running", started_at=now, first_started_at=now)
        return [
            insert_step(
                conn, **base, item=index, status="queued", item_value=json.dumps(item, default=str)
            )
            for index, item in enumerate(items)
        ]

    def _maybe_finish(
        self, conn: Any, run: RunRow, definition: WorkflowDefinition, rows: list[StepRow]
    ) -> None:
        steps = definition.on_failure if run.failing else definition.steps
        plain = {r.step_id: r for r in rows if r.item < 0}
        if any(s.id not in plain or not plain[s.id].final for s in steps):
            return
        if any(r.status in ACTIVE for r in rows):
            return
        status = "failed" if run.failing else "succeeded"
        update_run(conn, run.id, status=status, finished_at=self.clock())
