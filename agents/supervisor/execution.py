"""Executing one queued step row: claim, render, run (with its timeout), record."""

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jsonschema

from agents.supervisor.definition import RetryPolicy
from agents.supervisor.outputs import Outputs, template_context
from agents.supervisor.run_store import StepRow, find_run, get_step, step_rows, update_step
from agents.supervisor.step import Step, StepContext, StepError, StepResult
from storage.errors import TRANSIENT_CODES, describe, transient_fault

if TYPE_CHECKING:
    from agents.supervisor.engine import Engine, StepTask

log = logging.getLogger("appliance.supervisor")


@dataclass
class _Claim:
    row: StepRow
    agent: str
    params_source: Any
    timeout_s: float | None
    retry_delay: Callable[[int], float]
    context: dict[str, Any]
    ctx: StepContext


_VALIDATORS: dict[int, Any] = {}


def _retry_delay(policy: RetryPolicy, rand: Callable[[], float], attempt: int) -> float:
    return policy.delay(attempt, rand())


def _validator(step: Step) -> Any:
    """The step's params validator, built once (checking a schema costs a millisecond)."""
    found = _VALIDATORS.get(id(step))
    if found is None or found[0] is not step:
        schema = step.params_schema
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        found = (step, cls(schema))
        _VALIDATORS[id(step)] = found
    return found[1]


class StepTimeout(StepError):
    code = "timeout"


