"""Schema-constrained JSON and classification with the real SmolLM2-135M model."""

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from agents.llm import (
    InvalidSchemaError,
    LlamaCppBackend,
    LLMConfig,
    LLMRequestError,
    LLMService,
    Message,
    SchemaUnsatisfiedError,
    UnsupportedSchemaError,
    load_prompt,
)
from agents.models import locate_llm_model

INVOICE = (
    "Invoice INV-2291 from Acme Tools GmbH, Berlin, dated 2024-03-14.\n"
    "Customer: Jane Doe, postcode 10115.\n"
    "Items: 3 hammers at 12 EUR each, 2 saws at 30 EUR each.\n"
    "Total due: 96 EUR within 30 days."
)
ASK: list[Message] = [
    {"role": "user", "content": f"Extract the data from this invoice:\n{INVOICE}"}
]

SCHEMAS: dict[str, dict[str, Any]] = {
    "strings": {
        "type": "object",
        "properties": {"vendor": {"type": "string"}, "invoice_number": {"type": "string"}},
        "required": ["vendor", "invoice_number"],
    },
    "integer_and_enum": {
        "type": "object",
        "properties": {
            "total": {"type": "integer"},
            "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]},
        },
        "required": ["total", "currency"],
        "additionalProperties": False,
    },
    "array_of_objects": {
        "type": "object",
        "properties": {
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "maxLength": 30},
                        "quantity": {"type": "integer"},
                    },
                    "required": ["name", "quantity"],
                },
            }
        },
        "required": ["items"],
    },
    "nested_with_formats": {
        "type": "object",
        "properties": {
            "customer": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 40},
                    "postcode": {"type": "string", "pattern": "^\\d{5}$"},
                },
                "required": ["name", "postcode"],
            },
            "date": {"type": "string", "format": "date"},
            "paid": {"type": "boolean"},
        },
        "required": ["customer", "date", "paid"],
    },
    "refs_and_optional": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {
            "money": {
                "type": "object",
                "properties": {"amount": {"type": "number"}},
                "required": ["amount"],
            }
        },
        "type": "object",
        "title": "Invoice totals",
        "properties": {
            "total": {"$ref": "#/$defs/money", "description": "amount due"},
            "note": {"type": ["string", "null"], "maxLength": 30},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 15}, "maxItems": 3},
        },
        "required": ["total", "tags"],
    },
}


@pytest.fixture(scope="module")
def service() -> Iterator[LLMService]:
    llm = LLMService(LlamaCppBackend(locate_llm_model(""), LLMConfig(n_ctx=1024, n_threads=2)))
    yield llm
    llm.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCHEMAS))
def test_generate_json_returns_an_object_valid_against_the_schema(
    service: LLMService, name: str
) -> None:
    # GIVEN an invoice and a schema the grammar can express
    schema = SCHEMAS[name]
    # WHEN the tiny model is asked to fill it
    value = service.generate_json(ASK, schema, max_tokens=120)
    # THEN the answer is a JSON object that validates against the schema
    assert isinstance(value, dict)
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.slow
def test_pattern_shorthands_constrain_the_output(service: LLMService) -> None:
    # GIVEN a pattern using \d, which the grammar converter cannot translate itself
    schema = {
        "type": "object",
        "properties": {"postcode": {"type": "string", "pattern": "^\\d{5}$"}},
        "required": ["postcode"],
    }
    # WHEN generated THEN the value matches the pattern
    value = service.generate_json(ASK, schema, max_tokens=20)
    assert re.fullmatch(r"\d{5}", value["postcode"])


@pytest.mark.parametrize(
    ("schema", "keyword"),
    [
        ({"type": "object", "patternProperties": {"^x": {"type": "string"}}}, "patternProperties"),
        ({"type": "object", "properties": {"a": {"not": {"type": "string"}}}}, "not"),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "string"}},
                "if": {"required": ["a"]},
                "then": {"required": ["a"]},
            },
            "if",
        ),
        ({"type": "object", "properties": {"e": {"type": "string", "format": "email"}}}, "format"),
        ({"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}}, "$ref"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]},
            "required",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string", "pattern": "[a-z]+"}}},
            "pattern",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string", "pattern": "^(?!x).*$"}}},
            "pattern",
        ),
        ({"type": "string"}, "type"),
    ],
)
def test_schema_the_grammar_cannot_express_gets_422_naming_the_keyword(
    service: LLMService, schema: dict[str, Any], keyword: str
) -> None:
    # GIVEN a valid schema using something the llama.cpp grammar cannot enforce
    # WHEN extraction is asked for THEN it is refused before generating, naming the keyword
    with pytest.raises(UnsupportedSchemaError) as caught:
        service.generate_json(ASK, schema)
    assert caught.value.status_code == 422 and caught.value.code == "unsupported_schema"
    assert caught.value.keyword == keyword
    assert f'"{keyword}"' in str(caught.value) or keyword == "type"


def test_a_document_that_is_no_json_schema_gets_invalid_schema(service: LLMService) -> None:
    # GIVEN a misspelt type WHEN used as a schema THEN a 422 invalid_schema names the place
    with pytest.raises(InvalidSchemaError) as caught:
        service.generate_json(ASK, {"type": "object", "properties": {"a": {"type": "strin"}}})
    assert caught.value.status_code == 422 and caught.value.code == "invalid_schema"
    assert "/properties/a/type" in str(caught.value)


@pytest.mark.slow
def test_output_failing_checked_after_keywords_is_retried_then_refused(
    service: LLMService,
) -> None:
    # GIVEN a numeric bound the grammar cannot enforce and the model will not guess
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 10**15, "multipleOf": 7919}},
        "required": ["n"],
    }
    # WHEN generated THEN every attempt fails validation and the error says why
    with pytest.raises(SchemaUnsatisfiedError) as caught:
        service.generate_json(ASK, schema, max_tokens=24)
    assert caught.value.status_code == 422 and caught.value.code == "schema_unsatisfied"
    assert "after 3 attempts" in str(caught.value) and "/n" in str(caught.value)


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        INVOICE,
        "Dear Anna, thank you for the lovely birthday present. See you at Easter. Love, Tom",
        "WIN A FREE PHONE!!! Click this link now to claim your prize before midnight!!!",
        "This agreement is made between Acme Ltd and Beta GmbH. Both parties agree to the "
        "terms below, which remain in force for two years. " * 30,
    ],
)
def test_classify_returns_exactly_one_of_the_labels(service: LLMService, text: str) -> None:
    # GIVEN labels that differ in length and wording, and a text (one longer than n_ctx)
    labels = ["invoice", "personal letter", "spam", "contract or agreement"]
    # WHEN classified THEN the answer is one of the labels, verbatim
    assert service.classify(text, labels) in labels


@pytest.mark.parametrize("labels", [[], ["a", "a"], ["ok", ""], "invoice"])
def test_classify_refuses_unusable_labels(service: LLMService, labels: Any) -> None:
    # GIVEN no labels, duplicates, an empty label or a bare string
    # WHEN classifying THEN a request error (422 invalid_labels) explains the problem
    with pytest.raises(LLMRequestError):
        service.classify("some text", labels)


def test_prompt_templates_ship_as_package_files() -> None:
    # GIVEN the installed package WHEN its templates are loaded THEN they have placeholders
    assert "$schema" in load_prompt("json_system").template
    assert "$labels" in load_prompt("classify_system").template
