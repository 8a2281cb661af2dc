"""Saving a workflow checks it: schema, graph, templates; errors name the step and line."""

import pytest

from agents.supervisor.definition import load_definition, workflow_schema
from agents.supervisor.errors import DefinitionError
from agents.supervisor.templates import Templates

AGENTS = {"set", "echo", "classify", "report", "email"}


def problems_of(text: str) -> list[dict]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(text, AGENTS, Templates())
    assert caught.value.status_code == 422
    return caught.value.problems


def test_a_valid_definition_loads_with_defaults() -> None:
    # GIVEN a small two-step workflow
    text = """
name: intake
inputs:
  who: {type: string, default: world}
steps:
  - id: greet
    agent: set
    with: {text: "hello {{ inputs.who }}"}
  - id: show
    agent: echo
    needs: greet
    retry: {attempts: 3, backoff: 2s}
    timeout: 1m
"""
    # WHEN it is loaded
    definition = load_definition(text, AGENTS, Templates())
    # THEN its parts are typed
    show = definition.step("show")
    assert show.needs == ("greet",)
    assert show.retry.attempts == 3 and show.retry.backoff_s == 2.0
    assert show.timeout_s == 60.0
    assert definition.resolve_inputs({}) == {"who": "world"}


def test_invalid_yaml_names_the_line() -> None:
    # GIVEN YAML with an unclosed bracket on line 4
    text = "name: x\nsteps:\n  - id: a\n    agent: [set\n"
    # WHEN / THEN the error has the line
    (problem,) = problems_of(text)
    assert problem["line"] in (4, 5)
    assert "invalid YAML" in problem["message"]


def test_a_cycle_is_refused_naming_a_step_and_line() -> None:
    text = """name: loop
steps:
  - id: a
    agent: set
    needs: [b]
  - id: b
    agent: set
    needs: [a]
"""
    (problem,) = problems_of(text)
    assert problem["step"] in ("a", "b")
    assert "cycle" in problem["message"]
    assert problem["line"] in (5, 8)


def test_an_unknown_agent_is_refused_with_its_step_and_line() -> None:
    text = "name: x\nsteps:\n  - id: first\n    agent: set\n  - id: second\n    agent: teleport\n"
    (problem,) = problems_of(text)
    assert problem["step"] == "second"
    assert problem["line"] == 6
    assert "unknown agent 'teleport'" in problem["message"]


def test_a_template_syntax_error_is_refused() -> None:
    text = 'name: x\nsteps:\n  - id: a\n    agent: set\n    with:\n      v: "{{ inputs.x | }}"\n'
    (problem,) = problems_of(text)
    assert problem["step"] == "a" and problem["line"] == 6
    assert "template error" in problem["message"]


def test_a_reference_to_a_step_not_needed_is_refused() -> None:
    text = """name: x
steps:
  - id: a
    agent: set
  - id: b
    agent: echo
    with: {v: "{{ steps.a.output.v }}"}
  - id: c
    agent: echo
    with: {v: "{{ steps.ghost.output }}"}
    needs: [a]
"""
    problems = problems_of(text)
    assert {p["step"] for p in problems} == {"b", "c"}
    assert any("'ghost'" in p["message"] for p in problems)


def test_an_unknown_need_and_schema_errors_name_the_step() -> None:
    problems = problems_of("name: x\nsteps:\n  - id: a\n    agent: set\n    needs: [nope]\n")
    assert problems[0]["step"] == "a" and "nope" in problems[0]["message"]
    problems = problems_of("name: x\nsteps:\n  - id: a\n    agent: set\n    on_error: explode\n")
    assert problems[0]["step"] == "a" and problems[0]["line"] == 5


def test_a_bad_cron_or_time_zone_is_refused() -> None:
    text = (
        "name: x\ntriggers:\n  - {type: schedule, cron: '61 * * * *'}\n"
        "steps:\n  - {id: a, agent: set}\n"
    )
    (problem,) = problems_of(text)
    assert "cron" in problem["message"] and problem["line"] == 3


def test_json_definitions_load_too() -> None:
    text = '{"name": "j", "steps": [{"id": "a", "agent": "set", "with": {"x": 1}}]}'
    assert load_definition(text, AGENTS, Templates()).steps[0].params == {"x": 1}


def test_the_published_schema_is_a_json_schema() -> None:
    schema = workflow_schema()
    assert schema["title"] and "steps" in schema["required"]
