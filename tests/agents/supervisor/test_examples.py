"""The shipped example workflows validate once the report and action agents are registered."""

from pathlib import Path

import pytest

from agents.supervisor.definition import load_definition
from agents.supervisor.templates import Templates
from app.workflow_examples import example_files
from app.workflow_wiring import builtin_agent_names

OTHER_AGENTS = ["report", "email", "webhook", "http", "crm"]


@pytest.mark.parametrize("path", example_files(), ids=lambda p: p.name)
def test_an_example_validates_with_every_agent_registered(path: Path) -> None:
    definition = load_definition(
        path.read_text(), builtin_agent_names() + OTHER_AGENTS, Templates()
    )
    assert definition.triggers and definition.description


def test_the_three_examples_are_shipped() -> None:
    assert {p.stem for p in example_files()} == {
        "invoice-intake",
        "contract-review",
        "weekly-digest",
    }
