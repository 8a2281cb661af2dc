"""A workflow definition: parsed, checked against the published schema and the graph.

`load_definition(text, agents, templates)` is what saving a workflow calls: it returns a
`WorkflowDefinition` or raises `DefinitionError` whose problems name the step and the
YAML line. `from_data` rebuilds a stored (already validated) definition.
"""

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from agents.supervisor.errors import DefinitionError, InvalidInputs
from agents.supervisor.graph import check_graph
from agents.supervisor.source import line_of, parse_source
from agents.supervisor.templates import Templates

SCHEMA_PATH = Path(__file__).with_name("workflow.schema.json")
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@cache
def workflow_schema() -> dict[str, Any]:
    """The published JSON Schema of a workflow definition."""
    return dict(json.loads(SCHEMA_PATH.read_text()))


def seconds(value: Any) -> float | None:
    """A duration (number of seconds or "30s", "5m", "2h", "1d") in seconds."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value).strip())
    if match is None:
        raise ValueError(f"not a duration: {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 1
    backoff_s: float = 1.0
    max_backoff_s: float = 300.0
    jitter: float = 0.2

    @classmethod
    def of(cls, value: Any) -> "RetryPolicy":
        if value is None:
            return cls()
        if isinstance(value, int):
            return cls(attempts=value)
        return cls(
            attempts=int(value.get("attempts", 3)),
            backoff_s=seconds(value.get("backoff", 1.0)) or 1.0,
            max_backoff_s=seconds(value.get("max_backoff", 300.0)) or 300.0,
            jitter=float(value.get("jitter", 0.2)),
        )

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds before attempt `attempt + 1`: exponential backoff, +-jitter."""
        base = min(self.max_backoff_s, self.backoff_s * 2 ** max(0, attempt - 1))
        return max(0.0, base * (1 + self.jitter * (2 * rand - 1)))


@dataclass(frozen=True)
class StepDef:
    id: str
    agent: str
    params: dict[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    condition: Any = None  # the `if`
    foreach: Any = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float | None = None
    on_error: str = "fail"
    name: str | None = None

    @classmethod
    def of(cls, raw: dict[str, Any]) -> "StepDef":
        needs = raw.get("needs") or []
        return cls(
            id=raw["id"],
            agent=raw["agent"],
            params=dict(raw.get("with") or {}),
            needs=tuple([needs] if isinstance(needs, str) else needs),
            condition=raw.get("if"),
            foreach=raw.get("foreach"),
            retry=RetryPolicy.of(raw.get("retry")),
            timeout_s=seconds(raw.get("timeout")),
            on_error=raw.get("on_error", "fail"),
            name=raw.get("name"),
        )


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    description: str
    triggers: tuple[dict[str, Any], ...]
    inputs: dict[str, dict[str, Any]]
    steps: tuple[StepDef, ...]
    on_failure: tuple[StepDef, ...]
    concurrency: int | None
    timeout_s: float | None
    data: dict[str, Any]  # the validated document, as stored

    def step(self, step_id: str) -> StepDef:
        for step in (*self.steps, *self.on_failure):
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def trigger_types(self) -> list[str]:
        return [t["type"] for t in self.triggers] or ["manual"]

    def resolve_inputs(self, given: dict[str, Any] | None) -> dict[str, Any]:
        """`given` with defaults filled in, checked against the declared inputs."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.inputs))
        if unknown:
            raise InvalidInputs(f"unknown input(s): {', '.join(unknown)}")
        resolved: dict[str, Any] = {}
        for name, spec in self.inputs.items():
            if name in given:
                resolved[name] = _coerce(name, given[name], spec)
            elif "default" in spec:
                resolved[name] = spec["default"]
            elif spec.get("required", False):
                raise InvalidInputs(f"input {name!r} is required")
            else:
                resolved[name] = None
        return resolved


def _coerce(name: str, value: Any, spec: dict[str, Any]) -> Any:
    kind = spec.get("type")
    if kind and isinstance(value, str) and kind != "string":
        # values typed on a command line or in a form arrive as text
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise InvalidInputs(f"input {name!r} must be of type {kind}") from exc
    if kind:
        valid = isinstance(value, _JSON_TYPES[kind]) and not (
            kind in ("number", "integer") and isinstance(value, bool)
        )
        if not valid:
            raise InvalidInputs(f"input {name!r} must be of type {kind}")
    if "enum" in spec and value not in spec["enum"]:
        raise InvalidInputs(f"input {name!r} must be one of {spec['enum']}")
    return value


def from_data(data: dict[str, Any]) -> WorkflowDefinition:
    """A definition from its stored (validated) data."""
    return WorkflowDefinition(
        name=data["name"],
        description=data.get("description", ""),
        triggers=tuple(data.get("triggers") or ()),
        inputs=dict(data.get("inputs") or {}),
        steps=tuple(StepDef.of(s) for s in data["steps"]),
        on_failure=tuple(StepDef.of(s) for s in data.get("on_failure") or ()),
        concurrency=data.get("concurrency"),
        timeout_s=seconds(data.get("timeout")),
        data=data,
    )


def load_definition(
    text: str, agents: set[str] | list[str], templates: Templates
) -> WorkflowDefinition:
    """Parse and validate `text`; raises DefinitionError listing every problem found."""
    data, lines = parse_source(text)
    return validate_data(data, lines, set(agents), templates)


def validate_data(
    data: Any, lines: dict[Any, int], agents: set[str], templates: Templates
) -> WorkflowDefinition:
    """Schema, then graph and template checks; every problem names its step and line."""
    if not isinstance(data, dict):
        raise DefinitionError([{"line": 1, "message": "a workflow must be a mapping"}])
    validator = jsonschema.Draft202012Validator(workflow_schema())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        path = tuple(error.absolute_path)
        problems.append(
            {
                "step": _step_at(data, path),
                "line": line_of(lines, path),
                "field": "/".join(map(str, path)),
                "message": _schema_message(error),
            }
        )
    if problems:
        raise DefinitionError(problems)
    problems = check_graph(data, lines, agents, templates)
    problems += _check_triggers(data, lines)
    if problems:
        raise DefinitionError(problems)
    return from_data(data)


def _check_triggers(data: dict[str, Any], lines: dict[Any, int]) -> list[dict[str, Any]]:
    from agents.supervisor.schedule import check_cron

    problems = []
    for index, trigger in enumerate(data.get("triggers") or []):
        if trigger["type"] == "schedule":
            message = check_cron(trigger["cron"], trigger.get("timezone", "UTC"))
            if message:
                path = ("triggers", index, "cron")
                problems.append(
                    {
                        "line": line_of(lines, path),
                        "field": "/".join(map(str, path)),
                        "message": message,
                    }
                )
    return problems


def _step_at(data: dict[str, Any], path: tuple[Any, ...]) -> str | None:
    if len(path) >= 2 and path[0] in ("steps", "on_failure") and isinstance(path[1], int):
        try:
            step = data[path[0]][path[1]]
        except (IndexError, KeyError, TypeError):
            return None
        if isinstance(step, dict) and isinstance(step.get("id"), str):
            return str(step["id"])
        return f"#{path[1] + 1}"
    return None


def _schema_message(error: jsonschema.ValidationError) -> str:
    where = "/".join(map(str, error.absolute_path)) or "the workflow"
    message = error.message
    if len(message) > 300:
        message = message[:300] + "..."
    return f"{where}: {message}"
