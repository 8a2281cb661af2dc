"""JSON (and JSON Lines) rendered as indented text."""

from __future__ import annotations

import json
from typing import Any

from agents.ingest.errors import MalformedError
from agents.ingest.sandbox.document import ParsedDocument, single_page
from agents.ingest.sandbox.textcodec import decode_text


def parse(data: bytes) -> ParsedDocument:
    """Pretty-print the value(s) so keys and values are searchable text."""
    text, encoding = decode_text(data)
    metadata: dict[str, str | int] = {"encoding": encoding}
    try:
        values = [json.loads(text)]
    except json.JSONDecodeError as exc:
        lines = _json_lines(text)
        if lines is None:
            raise MalformedError(
                f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from exc
        values = lines
        metadata["json_lines"] = len(values)
    except RecursionError as exc:
        raise MalformedError("The JSON document is nested too deeply to read.") from exc
    rendered = "\n\n".join(
        json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False) for value in values
    )
    top = values[0] if len(values) == 1 else values
    metadata["json_type"] = _type_name(top)
    if isinstance(top, dict):
        metadata["key_count"] = len(top)
        title = top.get("title") or top.get("subject") or top.get("name")
        if isinstance(title, str) and title.strip():
            metadata["title"] = title.strip()[:1000]
    elif isinstance(top, list):
        metadata["item_count"] = len(top)
    return single_page("json", rendered, metadata=metadata)


def _json_lines(text: str) -> list[Any] | None:
    """Values of a JSON Lines file (one value per line), or None if it is not one."""
    values = []
    for line in text.split("\n"):
        if line.strip():
            try:
                values.append(json.loads(line))
            except json.JSONDecodeError:
                return None
    return values if len(values) > 1 else None


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, int | float) else "null"
    )
