"""Errors of the supervisor; each carries an HTTP status and a machine code."""

from typing import Any

from storage.errors import ApplianceError


class SupervisorError(ApplianceError):
    """Base of every supervisor failure."""

    status_code = 400
    code = "workflow_error"


class DefinitionError(SupervisorError):
    """A workflow definition is not valid; `problems` name the step, field and YAML line."""

    status_code = 422
    code = "invalid_workflow"

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__("; ".join(describe_problem(p) for p in problems[:10]))


def describe_problem(problem: dict[str, Any]) -> str:
    """One line: where (step, line) and what is wrong."""
    where = []
    if problem.get("step"):
        where.append(f"step {problem['step']!r}")
    if problem.get("line"):
        where.append(f"line {problem['line']}")
    prefix = f"{', '.join(where)}: " if where else ""
    return f"{prefix}{problem['message']}"


class InvalidInputs(SupervisorError):
    status_code = 422
    code = "invalid_inputs"


class WorkflowNotFound(SupervisorError):
    status_code = 404
    code = "not_found"


class RunNotFound(SupervisorError):
    status_code = 404
    code = "not_found"


class RunStateConflict(SupervisorError):
    """The run is not in a state that allows the operation (cancel a finished run, ...)."""

    status_code = 409
    code = "run_state_conflict"


class WorkflowNameTaken(SupervisorError):
    status_code = 409
    code = "workflow_exists"
