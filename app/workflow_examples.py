"""The shipped example workflows (examples/workflows/), imported into the demo tenant by
`appliance init --demo` with their automatic triggers disabled."""

import logging
from pathlib import Path

from agents.supervisor.definition import load_definition
from agents.supervisor.errors import DefinitionError, WorkflowNotFound
from agents.supervisor.templates import Templates
from agents.supervisor.workflow_store import WorkflowStore
from storage.database import Database

log = logging.getLogger("appliance.workflows")

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples" / "workflows"


def example_files() -> list[Path]:
    return sorted(EXAMPLES_DIR.glob("*.yaml")) if EXAMPLES_DIR.is_dir() else []


def import_examples(db: Database, agents: list[str]) -> dict[str, str]:
    """Import each example (disabled) unless a workflow of its name exists.

    Returns file name -> "imported", "exists", or why it was skipped (an example naming
    an agent this appliance does not have, e.g. before the report agent is installed).
    """
    store = WorkflowStore(db)
    outcome = {}
    for path in example_files():
        source = path.read_text()
        try:
            definition = load_definition(source, agents, Templates())
        except DefinitionError as exc:
            outcome[path.name] = f"skipped: {exc.message}"
            continue
        try:
            store.get(definition.name)
            outcome[path.name] = "exists"
        except WorkflowNotFound:
            record = store.create(definition, source, "init")
            store.set_enabled(record.id, False)
            outcome[path.name] = "imported"
    return outcome
