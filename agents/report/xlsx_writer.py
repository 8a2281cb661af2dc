"""XLSX output with openpyxl in write-only mode: rows stream to the file as they are made.

Each table is a sheet with a frozen, filterable header row, column widths and number
formats; values are typed (numbers, dates), never formulas, and text that would start a
formula is neutralised (cells.neutralise). Each chart is a native Excel chart built from
a small sheet of its summed series. A summary sheet holds the title, texts and figures.
"""

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from agents.report import markdown
from agents.report.cells import neutralise, number_format, plain, typed
from agents.report.chart_data import chart_data
from agents.report.dataset import ReportData
from agents.report.errors import TooLargeError
from agents.report.figures import figure_value
from agents.report.limits import XlsxLimits
from agents.report.template import Section, Template

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8EEFC")
_WIDTHS = {"text": 36, "date": 12, "number": 14, "integer": 12, "currency": 14, "percent": 10}


class _SheetNames:
    """Excel's rules: at most 31 characters, no []:*?/\\, unique ignoring case."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, wanted: str, fallback: str) -> str:
        base = _BAD_SHEET_CHARS.sub(" ", wanted).strip().strip("'")[:28] or fallback
        name, n = base, 2
        while name.lower() in self.taken:
            name = f"{base[:26]} {n}"
            n += 1
        self.taken.add(name.lower())
        return name


def _text_cell(ws: Any, value: Any, bold: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, neutralise(plain(value)))
    if bold:
        cell.font = _BOLD
    return cell


def _table_rows(ws: Any, section: Section, rows: list[dict[str, Any]]) -> Iterator[list[Any]]:
    columns = section.columns
    # Columns with a number format get one styled cell each, re-used for every row (write-
    # only mode serialises a row as it is appended; a new styled cell per value would
    # repeat the style lookup). Columns without one get plain values: openpyxl handles a
    # plain value faster than a cell object.
    styled: list[WriteOnlyCell | None] = []
    for column in columns:
        fmt = number_format(column.type, column.decimals, column.currency)
        cell = None
        if fmt:
            cell = WriteOnlyCell(ws)
            cell.number_format = fmt
        styled.append(cell)
    plan = [(c.field, c.type, cell) for c, cell in zip(columns, styled, strict=True)]
    for row in rows:
        out: list[Any] = []
        for name, kind, cell in plan:
            value = typed(row.get(name), kind)
            if cell is None:
                out.append(value)
            else:
                cell.value = value
                out.append(cell)
        yield out


def _write_table(wb: Workbook, name: str, section: Section, data: ReportData) -> None:
    ws = wb.create_sheet(name)
    rows = data.datasets.get(section.dataset, [])
    for i, column in enumerate(section.columns, 1):
        width = column.width or _WIDTHS.get(column.type, 14)
        ws.column_dimensions[get_column_letter(i)].width = min(
            max(width, len(column.label) + 2), 80
        )
    ws.freeze_panes = "A2"
    last = get_column_letter(len(section.columns))
    ws.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    header = []
    for column in section.columns:
        cell = _text_cell(ws, column.label, bold=True)
        cell.fill = _HEADER_FILL
        header.append(cell)
    ws.append(header)
    for out in _table_rows(ws, section, rows):
        ws.append(out)


def _write_chart(wb: Workbook, name: str, section: Section, data: ReportData) -> None:
    ws = wb.create_sheet(name)
    summary = chart_data(section, data.datasets.get(section.dataset, []))
    ws.column_dimensions["A"].width = 28
    ws.append(
        [_text_cell(ws, section.category, bold=True)]
        + [_text_cell(ws, label, bold=True) for label in summary.labels]
    )
    for i, category in enumerate(summary.categories):
        ws.append([neutralise(category)] + [series[i] for series in summary.values])
    count = len(summary.categories)
    chart: BarChart | LineChart | PieChart
    if section.chart == "pie":
        chart = PieChart()
    elif section.chart == "line":
        chart = LineChart()
    else:
        chart = BarChart()
        chart.type = "col"
        if section.chart == "stacked_bar":
            chart.grouping, chart.overlap = "stacked", 100
    chart.title = section.title or None
    chart.width, chart.height = 18, 9
    if count:
        values = Reference(
            ws, min_col=2, max_col=1 + len(summary.labels), min_row=1, max_row=count + 1
        )
        chart.add_data(values, titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=count + 1))
    ws.add_chart(chart, f"{get_column_letter(len(summary.labels) + 3)}2")


def _write_summary(wb: Workbook, template: Template, data: ReportData) -> None:
    ws = wb.create_sheet("Summary")
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 20
    title = WriteOnlyCell(ws, neutralise(markdown.fill(template.title, data.values)))
    title.font = Font(bold=True, size=14)
    ws.append([title])
    for section in template.sections:
        if section.kind == "text":
            ws.append([])
            for line in markdown.plain_lines(
                markdown.parse(markdown.fill(section.text, data.values))
            ):
                ws.append([neutralise(line)])
        elif section.kind == "figures":
            ws.append([])
            if section.title:
                ws.append([_text_cell(ws, section.title, bold=True)])
            for figure in section.figures:
                cell = WriteOnlyCell(ws, typed(figure_value(figure, data), figure.type))
                fmt = number_format(figure.type, figure.decimals, figure.currency)
                if fmt:
                    cell.number_format = fmt
                ws.append([neutralise(figure.label), cell])


def _write_citations(wb: Workbook, name: str, section: Section, data: ReportData) -> None:
    ws = wb.create_sheet(name)
    for letter, width in (("A", 40), ("B", 8), ("C", 100)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    rows = data.datasets.get(section.dataset, [])
    ws.auto_filter.ref = f"A1:C{len(rows) + 1}"
    ws.append([_text_cell(ws, h, bold=True) for h in ("Document", "Page", "Quote")])
    page = WriteOnlyCell(ws)
    page.number_format = "0"
    for row in rows:
        page.value = typed(row.get(section.page), "integer")
        ws.append(
            [typed(row.get(section.document), "text"), page, typed(row.get(section.quote), "text")]
        )


def write_xlsx(template: Template, data: ReportData, out: BinaryIO, limits: XlsxLimits) -> int:
    """Render the report as XLSX into `out`; returns the number of sheets."""
    for section in template.sections:
        rows = len(data.datasets.get(section.dataset, [])) if section.kind == "table" else 0
        if rows > limits.max_rows:
            raise TooLargeError(
                f"a table has {rows:,} rows; an XLSX sheet holds at most {limits.max_rows:,}"
            )
    wb = Workbook(write_only=True)
    names = _SheetNames()
    names("Summary", "Summary")
    _write_summary(wb, template, data)
    for i, section in enumerate(template.sections, 1):
        if section.kind == "table":
            _write_table(wb, names(section.title, f"Table {i}"), section, data)
        elif section.kind == "chart":
            _write_chart(wb, names(section.title or f"Chart {i}", f"Chart {i}"), section, data)
        elif section.kind == "citations":
            _write_citations(
                wb, names(section.title or "Citations", f"Citations {i}"), section, data
            )
    wb.save(out)
    return len(wb.worksheets)
