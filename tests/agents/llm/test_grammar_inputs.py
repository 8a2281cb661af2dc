"""Labels and enum values reach a llama.cpp grammar only once they are checked (422)."""

from typing import Any

import pytest

from agents.llm import InvalidLabelsError, LLMService, Message, UnsupportedSchemaError
from agents.llm.literals import literal_problem

pytestmark = pytest.mark.slow  # the service's model process

TEXT = "Invoice 2291 from Kestrel Marine Ltd, 48,200 EUR, due in thirty days."


@pytest.mark.parametrize(
    ("labels", "problem"),
    [
        (["\u0014"], "control character U+0014"),
        (["invoice", "let\x00ter"], "label 1 contains the control character U+0000"),
        (["ok", "\x7f"], "U+007F"),
        (["ok", "\ud800"], "U+D800"),
        (["ok", "  "], "label 1 is empty"),
        (["ok", "x" * 201], "longer than 200 characters"),
        ([f"label {i}" for i in range(101)], "at most 100 labels"),
        ([], "non-empty list"),
        ("invoice", "non-empty list"),
        (["a", "a"], "unique"),
    ],
)
def test_unusable_labels_are_refused_with_422_before_the_model_sees_them(
    process_service: LLMService, labels: Any, problem: str
) -> None:
    # GIVEN labels a grammar must not be built from WHEN classifying
    with pytest.raises(InvalidLabelsError) as caught:
        process_service.classify(TEXT, labels)
    # THEN a 422 invalid_labels error names the problem
    assert caught.value.status_code == 422 and caught.value.code == "invalid_labels"
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        ({"enum": ["paid", "\u0014"]}, "enum"),
        ({"const": "a\x1bb"}, "const"),
        ({"enum": [{"nested": ["\x00"]}]}, "enum"),
        ({"enum": ["x" * 201]}, "enum"),
        ({"enum": list(range(101))}, "enum"),
        ({"type": "string", "pattern": "^a\x14$"}, "pattern"),
    ],
)
def test_unusable_enum_values_are_refused_with_422_before_the_model_sees_them(
    process_service: LLMService, schema: dict[str, Any], keyword: str
) -> None:
    # GIVEN an extraction schema whose literals a grammar must not be built from
    whole = {"type": "object", "properties": {"status": schema}, "required": ["status"]}
    messages: list[Message] = [{"role": "user", "content": TEXT}]
    # WHEN extracting THEN a 422 names the keyword and where it is
    with pytest.raises(UnsupportedSchemaError) as caught:
        process_service.generate_json(messages, whole)
    assert caught.value.status_code == 422 and caught.value.keyword == keyword
    assert caught.value.path == "/properties/status"


def test_a_property_name_with_a_control_character_is_refused(process_service: LLMService) -> None:
    # GIVEN a property name with an escape character WHEN extracting THEN 422
    schema = {"type": "object", "properties": {"na\x1bme": {"type": "string"}}}
    with pytest.raises(UnsupportedSchemaError) as caught:
        process_service.generate_json([{"role": "user", "content": TEXT}], schema)
    assert caught.value.keyword == "properties"


@pytest.mark.parametrize(
    "label", ["invoice", "Rechnung / Mahnung", "فاتورة", "👩\u200d💻 work", "a\u200fb"]
)
def test_ordinary_labels_in_any_script_are_accepted(label: str) -> None:
    # GIVEN labels with punctuation, other scripts, joiners and bidi marks
    # THEN none of them is refused
    assert literal_problem(label) is None
