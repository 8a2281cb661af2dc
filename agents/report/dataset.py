"""What a report is rendered from: named datasets (lists of rows) and scalar values.

Every source (step input, documents query, extraction, activity, ...) produces a
ReportData. `check_fields` compares it with what the template reads, so a template that
names a field the data lacks is refused with that field's name before rendering.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agents.report.errors import InvalidReportRequest, MissingFieldError
from agents.report.template import Column, Template, references, with_columns

Row = dict[str, Any]
# rows inspected to learn a dataset's fields when its source does not declare them
_SAMPLE_ROWS = 1000


@dataclass
class ReportData:
    datasets: dict[str, list[Row]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    # fields a source guarantees, even when its dataset is empty
    declared: dict[str, frozenset[str]] = field(default_factory=dict)
    # column order and types a source knows (an extraction's schema), for `columns: auto`
    column_types: dict[str, dict[str, str]] = field(default_factory=dict)

    def fields_of(self, dataset: str) -> frozenset[str] | None:
        """The dataset's fields, or None when the dataset is empty and undeclared."""
        declared = self.declared.get(dataset)
        rows = self.datasets.get(dataset, [])
        seen: set[str] = set(declared or ())
        for row in rows[:_SAMPLE_ROWS]:
            seen.update(row)
        if not seen and not rows:
            return None
        return frozenset(seen)

    def merged(self, other: "ReportData") -> "ReportData":
        """This data with `other`'s datasets and values laid over it."""
        return ReportData(
            {**self.datasets, **other.datasets},
            {**self.values, **other.values},
            {**self.declared, **other.declared},
            {**self.column_types, **other.column_types},
        )


def from_input(data: Any) -> ReportData:
    """Data given with the request or by earlier steps.

    A list of objects is the dataset `rows`; an object maps names to a list of objects
    (a dataset) or anything else (a value).
    """
    if data is None:
        return ReportData()
    if isinstance(data, list):
        return ReportData({"rows": _rows(data, "data")})
    if not isinstance(data, Mapping):
        raise InvalidReportRequest("'data' must be a list of objects or an object")
    result = ReportData()
    for name, value in data.items():
        if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
            result.datasets[str(name)] = _rows(value, f"data.{name}")
        else:
            result.values[str(name)] = value
    return result


def _rows(items: list[Any], where: str) -> list[Row]:
    rows: list[Row] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidReportRequest(f"{where}[{i}] must be an object")
        rows.append(item if isinstance(item, dict) else dict(item))
    return rows


def check_fields(template: Template, data: ReportData) -> None:
    """Raise MissingFieldError naming the first field or value the data does not have."""
    for ref in references(template):
        if ref.dataset is None:
            if ref.name not in data.values:
                raise MissingFieldError(ref.name, ref.where)
            continue
        if ref.dataset not in data.datasets and ref.dataset not in data.declared:
            raise MissingFieldError(ref.dataset, f"{ref.where}: no dataset of that name")
        fields = data.fields_of(ref.dataset)
        if ref.name and fields is not None and ref.name not in fields:
            raise MissingFieldError(ref.name, f"{ref.where}, dataset {ref.dataset!r}")


def _inferred(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "text"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "text"


def expand_auto_columns(template: Template, data: ReportData) -> Template:
    """Give every `columns: auto` table the fields of its dataset (typed where known)."""
    wanted = {s.dataset for s in template.sections if s.kind == "table" and s.auto_columns}
    if not wanted:
        return template
    columns: dict[str, tuple[Column, ...]] = {}
    for name in wanted:
        hints = dict(data.column_types.get(name, {}))
        order = list(hints)
        rows = data.datasets.get(name, [])
        for row in rows[:_SAMPLE_ROWS]:
            for key, value in row.items():
                if key not in hints:
                    hints[key] = _inferred(value)
                    order.append(key)
        columns[name] = tuple(
            Column(f, f.replace("_", " ").capitalize(), hints[f]) for f in order
        ) or (Column("value", "Value"),)
    return with_columns(template, columns)