def _call_with_timeout(
    step: Step, ctx: StepContext, params: dict[str, Any], timeout_s: float | None
) -> StepResult:
    if timeout_s is None:
        return step.run(ctx, params)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = step.run(ctx, params)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc

    # the step runs in its own thread so the worker can give up on it; a step that
    # overruns keeps its thread until it returns, and its result is discarded
    thread = threading.Thread(target=target, name=f"step-{ctx.step_id}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise StepTimeout(f"the step took longer than its timeout of {timeout_s:g}s")
    if "error" in box:
        raise box["error"]
    result: StepResult = box["result"]
    return result


_TRANSIENT_MAX_WAIT_S = 600.0


def transient_step_error(exc: BaseException) -> StepError | None:
    """A full disk, an I/O error or a busy database as a step error that the engine
    retries without counting it against the step's attempts (None for other errors)."""
    if not transient_fault(exc):
        return None
    described = describe(exc)
    return StepError(described.message, code=described.code, retryable=True)


class StepExecutor:
    def __init__(self, engine: "Engine", rand: Callable[[], float]) -> None:
        self.engine = engine
        self.rand = rand

    def execute(self, task: "StepTask") -> None:
        engine = self.engine
        outputs = engine.outputs(task.tenant_id)
        claim = self._claim(task, outputs)
        if claim is None:
            return
        result: StepResult | None = None
        error: StepError | None = None
        try:
            result = self._run(claim)
        except StepError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - a broken step must not stop the worker
            log.warning("step %s raised %s", claim.row.step_id, type(exc).__name__)
            error = transient_step_error(exc) or StepError(
                f"the step raised {type(exc).__name__}: {str(exc)[:300]}", code="step_exception"
            )
        try:
            self._record(task, claim, result, error, outputs)
        except Exception as exc:  # noqa: BLE001 - e.g. an on_commit callback failed
            log.warning("step %s could not be recorded: %s", claim.row.step_id, type(exc).__name__)
            failure = transient_step_error(exc) or StepError(
                f"recording the result failed: {type(exc).__name__}", code="commit_failed"
            )
            # on a disk still full this fails too: the claim's lease runs out and the
            # reconciler queues the step again
            self._record(task, claim, None, failure, outputs)

    def _claim(self, task: "StepTask", outputs: Outputs) -> _Claim | None:
        # not durable: a claim lost to a power cut only means the step runs again, which
        # at-least-once allows (a process crash loses nothing either way); workers
        # claiming at the same time share one commit
        claim, rows = self.engine.db(task.tenant_id).write_together(
            lambda conn: self._claim_in(conn, task, outputs), durable=False
        )
        self.engine.dispatch_rows(task.tenant_id, rows)
        return claim

    def _claim_in(
        self, conn: Any, task: "StepTask", outputs: Outputs
    ) -> tuple[_Claim | None, list[int]]:
        engine = self.engine
        planner = engine.planner
        rows: list[int] = []
        claim = None
        row = get_step(conn, task.row_id)
        run = find_run(conn, task.run_id)
        if row is None or run is None or run.status != "running":
            return None, []
        if row.status not in ("queued", "waiting"):
            return None, []  # finished, cancelled, or claimed by a duplicate delivery
        now = engine.clock()
        if row.not_before is not None and now < row.not_before - 0.05:
            return None, []  # an early duplicate: the delayed task comes at its time
        if run.deadline_at is not None and now > run.deadline_at:
            rows = planner.advance(conn, run.id, outputs)
        elif row.status == "queued" and row.attempts >= row.max_attempts:
            # its worker died during the last attempt it had
            update_step(
                conn,
                row.id,
                status="failed",
                finished_at=now,
                error_code="worker_lost",
                claimed_by=None,
                error_message="the worker running the step stopped "
                f"(attempt {row.attempts} of {row.max_attempts})",
            )
            rows = planner.advance(conn, run.id, outputs)
        else:
            definition = engine._definition_of(conn, run.workflow_id, run.version)
            step = definition.step(row.step_id)
            timeout_s = step.timeout_s
            waking = row.status == "waiting"
            attempts = row.attempts if waking else row.attempts + 1
            lease = timeout_s or engine.limits.default_lease_s
            update_step(
                conn,
                row.id,
                status="running",
                attempts=attempts,
                started_at=now,
                first_started_at=row.first_started_at or now,
                not_before=None,
                claimed_by=engine.worker_token,
                lease_until=now + lease + 60,
            )
            context = template_context(run, step_rows(conn, run.id), outputs)
            if row.item >= 0:
                context["item"] = json.loads(row.item_value or "null")
                context["item_index"] = row.item
            deadline = time.monotonic() + timeout_s if timeout_s else None
            ctx = StepContext(
                tenant_id=task.tenant_id,
                run_id=run.id,
                step_id=row.step_id,
                attempt=attempts,
                item_index=row.item if row.item >= 0 else None,
                inputs=context["inputs"],
                trigger=context["trigger"],
                deadline=deadline,
                first_started_at=row.first_started_at or now,
            )
            row.attempts = attempts
            claim = _Claim(
                row,
                row.agent,
                step.params,
                timeout_s,
                functools.partial(_retry_delay, step.retry, self.rand),
                context,
                ctx,
            )
        return claim, rows

    def _run(self, claim: _Claim) -> StepResult:
        step = self.engine.registry.get(claim.agent)
        if step is None:
            raise StepError(
                f"no agent {claim.agent!r} is registered", code="unknown_agent", retryable=False
            )
        params = self.engine.templates.render(claim.params_source, claim.context)
        try:
            _validator(step).validate(params)
        except jsonschema.ValidationError as exc:
            where = "/".join(map(str, exc.absolute_path)) or "with"
            raise StepError(
                f"invalid parameters at {where}: {exc.message[:300]}",
                code="invalid_params",
                retryable=False,
            ) from exc
        result = _call_with_timeout(step, claim.ctx, params, claim.timeout_s)
        if not isinstance(result, StepResult):
            raise StepError(
                "the step returned no StepResult", code="invalid_output", retryable=False
            )
        return result

    def _record(
        self,
        task: "StepTask",
        claim: _Claim,
        result: StepResult | None,
        error: StepError | None,
        outputs: Outputs,
    ) -> None:
        engine = self.engine
        # Durable when the step leaves an effect behind (outbox rows); otherwise a result
        # lost to a power cut (never to a process crash) only means the step runs again.
        durable = (
            error is None and result is not None and bool(result.on_commit or result.after_commit)
        )
        rows, after = self.engine.db(task.tenant_id).write_together(
            lambda conn: self._record_in(conn, claim, result, error, outputs), durable=durable
        )
        for callback in after:
            try:
                callback()
            except Exception:
                log.exception("an after-commit callback of step %s failed", claim.row.step_id)
        engine.dispatch_rows(task.tenant_id, rows)

    def _record_in(
        self,
        conn: Any,
        claim: _Claim,
        result: StepResult | None,
        error: StepError | None,
        outputs: Outputs,
    ) -> tuple[list[int], list[Callable[[], None]]]:
        engine = self.engine
        rows: list[int] = []
        after: list[Callable[[], None]] = []
        row = get_step(conn, claim.row.id)
        if (
            row is None
            or row.status != "running"
            or row.attempts != claim.row.attempts
            or row.claimed_by != engine.worker_token
        ):
            return [], []  # cancelled, timed out, or taken over meanwhile: the result is void
        now = engine.clock()
        if (
            error is None
            and result is not None
            and result.wait_until is not None
            and result.wait_until > now
        ):
            update_step(
                conn,
                row.id,
                status="waiting",
                not_before=result.wait_until,
                claimed_by=None,
                lease_until=None,
            )
            rows = [row.id]
        elif error is None and result is not None:
            inline, blob = outputs.encode(result.output)
            for callback in result.on_commit:
                callback(conn)
            update_step(
                conn,
                row.id,
                status="succeeded",
                finished_at=now,
                output=inline,
                output_blob=blob,
                error_code=None,
                error_message=None,
                claimed_by=None,
                lease_until=None,
            )
            after = list(result.after_commit)
            rows = engine.planner.advance(conn, row.run_id, outputs)
        elif error is not None and error.code in TRANSIENT_CODES:
            # the machine was at fault, not the step: try again later without using up
            # one of its attempts, never fail the run for it
            update_step(
                conn,
                row.id,
                status="queued",
                attempts=max(0, row.attempts - 1),
                not_before=now + min(_TRANSIENT_MAX_WAIT_S, 2.0 * 2 ** min(row.attempts, 10)),
                claimed_by=None,
                lease_until=None,
                error_code=error.code,
                error_message=error.message[:2000],
            )
            rows = [row.id]
        elif error is not None and error.retryable and row.attempts < row.max_attempts:
            wake = now + claim.retry_delay(row.attempts)
            update_step(
                conn,
                row.id,
                status="queued",
                not_before=wake,
                claimed_by=None,
                lease_until=None,
                error_code=error.code,
                error_message=error.message[:2000],
            )
            rows = [row.id]
        else:
            assert error is not None
            update_step(
                conn,
                row.id,
                status="failed",
                finished_at=now,
                claimed_by=None,
                lease_until=None,
                error_code=error.code,
                error_message=error.message[:2000],
            )
            rows = engine.planner.advance(conn, row.run_id, outputs)
        return rows, after
