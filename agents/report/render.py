"""One entry for every output format: a template and its data, written to a file."""

from dataclasses import dataclass, field
from typing import BinaryIO

from agents.report.dataset import ReportData, check_fields, expand_auto_columns
from agents.report.errors import InvalidReportRequest
from agents.report.limits import PdfLimits, XlsxLimits
from agents.report.template import FORMATS, Template

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class RenderLimits:
    pdf: PdfLimits = field(default_factory=PdfLimits)
    xlsx: XlsxLimits = field(default_factory=XlsxLimits)


def check_format(template: Template, fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidReportRequest(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if fmt not in template.formats:
        raise InvalidReportRequest(
            f"template {template.id!r} makes {', '.join(template.formats)}, not {fmt}"
        )


def render(
    template: Template,
    data: ReportData,
    fmt: str,
    out: BinaryIO,
    limits: RenderLimits | None = None,
    stamp: str = "",
) -> int | None:
    """Write the report; returns its pages (PDF) or None. Checks fields first."""
    limits = limits or RenderLimits()
    check_format(template, fmt)
    check_fields(template, data)
    template = expand_auto_columns(template, data)
    if fmt == "pdf":
        # each writer's library loads only when that format is made (ReportLab alone is
        # ~25 MB: a spreadsheet's peak memory stays smaller without it)
        from agents.report.pdf_writer import write_pdf

        return write_pdf(template, data, out, limits.pdf, stamp)
    if fmt == "xlsx":
        from agents.report.xlsx_writer import write_xlsx

        write_xlsx(template, data, out, limits.xlsx)
        return None
    from agents.report.csv_writer import write_csv

    write_csv(template, data, out)
    return None
