"""CSV output per RFC 4180: UTF-8, CRLF line ends, fields quoted when they need it.

A CSV file holds one table: the template's first table section (or, without one, the
first chart's or citation's dataset with all its fields). Numbers and dates are written
in machine form; text that would start a formula is neutralised as in XLSX.
"""

import csv
import io
from typing import Any, BinaryIO

from agents.report.cells import neutralise, plain, typed
from agents.report.dataset import ReportData
from agents.report.template import Template

_NUMERIC = ("number", "integer", "currency", "percent")


def _cell(value: Any, kind: str) -> str:
    value = typed(value, kind)
    if value is None:
        return ""
    if isinstance(value, str):
        return value  # already neutralised by typed()
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return plain(value)


def write_csv(template: Template, data: ReportData, out: BinaryIO) -> int:
    """Write the table to `out`; returns the number of data rows."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    table = next((s for s in template.sections if s.kind == "table"), None)
    count = 0
    try:
        if table is not None:
            writer.writerow([neutralise(c.label) for c in table.columns])
            kinds = [(c.field, c.type) for c in table.columns]
            for row in data.datasets.get(table.dataset, []):
                writer.writerow([_cell(row.get(name), kind) for name, kind in kinds])
                count += 1
        else:
            dataset = next(
                (s.dataset for s in template.sections if s.kind in ("chart", "citations")), "rows"
            )
            rows = data.datasets.get(dataset, [])
            fields = sorted(data.fields_of(dataset) or ())
            writer.writerow([neutralise(f) for f in fields])
            for row in rows:
                writer.writerow([_cell(row.get(name), "text") for name in fields])
                count += 1
    finally:
        text.detach()  # leave `out` open for the caller
    return count
