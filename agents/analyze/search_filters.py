"""Search filters: which documents a search may return, as one SQL condition on `documents d`.

Accepted keys (all optional, all must hold):
  document_ids  list of document ids
  source        a source name or a list of them (upload, api, dropbox, imap, ...)
  type          a format or a list of them (pdf, docx, html, ...); `format` is an alias
  date_from     ISO date or datetime; documents created at or after it
  date_to       ISO date (inclusive: the whole day) or datetime (exclusive)
  metadata      {key: value}: the document's metadata[key] equals value, or is a list
                holding it
  tags          a tag or a list of tags, each of which the document carries: in
                metadata["tags"] (given at upload) or as an editor's tag
                (agents/documents/tags.py, matched as stored: lower case)
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from agents.analyze.index import AnalyzeError

Scalar = str | int | float | bool
_MAX_VALUES = 1000


class InvalidFilterError(AnalyzeError):
    status_code = 400
    code = "invalid_filter"


@dataclass(frozen=True)
class SearchFilters:
    document_ids: tuple[str, ...] | None = None
    sources: tuple[str, ...] | None = None
    types: tuple[str, ...] | None = None
    date_from: str | None = None  # normalised to the stored form (UTC ISO 8601)
    date_to: str | None = None  # exclusive bound
    metadata: dict[str, Scalar] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: "Mapping[str, Any] | SearchFilters | None") -> "SearchFilters":
        """Filters from a request's JSON object; unknown keys or bad values are refused."""
        if raw is None:
            return cls()
        if isinstance(raw, SearchFilters):
            return raw
        if not isinstance(raw, Mapping):
            raise InvalidFilterError("filters must be an object")
        known = {
            "document_ids",
            "source",
            "type",
            "format",
            "date_from",
            "date_to",
            "metadata",
            "tags",
        }
        unknown = sorted(set(raw) - known)
        if unknown:
            raise InvalidFilterError(
                f"unknown filter {unknown[0]!r}; use one of {', '.join(sorted(known))}"
            )
        metadata = raw.get("metadata")
        if metadata is None:
            metadata = {}
        if not isinstance(metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, Scalar) for k, v in metadata.items()
        ):
            raise InvalidFilterError("metadata must map names to strings, numbers or booleans")
        if "type" in raw and "format" in raw:
            raise InvalidFilterError("give either type or format, not both")
        start = _instant(raw.get("date_from"), "date_from", end=False)
        end = _instant(raw.get("date_to"), "date_to", end=True)
        return cls(
            document_ids=_strings(raw, "document_ids"),
            sources=_strings(raw, "source"),
            types=_strings(raw, "type" if "type" in raw else "format"),
            date_from=start,
            date_to=end,
            metadata=dict(metadata),
            tags=_strings(raw, "tags") or (),
        )

    @property
    def empty(self) -> bool:
        return self == SearchFilters()

    def sql(self) -> tuple[str, list[Any]]:
        """A condition on `documents d` ("1" when there is none) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, values in (
            ("d.id", self.document_ids),
            ("d.source", self.sources),
            ("d.format", self.types),
        ):
            if values is not None:
                clauses.append(f"{column} IN (SELECT value FROM json_each(?))")
                params.append(_json_list(values))
        if self.date_from is not None:
            clauses.append("d.created_at >= ?")
            params.append(self.date_from)
        if self.date_to is not None:
            clauses.append("d.created_at < ?")
            params.append(self.date_to)
        for key, value in self.metadata.items():
            clauses.append(_METADATA_HOLDS)
            params += [key, value, value]
        for tag in self.tags:
            clauses.append(
                f"({_METADATA_HOLDS} OR d.id IN "
                "(SELECT document_id FROM document_tags WHERE tag = ?))"
            )
            params += ["tags", tag, tag, " ".join(tag.split()).lower()]
        return (" AND ".join(clauses) or "1"), params


# metadata[key] equals the value, or is a list holding it
_METADATA_HOLDS = (
    "EXISTS (SELECT 1 FROM json_each(d.metadata) m WHERE m.key = ? AND "
    "(m.value = ? OR (m.type = 'array' AND EXISTS "
    "(SELECT 1 FROM json_each(m.value) t WHERE t.value = ?))))"
)


def _strings(raw: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    value = raw.get(key)
    if value is None:
        return None
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise InvalidFilterError(f"{key} must be a string or a list of strings")
    if len(values) > _MAX_VALUES:
        raise InvalidFilterError(f"{key} may list at most {_MAX_VALUES} values")
    return tuple(values)


def _json_list(values: tuple[str, ...]) -> str:
    return json.dumps(list(values))


def _instant(value: Any, key: str, *, end: bool) -> str | None:
    """The stored form (UTC, milliseconds) of a date or datetime bound."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidFilterError(f"{key} must be an ISO 8601 date or datetime")
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if end:
                moment += timedelta(days=1)  # a date as upper bound includes its whole day
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidFilterError(f"{key} must be an ISO 8601 date or datetime") from exc
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
