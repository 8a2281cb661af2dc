"""Steps that shape the flow: set, route, wait, documents. None has outside effects."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from agents.documents.ledger import DocumentLedger
from agents.llm.service import LLMService
from agents.supervisor.definition import seconds
from agents.supervisor.step import Step, StepContext, StepError, StepResult


class SetStep(Step):
    """Its output is its (rendered) parameters: computed values for later steps."""

    agent = "set"
    description = "Compute values; the output is the rendered `with` mapping."

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        return StepResult(dict(params))


class RouteStep(Step):
    """The model picks one branch name (grammar-constrained); the workflow's steps for the
    other branches are skipped by their `if` on `steps.<id>.output.branch`."""

    agent = "route"
    description = "Let the model pick one of the named branches for an input."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["input", "branches"],
        "properties": {
            "input": {"type": "string", "maxLength": 200_000},
            "branches": {
                "oneOf": [
                    {
                        "type": "object",
                        "minProperties": 2,
                        "additionalProperties": {"type": "string"},
                    },
                    {"type": "array", "minItems": 2, "items": {"type": "string"}},
                ]
            },
        },
    }

    def __init__(self, llm: LLMService) -> None:
        self.llm = llm

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        branches = params["branches"]
        names = list(branches)
        guide = ""
        if isinstance(branches, dict):
            guide = "\n\nChoose one of:\n" + "\n".join(f"- {k}: {v}" for k, v in branches.items())
        choice = self.llm.classify(params["input"] + guide, names)
        return StepResult({"branch": choice, "skipped": [n for n in names if n != choice]})


def _epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise StepError(
            f"'until' is not an ISO 8601 time: {value!r}", code="invalid_params", retryable=False
        ) from exc
    if moment.tzinfo is None:
        raise StepError(
            "'until' needs a time zone (e.g. Z or +01:00)", code="invalid_params", retryable=False
        )
    return moment.timestamp()


class WaitStep(Step):
    """Parks the step in `waiting` (no worker held) until a time or for a duration,
    counted from the step's first start, so a restart does not make it wait again."""

    agent = "wait"
    description = "Wait until a time, or for a duration, without holding a worker."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "until": {"type": ["string", "number"]},
            "duration": {"type": ["string", "number"]},
        },
        "oneOf": [{"required": ["until"]}, {"required": ["duration"]}],
    }

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        if "until" in params:
            target = _epoch(params["until"])
        else:
            try:
                length = seconds(params["duration"]) or 0.0
            except ValueError as exc:
                raise StepError(str(exc), code="invalid_params", retryable=False) from exc
            target = (ctx.first_started_at or self.clock()) + length
        if self.clock() < target:
            return StepResult(wait_until=target)
        return StepResult({"waited_until": target})


class DocumentsStep(Step):
    """Documents of this tenant selected by filter, newest first (ids and metadata)."""

    agent = "documents"
    description = "Select documents by state, source, type, title or text."
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "state": {"type": "string"},
            "source": {"type": "string"},
            "type": {"type": "string"},
            "q": {"type": "string"},
            "text": {"type": "string"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 500},
        },
    }

    def __init__(self, ledger_of: Callable[[str], DocumentLedger]) -> None:
        self.ledger_of = ledger_of

    def run(self, ctx: StepContext, params: dict[str, Any]) -> StepResult:
        records, _ = self.ledger_of(ctx.tenant_id).list_documents(
            state=params.get("state", "indexed"),
            source=params.get("source"),
            fmt=params.get("type"),
            q=params.get("q"),
            text=params.get("text"),
            limit=params.get("limit", 50),
        )
        documents = [r.public() for r in records]
        return StepResult(
            {"documents": documents, "ids": [d["id"] for d in documents], "count": len(documents)}
        )
