"""Which JSON Schemas the llama.cpp grammar can express, and the copy it is built from.

llama.cpp's converter (`json_schema_to_gbnf`) silently ignores keywords it does not
know, so output could drift from the schema without anyone noticing. Every keyword is
therefore sorted here into one of four groups:

* enforced by the grammar (types, properties, required, enum, const, items, lengths...);
* checked after generation by `jsonschema` and retried (numeric bounds, uniqueItems...);
* annotations that change nothing (title, description, examples...);
* everything else is refused up front with `UnsupportedSchemaError` naming the keyword.
"""

import json
import re
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.protocols import Validator

from agents.llm.errors import InvalidSchemaError, UnsupportedSchemaError
from agents.llm.literals import MAX_LITERAL_CHARS, value_problem

GRAMMAR_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "enum",
        "const",
        "anyOf",
        "oneOf",
        "allOf",
        "$ref",
        "$defs",
        "definitions",
        "pattern",
        "format",
        "minLength",
        "maxLength",
    }
)
CHECKED_AFTER_KEYWORDS = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    }
)
ANNOTATION_KEYWORDS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentEncoding",
        "contentMediaType",
    }
)
GRAMMAR_FORMATS = frozenset({"date", "time", "date-time", "uuid"})
MAX_SCHEMA_CHARS = 100_000
MAX_DEPTH = 32
MAX_ENUM_VALUES = 100
MAX_PATTERN_CHARS = 1000

# Regex shorthands the grammar converter does not translate (it would emit an invalid
# escape); rewritten to plain character classes in the grammar copy only. \s becomes a
# plain space because tabs and newlines may not appear unescaped inside a JSON string.
_CLASS_SHORTHANDS = {"d": "0-9", "w": "a-zA-Z0-9_", "s": " "}


def prepare_schema(schema: Any) -> dict[str, Any]:
    """Check `schema` and return the copy the grammar is built from.

    Raises InvalidSchemaError when it is not a JSON Schema, UnsupportedSchemaError when
    the grammar cannot express it (the message names the keyword and where it is).
    """
    if not isinstance(schema, dict):
        raise InvalidSchemaError("the schema must be a JSON object")
    if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
        raise UnsupportedSchemaError(
            f"the schema is larger than {MAX_SCHEMA_CHARS} characters", keyword="", path=""
        )
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except SchemaError as error:
        where = "/" + "/".join(str(p) for p in error.path)
        raise InvalidSchemaError(f"not a valid JSON Schema at {where}: {error.message}") from None
    if not _describes_object(schema):
        raise UnsupportedSchemaError(
            "the top-level schema must describe a JSON object "
            '({"type": "object", "properties": {...}})',
            keyword="type",
            path="/",
        )
    return _prepare(schema, "", 0)


def make_validator(schema: dict[str, Any]) -> Validator:
    """A validator for the schema's own draft that also checks the grammar's formats."""
    cls = jsonschema.validators.validator_for(schema)
    validator: Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def first_error(validator: Validator, instance: Any) -> str | None:
    """The most relevant validation error as "at /path: message", or None when valid."""
    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    where = "/" + "/".join(str(p) for p in error.absolute_path)
    return f"at {where}: {error.message}"


