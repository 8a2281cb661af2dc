"""XLSX via openpyxl in read-only mode: one section per worksheet, rows as `a | b | c`."""

from __future__ import annotations

from datetime import date, datetime, time
from io import BytesIO
from typing import Any

import openpyxl
from openpyxl.xml import DEFUSEDXML

from agents.ingest.sandbox.document import ParsedDocument, single_page
from agents.ingest.sandbox.parsers._layout import TextBuilder

# openpyxl parses through defusedxml when it is installed; the DOCTYPE check in
# ooxml_guard is the first line of defence, this is the second.
if not DEFUSEDXML:
    raise ImportError("defusedxml must be installed for safe XLSX parsing")


def parse(data: bytes) -> ParsedDocument:
    """Extract every worksheet's cell values (cached results for formulas)."""
    workbook = openpyxl.load_workbook(
        BytesIO(data), read_only=True, data_only=True, keep_links=False, keep_vba=False
    )
    try:
        out = TextBuilder()
        names: list[str] = []
        rows_total = 0
        for sheet in workbook.worksheets:
            names.append(sheet.title)
            out.heading(sheet.title, 1)
            rows_total += _sheet(sheet, out)
        metadata = _metadata(workbook)
    finally:
        workbook.close()
    metadata["sheet_count"] = len(names)
    metadata["sheet_names"] = ", ".join(names)
    metadata["row_count"] = rows_total
    return single_page("xlsx", out.text(), out.sections, metadata)


def _sheet(sheet: Any, out: TextBuilder) -> int:
    # The <dimension> element is written by the sender and may claim 16,384 columns;
    # without this reset openpyxl pads every row to that width.
    sheet.reset_dimensions()
    rows = 0
    for values in sheet.iter_rows(values_only=True):
        cells = [_cell(value) for value in values]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            out.line(" | ".join(cells))
            rows += 1
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return " ".join(str(value).split())


def _metadata(workbook: Any) -> dict[str, str | int]:
    props = workbook.properties
    metadata: dict[str, str | int] = {}
    for name, value in (
        ("title", props.title),
        ("author", props.creator),
        ("subject", props.subject),
        ("keywords", props.keywords),
        ("created", props.created),
        ("modified", props.modified),
    ):
        if isinstance(value, datetime):
            metadata[name] = value.isoformat()
        elif value:
            metadata[name] = str(value).strip()[:1000]
    return metadata
