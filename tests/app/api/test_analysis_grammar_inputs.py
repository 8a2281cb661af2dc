"""Issue 21: classify/extract inputs that made llama.cpp abort the server answer 422."""

from typing import Any

import pytest

from tests.app.conftest import ApiWorld

pytestmark = pytest.mark.slow


@pytest.fixture
def viewer(world: ApiWorld) -> dict[str, str]:
    world.user("vic")
    world.tenant("alpha", vic="viewer")
    return world.bearer("vic")


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        (["\u0014"], "U+0014"),
        (["spam", "\x00"], "U+0000"),
        (["spam", ""], "empty"),
        (["x" * 201], "longer than 200"),
        ([f"l{i}" for i in range(101)], "at most 100"),
    ],
)
def test_classify_with_labels_a_grammar_cannot_take_answers_422(
    world: ApiWorld, viewer: dict[str, str], labels: list[str], problem: str
) -> None:
    # GIVEN a viewer of alpha WHEN classifying with a hostile label list
    response = world.client.post(
        "/api/v1/tenants/alpha/classify", json={"text": "hello", "labels": labels}, headers=viewer
    )
    # THEN 422 names the problem (the API's text rule or the LLM service's label check,
    # whichever sees it first), the model was never started, and the server still answers
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] in ("invalid_labels", "invalid_text"), body
    assert body["code"] == "invalid_text" or problem in body["detail"]
    assert not world.runtime.llm.status().loaded
    assert world.client.get("/api/v1/health/live").status_code == 200


@pytest.mark.parametrize(
    "status",
    [
        {"type": "string", "enum": ["paid", "\u0014"]},
        {"const": "\x1b[31m"},
        {"type": "string", "enum": [f"v{i}" for i in range(101)]},
    ],
)
def test_extract_with_enum_values_a_grammar_cannot_take_answers_422(
    world: ApiWorld, viewer: dict[str, str], status: dict[str, Any]
) -> None:
    # GIVEN an extraction schema with a hostile enum or const
    schema = {"type": "object", "properties": {"status": status}, "required": ["status"]}
    # WHEN extracting
    response = world.client.post(
        "/api/v1/tenants/alpha/extract", json={"text": "paid", "schema": schema}, headers=viewer
    )
    # THEN 422 names the keyword and its place, and the model was never started
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] in ("unsupported_schema", "invalid_text"), body
    assert "properties" in body["detail"]
    assert not world.runtime.llm.status().loaded