def _describes_object(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "object" or (kind is None and "properties" in schema)


def _unsupported(keyword: str, path: str, why: str) -> UnsupportedSchemaError:
    where = path or "/"
    return UnsupportedSchemaError(
        f'schema keyword "{keyword}" at {where} is not supported: {why}',
        keyword=keyword,
        path=where,
    )


def _prepare(node: Any, path: str, depth: int) -> Any:
    """Check one (sub)schema and return its grammar copy; recursion follows sub-schemas."""
    if isinstance(node, bool):
        if node is False:
            raise _unsupported("false", path, "a schema that matches nothing cannot be generated")
        return {}
    if depth > MAX_DEPTH:
        raise _unsupported("$defs", path, f"schemas nested deeper than {MAX_DEPTH} levels")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ANNOTATION_KEYWORDS or key in CHECKED_AFTER_KEYWORDS:
            continue  # no grammar effect; checked-after ones are validated after generation
        if key not in GRAMMAR_KEYWORDS:
            raise _unsupported(key, path, "the llama.cpp grammar cannot express it")
        out[key] = _prepare_keyword(node, key, value, path, depth)
    _check_combinations(node, path)
    if node.get("items") is False and "prefixItems" in node:
        del out["items"]  # a closed tuple: the converter emits exactly the prefix items
    _bound_open_ended(out)
    return _split_type_list(out)


DEFAULT_MAX_STRING = 160
DEFAULT_MAX_ITEMS = 10


def _bound_open_ended(out: dict[str, Any]) -> None:
    """Give free strings and arrays a length limit in the grammar copy only.

    A small model can otherwise repeat itself inside a string until max_tokens cuts the
    JSON off; the limit makes every generation end. The validator still checks the
    caller's own schema, which any output within these limits satisfies.
    """
    kinds = out.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    constrained = {"enum", "const", "format", "pattern", "maxLength"}
    if "string" in kinds and not constrained & set(out):
        out["maxLength"] = max(DEFAULT_MAX_STRING, int(out.get("minLength", 0)))
    if "array" in kinds and "maxItems" not in out and "prefixItems" not in out:
        out["maxItems"] = max(DEFAULT_MAX_ITEMS, int(out.get("minItems", 0)))


def _split_type_list(out: dict[str, Any]) -> dict[str, Any]:
    """{"type": ["string", "null"], "maxLength": 9} -> anyOf of one schema per type.

    The converter turns a type list into bare types and drops the other keywords
    (maxLength, items...), which lets a small model ramble until max_tokens.
    """
    kinds = out.get("type")
    rest = {k: v for k, v in out.items() if k not in ("type", "$defs", "definitions")}
    if not isinstance(kinds, list) or not rest or "anyOf" in out or "oneOf" in out:
        return out
    split: dict[str, Any] = {"anyOf": [{**rest, "type": kind} for kind in kinds]}
    split.update({k: v for k, v in out.items() if k in ("$defs", "definitions")})
    return split


def _prepare_keyword(node: dict[str, Any], key: str, value: Any, path: str, depth: int) -> Any:
    here = f"{path}/{key}"
    _check_literals(key, value, path)
    if key in ("properties", "$defs", "definitions"):
        return {name: _prepare(sub, f"{here}/{name}", depth + 1) for name, sub in value.items()}
    if key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        return [_prepare(sub, f"{here}/{i}", depth + 1) for i, sub in enumerate(value)]
    if key == "items":
        if isinstance(value, list):  # draft-07 tuple form
            return [_prepare(sub, f"{here}/{i}", depth + 1) for i, sub in enumerate(value)]
        if value is False and "prefixItems" in node:
            return False
        return _prepare(value, here, depth + 1)
    if key == "additionalProperties":
        return value if isinstance(value, bool) else _prepare(value, here, depth + 1)
    if key == "$ref":
        if not value.startswith("#/"):
            raise _unsupported(
                "$ref", path, f"only local references like #/$defs/name are allowed, not {value!r}"
            )
        return value
    if key == "format":
        if value not in GRAMMAR_FORMATS:
            raise _unsupported(
                "format",
                path,
                f"format {value!r} has no grammar; supported: {', '.join(sorted(GRAMMAR_FORMATS))}",
            )
        return value
    if key == "pattern":
        return _grammar_pattern(value, path)
    return value


def _check_literals(key: str, value: Any, path: str) -> None:
    """Strings the grammar writes verbatim (enum and const values, property names,
    patterns) must be free of control characters and bounded: llama.cpp's grammar code
    aborts the whole process on some control characters."""
    if key == "enum" and len(value) > MAX_ENUM_VALUES:
        raise _unsupported(key, path, f"at most {MAX_ENUM_VALUES} values are allowed")
    if key in ("enum", "const", "pattern"):
        members = value if key == "enum" else [value]
    elif key == "properties":
        members = list(value)
    else:
        return
    for i, member in enumerate(members):
        problem = value_problem(
            member, max_chars=MAX_PATTERN_CHARS if key == "pattern" else MAX_LITERAL_CHARS
        )
        if problem is not None:
            what = "the value" if key in ("const", "pattern") else f"value {i}"
            if key == "properties":
                what = f"property name {i}"
            raise _unsupported(key, path, f"{what} {problem}")


def _check_combinations(node: dict[str, Any], path: str) -> None:
    """Keyword mixes the converter would silently drop part of."""
    for name in node.get("required", []):
        if name not in node.get("properties", {}):
            raise _unsupported(
                "required", path, f"required property {name!r} is not declared in properties"
            )
    for union in ("anyOf", "oneOf", "allOf"):
        if union in node:
            siblings = set(node) & (GRAMMAR_KEYWORDS - {union, "type", "$defs", "definitions"})
            if siblings:
                raise _unsupported(
                    union,
                    path,
                    f"it cannot be combined with {', '.join(sorted(siblings))} at the same "
                    "level; move those into each alternative",
                )
    for i, part in enumerate(node.get("allOf", [])):
        if not isinstance(part, dict) or not ("properties" in part or "$ref" in part):
            raise _unsupported(
                "allOf", f"{path}/allOf/{i}", "only object parts with properties can be merged"
            )
    if "prefixItems" in node and node.get("items", False) is not False:
        raise _unsupported("prefixItems", path, 'only closed tuples ("items": false) are allowed')


def _grammar_pattern(pattern: str, path: str) -> str:
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise _unsupported("pattern", path, "the pattern must be anchored with ^ and $")
    if "(?" in pattern:
        raise _unsupported("pattern", path, "look-arounds and non-capturing groups have no grammar")
    if re.search(r"\\[bBDWSpP]|\\[1-9]", pattern):
        raise _unsupported(
            "pattern", path, "\\b, negated classes and backreferences have no grammar"
        )
    return _expand_shorthands(pattern)


def _expand_shorthands(pattern: str) -> str:
    """Rewrite \\d, \\w, \\s as character classes, inside brackets or outside them."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if escaped in _CLASS_SHORTHANDS:
                body = _CLASS_SHORTHANDS[escaped]
                out.append(body if in_class else f"[{body}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)
