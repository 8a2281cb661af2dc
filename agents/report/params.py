"""Parameters given for a report, checked against the template's declarations."""

import datetime as dt
from typing import Any

from agents.report.errors import InvalidReportRequest
from agents.report.template import Parameter, Template

MAX_DOCUMENT_IDS = 500


def _coerce(p: Parameter, value: Any) -> Any:
    where = f"parameter {p.name!r}"
    if p.type in ("string", "text"):
        if not isinstance(value, str):
            raise InvalidReportRequest(f"{where} must be a string")
        return value
    if p.type == "integer":
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidReportRequest(f"{where} must be an integer")
        return value
    if p.type == "number":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise InvalidReportRequest(f"{where} must be a number") from None
    if p.type == "boolean":
        if not isinstance(value, bool):
            raise InvalidReportRequest(f"{where} must be true or false")
        return value
    if p.type == "date":
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise InvalidReportRequest(f"{where} must be a date (YYYY-MM-DD)") from None
    if p.type == "document_ids":
        if isinstance(value, str):
            value = [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidReportRequest(f"{where} must be a list of document ids")
        if len(value) > MAX_DOCUMENT_IDS:
            raise InvalidReportRequest(f"{where}: at most {MAX_DOCUMENT_IDS} documents")
        return value
    return value  # json: any JSON value


def resolve_params(template: Template, given: dict[str, Any] | None) -> dict[str, Any]:
    """The template's parameters with defaults filled in; unknown or missing ones refused."""
    given = dict(given or {})
    unknown = sorted(set(given) - {p.name for p in template.parameters})
    if unknown:
        raise InvalidReportRequest(f"template {template.id!r} has no parameter {unknown[0]!r}")
    resolved: dict[str, Any] = {}
    for p in template.parameters:
        value = given.get(p.name)
        if value is None or value == "":
            if p.required and p.default is None:
                raise InvalidReportRequest(f"parameter {p.name!r} is required")
            value = p.default
        resolved[p.name] = None if value is None else _coerce(p, value)
    return resolved
