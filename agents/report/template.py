"""The report template model and its validation.

A template (YAML or JSON) has an id, a title, parameters, a data source and sections:
`text` (Markdown subset), `table` (typed, formatted columns), `chart` (bar, line, pie,
stacked bar), `figures` (key numbers) and `citations` (document, page, quote). Tables,
charts and citations read a named dataset (a list of rows); figures and `{{ name }}`
placeholders read parameters and scalar values. `parse_template` refuses a malformed
template with the path of the first problem; `references` lists what it needs from the
data, so a missing field is named before anything is rendered (data_shape.check_fields).
"""

import re
from dataclasses import dataclass, field, replace
from typing import Any

from agents.report.errors import InvalidTemplateError

FORMATS = ("pdf", "xlsx", "csv")
COLUMN_TYPES = ("text", "number", "integer", "currency", "date", "percent")
CHART_KINDS = ("bar", "line", "pie", "stacked_bar")
SOURCES = ("input", "documents", "summary", "extraction", "activity", "ask", "run")
PARAM_TYPES = ("string", "text", "integer", "number", "boolean", "date", "json", "document_ids")
AGGREGATES = ("count", "sum", "avg", "min", "max")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\}")
MAX_SECTIONS = 50


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str = "string"
    label: str = ""
    required: bool = False
    default: Any = None
    description: str = ""


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    type: str = "text"
    decimals: int | None = None
    currency: str = "EUR"
    width: float | None = None  # relative width in the PDF; characters in XLSX


@dataclass(frozen=True)
class Series:
    field: str
    label: str


@dataclass(frozen=True)
class Figure:
    label: str
    value: str | None = None  # a scalar value or parameter by name
    dataset: str | None = None  # or an aggregate over a dataset
    field: str | None = None
    agg: str = "count"
    type: str = "number"
    decimals: int | None = None
    currency: str = "EUR"


@dataclass(frozen=True)
class Section:
    """One section; which attributes matter depends on `kind`."""

    kind: str
    title: str = ""
    text: str = ""
    dataset: str = "rows"
    columns: tuple[Column, ...] = ()
    chart: str = "bar"
    category: str = ""
    series: tuple[Series, ...] = ()
    figures: tuple[Figure, ...] = ()
    document: str = "document"
    page: str = "page"
    quote: str = "quote"
    auto_columns: bool = False  # `columns: auto`: every field of the dataset


