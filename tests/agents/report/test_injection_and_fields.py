"""Formula-injection strings come out inert in CSV and XLSX; a template naming a field
the data lacks is refused with that field's name; templates are validated."""

import csv
import io

import openpyxl
import pytest

from agents.report.catalog import builtin_templates
from agents.report.cells import neutralise
from agents.report.dataset import from_input
from agents.report.errors import InvalidTemplateError, MissingFieldError
from agents.report.render import render
from agents.report.service import ReportService
from agents.report.template import parse_template

INJECTIONS = [
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "  =cmd|' /C calc'!A0",
]
TEMPLATE = {
    "id": "injection",
    "title": "Injection",
    "sections": [
        {"type": "table", "columns": [{"field": "name"}, {"field": "n", "type": "number"}]}
    ],
}


def _rows() -> list[dict[str, object]]:
    return [{"name": text, "n": -5} for text in INJECTIONS]


def test_csv_cells_that_would_start_a_formula_get_an_apostrophe() -> None:
    # GIVEN rows whose text starts like a formula
    out = io.BytesIO()
    # WHEN they are written as CSV
    render(parse_template(TEMPLATE), from_input(_rows()), "csv", out)
    # THEN it is RFC 4180 (CRLF) UTF-8, every such text is prefixed, numbers stay numbers
    raw = out.getvalue()
    assert raw.count(b"\r\n") >= len(INJECTIONS) + 1
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert parsed[0] == ["name", "n"]
    assert [row[0] for row in parsed[1:]] == ["'" + text for text in INJECTIONS]
    assert all(row[1] == "-5" for row in parsed[1:])


def test_xlsx_cells_that_would_start_a_formula_are_text() -> None:
    # GIVEN the same rows
    out = io.BytesIO()
    # WHEN they are written as XLSX
    render(parse_template(TEMPLATE), from_input(_rows()), "xlsx", out)
    # THEN no cell is a formula; the text is kept behind an apostrophe; numbers are numbers
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Table 1"]
    cells = list(ws.iter_rows(min_row=2))
    assert all(row[0].data_type == "s" and row[0].value.startswith("'") for row in cells)
    assert all(row[1].value == -5 for row in cells)
    assert b"<f>" not in out.getvalue()


def test_plain_text_is_left_alone() -> None:
    assert neutralise("Invoice 2026") == "Invoice 2026"
    assert neutralise("a=b") == "a=b"


def test_a_template_naming_a_missing_field_is_refused_with_the_field() -> None:
    # GIVEN a table over a field the rows do not have
    template = parse_template(
        {**TEMPLATE, "sections": [{"type": "table", "columns": ["name", "amount_due"]}]}
    )
    # WHEN it is rendered
    with pytest.raises(MissingFieldError) as raised:
        render(template, from_input(_rows()), "pdf", io.BytesIO())
    # THEN the error names the field, as a 422
    assert raised.value.field == "amount_due" and "amount_due" in raised.value.message
    assert raised.value.status_code == 422


def test_request_refuses_missing_field_before_anything_is_stored(
    reports: ReportService, tenant: str
) -> None:
    # GIVEN run data without the `workflow` value the run-report title uses
    data = {"run_id": "r", "status": "ok", "started_at": "", "finished_at": "", "steps": []}
    # WHEN it is requested
    with pytest.raises(MissingFieldError, match="'workflow'"):
        reports.request(tenant, "run-report", "pdf", None, data, "t", enqueue=False)
    # THEN no report row was written
    records, _ = reports.list_reports(tenant, limit=200)
    assert not any(r.template == "run-report" and r.status == "queued" for r in records)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"sections": [{"type": "graph"}]}, "sections[0].type"),
        (
            {"sections": [{"type": "table", "columns": [{"field": "a", "type": "money"}]}]},
            "sections[0].columns[0].type",
        ),
        (
            {
                "sections": [
                    {"type": "chart", "chart": "pie", "category": "a", "series": ["b", "c"]}
                ]
            },
            "sections[0].series",
        ),
        ({"id": "Not An Id"}, "id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_malformed_templates_are_refused_naming_the_path(change: dict, path: str) -> None:
    with pytest.raises(InvalidTemplateError) as raised:
        parse_template({**TEMPLATE, **change})
    assert raised.value.message.startswith(path)


def test_builtin_templates_read_only_what_their_sources_have() -> None:
    from agents.report.catalog import check_template

    for template in builtin_templates().values():
        check_template(template)  # raises MissingFieldError otherwise


def test_the_example_templates_are_valid() -> None:
    from pathlib import Path

    from agents.report.catalog import check_template, decode_template

    examples = Path(__file__).resolve().parents[3] / "examples" / "report-templates"
    files = sorted(examples.glob("*.*"))
    assert files
    for path in files:
        check_template(parse_template(decode_template(path.read_text("utf-8"))))
