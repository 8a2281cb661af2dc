"""The action steps' parameter schemas accept what the steps take and refuse the rest."""

import jsonschema
import pytest

from tests.agents.act.conftest import Actions


@pytest.mark.parametrize(
    ("agent", "params", "valid"),
    [
        ("webhook", {"url": "https://example.org/h", "json": {"a": 1}}, True),
        ("webhook", {"json": {"a": 1}}, False),
        ("http", {"connector": "api", "path": "/x", "method": "POST"}, True),
        ("crm", {"connector": "crm", "operation": "create_contact", "fields": {}}, True),
        ("crm", {"connector": "crm", "operation": "drop_database"}, False),
        ("email", {"connector": "mailer", "to": ["a@b.example"]}, True),
        ("email", {"to": "a@b.example"}, False),
    ],
)
def test_parameter_schemas(actions: Actions, agent: str, params: dict, valid: bool) -> None:
    # GIVEN a step's schema WHEN params are checked THEN only valid ones pass
    schema = actions.step(agent).params_schema
    jsonschema.Draft202012Validator.check_schema(schema)
    assert jsonschema.Draft202012Validator(schema).is_valid(params) is valid