@dataclass(frozen=True)
class DataSpec:
    source: str = "input"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    data: DataSpec = field(default_factory=DataSpec)
    sections: tuple[Section, ...] = ()
    formats: tuple[str, ...] = FORMATS
    builtin: bool = False

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def summary(self) -> dict[str, Any]:
        """The JSON shape listings show (no section details)."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "builtin": self.builtin,
            "source": self.data.source,
            "formats": list(self.formats),
            "parameters": [p.__dict__ for p in self.parameters],
        }


class _Reader:
    """Reads one mapping of the template, naming the path of whatever is wrong."""

    def __init__(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise InvalidTemplateError(f"{path or 'template'}: must be a mapping")
        self.value, self.path = value, path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def allow(self, *keys: str) -> None:
        unknown = sorted(set(self.value) - set(keys))
        if unknown:
            raise InvalidTemplateError(f"{self._where(unknown[0])}: unknown key")

    def text(
        self, key: str, default: str | None = None, pattern: re.Pattern[str] | None = None
    ) -> str:
        value = self.value.get(key, default)
        if not isinstance(value, str) or (default is None and not value):
            raise InvalidTemplateError(f"{self._where(key)}: must be a non-empty string")
        if pattern is not None and not pattern.match(value):
            raise InvalidTemplateError(f"{self._where(key)}: {value!r} is not a valid name")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.value.get(key, default)
        if value not in choices:
            raise InvalidTemplateError(f"{self._where(key)}: must be one of {', '.join(choices)}")
        return str(value)

    def optional_int(self, key: str, low: int, high: int) -> int | None:
        value = self.value.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise InvalidTemplateError(f"{self._where(key)}: must be an integer {low}-{high}")
        return value

    def items(self, key: str, required: bool = False) -> list[tuple[Any, str]]:
        value = self.value.get(key, [])
        if not isinstance(value, list) or (required and not value):
            raise InvalidTemplateError(f"{self._where(key)}: must be a non-empty list")
        return [(item, f"{self._where(key)}[{i}]") for i, item in enumerate(value)]


def _column(value: Any, path: str) -> Column:
    if isinstance(value, str):
        value = {"field": value}
    r = _Reader(value, path)
    r.allow("field", "label", "type", "decimals", "currency", "width")
    name = r.text("field", pattern=_NAME)
    width = value.get("width")
    if width is not None and (not isinstance(width, int | float) or not 0 < width <= 200):
        raise InvalidTemplateError(f"{path}.width: must be a number above 0, at most 200")
    return Column(
        field=name,
        label=r.text("label", name),
        type=r.choice("type", COLUMN_TYPES, "text"),
        decimals=r.optional_int("decimals", 0, 10),
        currency=r.text("currency", "EUR"),
        width=float(width) if width is not None else None,
    )


def _figure(value: Any, path: str) -> Figure:
    r = _Reader(value, path)
    r.allow("label", "value", "dataset", "field", "agg", "type", "decimals", "currency")
    has_value, has_dataset = "value" in value, "dataset" in value
    if has_value == has_dataset:
        raise InvalidTemplateError(f"{path}: give exactly one of 'value' and 'dataset'")
    agg = r.choice("agg", AGGREGATES, "count")
    field_name = r.text("field", pattern=_NAME) if "field" in value else None
    if has_dataset and agg != "count" and field_name is None:
        raise InvalidTemplateError(f"{path}.field: needed for agg {agg!r}")
    return Figure(
        label=r.text("label"),
        value=r.text("value", pattern=_NAME) if has_value else None,
        dataset=r.text("dataset", pattern=_NAME) if has_dataset else None,
        field=field_name,
        agg=agg,
        type=r.choice("type", COLUMN_TYPES, "number"),
        decimals=r.optional_int("decimals", 0, 10),
        currency=r.text("currency", "EUR"),
    )


def _section(value: Any, path: str) -> Section:
    r = _Reader(value, path)
    kind = r.choice("type", ("text", "table", "chart", "figures", "citations"), "text")
    title = r.text("title", "")
    if kind == "text":
        r.allow("type", "title", "text")
        return Section(kind, title, text=r.text("text"))
    if kind == "table":
        r.allow("type", "title", "dataset", "columns")
        dataset = r.text("dataset", "rows", _NAME)
        if value.get("columns") == "auto":
            return Section(kind, title, dataset=dataset, auto_columns=True)
        columns = tuple(_column(v, p) for v, p in r.items("columns", required=True))
        return Section(kind, title, dataset=dataset, columns=columns)
    if kind == "chart":
        r.allow("type", "title", "dataset", "chart", "category", "series")
        series = []
        for item, item_path in r.items("series", required=True):
            s = _Reader({"field": item} if isinstance(item, str) else item, item_path)
            s.allow("field", "label")
            name = s.text("field", pattern=_NAME)
            series.append(Series(name, s.text("label", name)))
        chart = r.choice("chart", CHART_KINDS, "bar")
        if chart == "pie" and len(series) != 1:
            raise InvalidTemplateError(f"{path}.series: a pie chart has exactly one series")
        return Section(
            kind,
            title,
            dataset=r.text("dataset", "rows", _NAME),
            chart=chart,
            category=r.text("category", pattern=_NAME),
            series=tuple(series),
        )
    if kind == "figures":
        r.allow("type", "title", "items")
        return Section(kind, title, figures=tuple(_figure(v, p) for v, p in r.items("items", True)))
    r.allow("type", "title", "dataset", "document", "page", "quote")
    return Section(
        kind,
        title,
        dataset=r.text("dataset", "citations", _NAME),
        document=r.text("document", "document", _NAME),
        page=r.text("page", "page", _NAME),
        quote=r.text("quote", "quote", _NAME),
    )


def _parameter(value: Any, path: str) -> Parameter:
    r = _Reader(value, path)
    r.allow("name", "type", "label", "required", "default", "description")
    name = r.text("name", pattern=_NAME)
    required = value.get("required", False)
    if not isinstance(required, bool):
        raise InvalidTemplateError(f"{path}.required: must be true or false")
    return Parameter(
        name=name,
        type=r.choice("type", PARAM_TYPES, "string"),
        label=r.text("label", name),
        required=required,
        default=value.get("default"),
        description=r.text("description", ""),
    )


def parse_template(value: Any, *, builtin: bool = False) -> Template:
    """A validated Template from decoded YAML/JSON; InvalidTemplateError names the path."""
    r = _Reader(value, "")
    r.allow("id", "title", "description", "parameters", "data", "sections", "formats")
    data = _Reader(value.get("data", {}), "data")
    data.allow("source", "options")
    options = data.value.get("options", {})
    if not isinstance(options, dict):
        raise InvalidTemplateError("data.options: must be a mapping")
    formats = value.get("formats", list(FORMATS))
    if not isinstance(formats, list) or not formats or any(f not in FORMATS for f in formats):
        raise InvalidTemplateError(f"formats: must be a list of {', '.join(FORMATS)}")
    sections = r.items("sections", required=True)
    if len(sections) > MAX_SECTIONS:
        raise InvalidTemplateError(f"sections: at most {MAX_SECTIONS}")
    parameters = tuple(_parameter(v, p) for v, p in r.items("parameters"))
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise InvalidTemplateError("parameters: names must be unique")
    return Template(
        id=r.text("id", pattern=_ID),
        title=r.text("title"),
        description=r.text("description", ""),
        parameters=parameters,
        data=DataSpec(data.choice("source", SOURCES, "input"), dict(options)),
        sections=tuple(_section(v, p) for v, p in sections),
        formats=tuple(formats),
        builtin=builtin,
    )


@dataclass(frozen=True)
class Reference:
    """One thing a template reads from the data: a dataset field or a value by name."""

    name: str
    where: str
    dataset: str | None = None  # None: a scalar value or parameter


def references(template: Template) -> list[Reference]:
    """Everything the template's sections and texts read, with where it is read."""
    refs = [Reference(n, "title") for n in PLACEHOLDER.findall(template.title)]
    for i, s in enumerate(template.sections):
        where = f"sections[{i}] ({s.kind})"
        refs += [Reference(n, where) for n in PLACEHOLDER.findall(s.title + "\n" + s.text)]
        if s.kind == "table":
            refs += [Reference(c.field, where, s.dataset) for c in s.columns]
        elif s.kind == "chart":
            refs.append(Reference(s.category, where, s.dataset))
            refs += [Reference(x.field, where, s.dataset) for x in s.series]
        elif s.kind == "citations":
            refs += [Reference(n, where, s.dataset) for n in (s.document, s.page, s.quote)]
        elif s.kind == "figures":
            for f in s.figures:
                if f.value is not None:
                    refs.append(Reference(f.value, where))
                elif f.field is not None:
                    refs.append(Reference(f.field, where, f.dataset))
                else:
                    refs.append(Reference("", where, f.dataset))  # the dataset itself
    return refs


def with_columns(template: Template, columns: dict[str, tuple[Column, ...]]) -> Template:
    """The template with each `columns: auto` table given the columns of its dataset."""
    sections = tuple(
        replace(s, columns=columns.get(s.dataset, ()), auto_columns=False)
        if s.kind == "table" and s.auto_columns
        else s
        for s in template.sections
    )
    return replace(template, sections=sections)
