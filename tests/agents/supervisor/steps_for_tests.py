"""Small real steps for the engine tests: they record what happened to them."""

import threading
import time
from collections import Counter
from typing import Any, ClassVar

from agents.supervisor.step import Step, StepContext, StepError, StepResult
from storage.errors import InsufficientStorageError


class Journal:
    """Calls per (run, step, item), and start/end times, shared by the test steps."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[tuple[str, str, int | None]] = Counter()
        self.spans: dict[str, list[tuple[float, float]]] = {}

    def record(self, ctx: StepContext) -> None:
        with self.lock:
            self.calls[(ctx.run_id, ctx.step_id, ctx.item_index)] += 1

    def span(self, step_id: str, start: float, end: float) -> None:
        with self.lock:
            self.spans.setdefault(step_id, []).append((start, end))


class EchoStep(Step):
    agent = "echo"

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        self.journal.record(ctx)
        return StepResult(dict(params))


class SleepStep(Step):
    agent = "sleep"
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"seconds": {"type": "number"}},
    }

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        self.journal.record(ctx)
        start = time.monotonic()
        time.sleep(float(params.get("seconds", 0.3)))
        self.journal.span(ctx.step_id, start, time.monotonic())
        return StepResult({"slept": params.get("seconds", 0.3)})


class FlakyStep(Step):
    """Fails its first `fail_times` calls for a (run, step) (retryable unless `fatal`)."""

    agent = "flaky"

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        self.journal.record(ctx)
        if self.journal.calls[(ctx.run_id, ctx.step_id, ctx.item_index)] <= int(
            params.get("fail_times", 1)
        ):
            raise StepError(
                f"attempt {ctx.attempt} failed",
                code="flaky",
                retryable=not params.get("fatal", False),
            )
        return StepResult({"attempt": ctx.attempt})


class DiskFullStep(Step):
    """Meets a full disk on its first `fail_times` calls for a (run, step)."""

    agent = "disk_full"

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        self.journal.record(ctx)
        if self.journal.calls[(ctx.run_id, ctx.step_id, ctx.item_index)] <= int(
            params.get("fail_times", 1)
        ):
            raise InsufficientStorageError(detail="blob write: [Errno 28] No space left")
        return StepResult({"attempt": ctx.attempt})


class BoomStep(Step):
    agent = "boom"

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        self.journal.record(ctx)
        raise RuntimeError("the step broke")


class NamedStep(Step):
    """Stands in for a step another agent provides (report, email, webhook, ...)."""

    def __init__(self, agent: str, journal: Journal) -> None:
        self.agent = agent  # type: ignore[misc]
        self.journal = journal

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        self.journal.record(ctx)
        return StepResult({"agent": self.agent, "idempotency_key": ctx.idempotency_key})


def steps_for(journal: Journal) -> list[Step]:
    return [
        EchoStep(journal),
        SleepStep(journal),
        FlakyStep(journal),
        DiskFullStep(journal),
        BoomStep(journal),
        *(NamedStep(name, journal) for name in ("report", "email", "webhook", "http", "crm")),
    ]
