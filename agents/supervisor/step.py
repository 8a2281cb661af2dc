"""The contract every workflow step (agent) implements.

The engine imports no agent: the runtime builds each step object with the services it
needs and registers it in a `StepRegistry`. A step receives its rendered `with`
parameters and a `StepContext` of ids, and returns a `StepResult`.

Contract:
- `run` may be called more than once for the same (run, step, item): steps are
  at-least-once. A step with outside effects must not perform them in `run`; it returns
  `on_commit` callbacks that write outbox rows, and the engine calls them inside the
  write transaction that marks the step finished, so the effect exists if and only if
  the step finished. Its idempotency key is `ctx.idempotency_key`.
- The output is a JSON-serialisable dict; the engine stores it (size-limited).
- Failures raise `StepError` (or a subclass) with a machine `code`; `retryable=False`
  stops the step's retries at once.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from storage.errors import ApplianceError


@dataclass(frozen=True)
class StepContext:
    """Ids and values a step may read; never secrets."""

    tenant_id: str
    run_id: str
    step_id: str
    attempt: int = 1
    item_index: int | None = None  # the foreach item this call handles
    inputs: dict[str, Any] = field(default_factory=dict)
    trigger: dict[str, Any] = field(default_factory=dict)
    deadline: float | None = None  # time.monotonic() by which the step must finish

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and restarts: run id + step id (+ foreach item)."""
        base = f"{self.run_id}:{self.step_id}"
        return base if self.item_index is None else f"{base}:{self.item_index}"


@dataclass
class StepResult:
    """What a step produced.

    `on_commit` callbacks receive the tenant database's write connection inside the
    transaction that completes the step (outbox rows). `after_commit` run once it has
    committed (enqueue the dispatcher). `wait_until` (epoch seconds) parks the step in
    `waiting` without holding a worker; the engine calls `run` again after that time.
    """

    output: dict[str, Any] = field(default_factory=dict)
    on_commit: list[Callable[[Any], None]] = field(default_factory=list)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    wait_until: float | None = None


class StepError(ApplianceError):
    """A step failed; `code` is machine-readable, the message is shown to users."""

    status_code = 422
    code = "step_failed"
    retryable: bool = True

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(message, detail=detail)
        if code is not None:
            self.code = code
        if retryable is not None:
            self.retryable = retryable


class Step(ABC):
    """One agent usable as `agent: <name>` in a workflow."""

    agent: ClassVar[str]
    #: JSON Schema of the rendered `with` parameters (checked before `run`)
    params_schema: ClassVar[dict[str, Any]] = {"type": "object"}
    #: True when the step causes outside effects (it then uses `on_commit`)
    side_effects: ClassVar[bool] = False
    description: ClassVar[str] = ""

    @abstractmethod
    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        """Do the work for one (run, step, item)."""


class StepRegistry:
    """Agent name -> step object; filled by the runtime, read by the engine."""

    def __init__(self) -> None:
        self._steps: dict[str, Step] = {}

    def register(self, step: Step) -> None:
        if step.agent in self._steps:
            raise ValueError(f"step agent {step.agent!r} registered twice")
        self._steps[step.agent] = step

    def get(self, agent: str) -> Step | None:
        return self._steps.get(agent)

    def names(self) -> list[str]:
        return sorted(self._steps)
