"""The report suite's reference: ReportLab and openpyxl called directly on the same rows,
written as a careful programmer would without the appliance (same layout, same charts,
same number formats), so the ratio shows what the report path costs on top."""

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    LongTable,
    PageTemplate,
    Paragraph,
    TableStyle,
)

from agents.report.fonts import find_dejavu

_MARGIN = 18 * mm
_FONT = "BenchDirectSans"
HEADER = ["Day", "Customer", "Region", "Quantity", "Amount", "Share"]


def _font() -> str:
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        paths = find_dejavu()
        if paths is None:
            return "Helvetica"
        pdfmetrics.registerFont(TTFont(_FONT, str(paths[0])))
    return _FONT


def _sums(
    rows: list[dict[str, Any]], key: str, fields: list[str]
) -> tuple[list[str], list[list[float]]]:
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(fields))
    for row in rows:
        bucket = totals[row[key]]
        for i, name in enumerate(fields):
            bucket[i] += row[name]
    names = list(totals)[:40]
    return names, [[totals[n][i] for n in names] for i in range(len(fields))]


def _drawing(
    kind: str, rows: list[dict[str, Any]], key: str, fields: list[str], font: str, width: float
) -> Drawing:
    names, values = _sums(rows, key, fields)
    drawing = Drawing(width, 230)
    if kind == "pie":
        pie = Pie()
        pie.x, pie.y, pie.width, pie.height = 20, 15, 180, 180
        pie.data, pie.labels = values[0], names
        pie.slices.fontName = font
        drawing.add(pie)
        return drawing
    chart = HorizontalLineChart() if kind == "line" else VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 45, width - 170, 150
    chart.data = [tuple(v) for v in values]
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = font
    chart.valueAxis.labels.fontName = font
    if len(names) > 8:
        chart.categoryAxis.labels.angle = 35
    if kind == "stacked_bar":
        chart.categoryAxis.style = "stacked"
    drawing.add(chart)
    return drawing


def direct_pdf(rows: list[dict[str, Any]], target: Path) -> int:
    """The PDF of the benchmark with ReportLab alone; returns its pages."""
    font = _font()
    width = A4[0] - 2 * _MARGIN
    title = ParagraphStyle("t", fontName=font, fontSize=18, leading=22)
    body = ParagraphStyle("b", fontName=font, fontSize=10, leading=13)
    story: list[Any] = [
        Paragraph("Sales benchmark", title),
        Paragraph("Generated rows for the <b>report</b> benchmark.", body),
    ]
    for kind, key, fields in (
        ("bar", "region", ["amount"]),
        ("line", "day", ["quantity"]),
        ("pie", "region", ["quantity"]),
        ("stacked_bar", "region", ["amount", "quantity"]),
    ):
        story.append(_drawing(kind, rows, key, fields, font, width))
    data: list[list[Any]] = [HEADER]
    cell = ParagraphStyle("c", fontName=font, fontSize=8, leading=10)
    for row in rows:
        customer = row["customer"]
        data.append(
            [
                dt.date.fromisoformat(row["day"]).isoformat(),
                # long names wrap, as in the report path
                Paragraph(escape(customer), cell) if len(customer) > 27 else customer,
                row["region"],
                f"{row['quantity']:,}",
                f"€{row['amount']:,.2f}",
                f"{row['share'] * 100:.1f}%",
            ]
        )
    weights = [1.6, 3, 3, 1.4, 1.4, 1.4]
    table = LongTable(data, colWidths=[width * w / sum(weights) for w in weights], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eefc")),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f8fb")]),
                ("ALIGN", (3, 1), (-1, -1), "RIGHT"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    story.append(table)
    pages = [0]

    def decorate(canvas: Any, doc: Any) -> None:
        pages[0] = doc.page
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(_MARGIN, A4[1] - _MARGIN + 10, "Sales benchmark")
        canvas.drawRightString(A4[0] - _MARGIN, _MARGIN - 16, f"Page {doc.page}")
        canvas.restoreState()

    doc = BaseDocTemplate(
        str(target),
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN + 6,
        bottomMargin=_MARGIN,
    )
    frame = Frame(_MARGIN, _MARGIN, width, A4[1] - 2 * _MARGIN - 6)
    doc.addPageTemplates([PageTemplate(frames=[frame], onPage=decorate)])
    doc.build(story)
    return pages[0]


def direct_xlsx(rows: list[dict[str, Any]], target: Path) -> None:
    """The XLSX of the benchmark with openpyxl's write-only mode alone."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sales")
    for letter, width in zip("ABCDEF", (12, 36, 36, 12, 14, 10), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:F{len(rows) + 1}"
    header = []
    for name in HEADER:
        cell = WriteOnlyCell(ws, name)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    formats = ["yyyy-mm-dd", None, None, "#,##0", '"€"#,##0.00;-"€"#,##0.00', "0.0%"]
    cells = []
    for fmt in formats:
        cell = WriteOnlyCell(ws)
        if fmt:
            cell.number_format = fmt
        cells.append(cell)
    day, _, _, quantity, amount, share = cells
    for row in rows:
        day.value = dt.date.fromisoformat(row["day"])
        quantity.value, amount.value, share.value = row["quantity"], row["amount"], row["share"]
        ws.append([day, row["customer"], row["region"], quantity, amount, share])
    chart_ws = wb.create_sheet("Amount by region")
    names, values = _sums(rows, "region", ["amount"])
    chart_ws.append(["region", "amount"])
    for name, value in zip(names, values[0], strict=True):
        chart_ws.append([name, value])
    chart = BarChart()
    chart.add_data(
        Reference(chart_ws, min_col=2, min_row=1, max_row=len(names) + 1), titles_from_data=True
    )
    chart.set_categories(Reference(chart_ws, min_col=1, min_row=2, max_row=len(names) + 1))
    chart_ws.add_chart(chart, "D2")
    wb.save(target)
