"""PDF output with ReportLab platypus: header and footer on every page, page numbers,
long tables across pages with the header row repeated, vector charts, embedded DejaVu.

Memory stays bounded by refusing (`too_large`) tables above `PdfLimits.max_rows` before
anything is laid out, and documents that would run past `max_pages` while they are.
"""

from collections.abc import Callable
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    ListFlowable,
    ListItem,
    LongTable,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from agents.report import markdown
from agents.report.cells import display
from agents.report.chart_data import chart_data
from agents.report.dataset import ReportData
from agents.report.errors import TooLargeError
from agents.report.figures import figure_value
from agents.report.fonts import FontSet, report_fonts, script_names
from agents.report.limits import PdfLimits
from agents.report.pdf_charts import draw_chart
from agents.report.template import Column, Section, Template

_MARGIN = 18 * mm
_NUMERIC = ("number", "integer", "currency", "percent")
_WEIGHTS = {"text": 3.0, "date": 1.6}
_HEADER_BG = colors.HexColor("#e8eefc")
_ZEBRA = colors.HexColor("#f6f8fb")


class _Glyphs:
    """Replaces characters the font cannot draw and remembers them for the closing note."""

    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts
        self.missing: set[str] = set()

    def clean(self, text: str) -> str:
        if text.isascii():
            return text
        absent = self.fonts.missing_glyphs(text)
        if not absent:
            return text
        self.missing |= absent
        return "".join("?" if c in absent else c for c in text)


class _Styles:
    def __init__(self, fonts: FontSet) -> None:
        base = {"fontName": fonts.regular, "leading": 13, "fontSize": 10}
        self.body = ParagraphStyle("body", **base, spaceAfter=5)
        self.title = ParagraphStyle(
            "title", fontName=fonts.bold, fontSize=18, leading=22, spaceAfter=6
        )
        # a heading stays on the page of what it introduces
        self.h = [
            ParagraphStyle(
                f"h{n}",
                fontName=fonts.bold,
                fontSize=size,
                leading=size + 3,
                spaceBefore=8,
                spaceAfter=4,
                keepWithNext=1,
            )
            for n, size in ((1, 15), (2, 13), (3, 11))
        ]
        self.small = ParagraphStyle("small", fontName=fonts.regular, fontSize=8, leading=10)
        self.cell = ParagraphStyle("cell", fontName=fonts.regular, fontSize=8, leading=10)
        self.figure = ParagraphStyle(
            "figure", fontName=fonts.bold, fontSize=16, leading=19, alignment=1
        )
        self.figure_label = ParagraphStyle(
            "figlabel", fontName=fonts.regular, fontSize=8, leading=10, alignment=1
        )
        self.right = ParagraphStyle("right", parent=self.cell, alignment=TA_RIGHT)


class PdfBuilder:
    """Builds the flowables of one report; `write` lays them out into `out`."""

    def __init__(self, template: Template, data: ReportData, limits: PdfLimits) -> None:
        self.template, self.data, self.limits = template, data, limits
        self.fonts = report_fonts()
        self.glyphs = _Glyphs(self.fonts)
        self.styles = _Styles(self.fonts)
        self.width = A4[0] - 2 * _MARGIN

    def _para(self, markup_text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(markup_text, style)

    def _text(self, text: str) -> str:
        return escape(self.glyphs.clean(text))

    def check_size(self) -> None:
        rows = sum(
            len(self.data.datasets.get(s.dataset, []))
            for s in self.template.sections
            if s.kind == "table"
        )
        if rows > self.limits.max_rows:
            raise TooLargeError(
                f"the tables have {rows:,} rows; a PDF report holds at most "
                f"{self.limits.max_rows:,} (choose XLSX or CSV for more)"
            )

    def flowables(self) -> list[Flowable]:
        values = self.data.values
        story: list[Flowable] = [
            self._para(self._text(markdown.fill(self.template.title, values)), self.styles.title)
        ]
        for section in self.template.sections:
            if section.title:
                title = self._text(markdown.fill(section.title, values))
                story.append(self._para(title, self.styles.h[1]))
            story += self._section(section)
        if self.glyphs.missing:
            scripts = ", ".join(script_names(self.glyphs.missing))
            story.append(Spacer(1, 8))
            story.append(
                self._para(
                    f"<b>Note:</b> {len(self.glyphs.missing)} distinct characters "
                    f"({escape(scripts)}) have no glyph in the embedded font and are shown as '?'.",
                    self.styles.small,
                )
            )
        return story

    def _section(self, section: Section) -> list[Flowable]:
        if section.kind == "text":
            return self._markdown(markdown.fill(section.text, self.data.values))
        if section.kind == "table":
            return [self._table(section), Spacer(1, 6)]
        if section.kind == "chart":
            rows = self.data.datasets.get(section.dataset, [])
            data = chart_data(section, rows)
            data = type(data)(
                [self.glyphs.clean(c) for c in data.categories],
                [self.glyphs.clean(label) for label in data.labels],
                data.values,
            )
            return [
                draw_chart(section.chart, "", data, self.width, self.fonts.regular),
                Spacer(1, 6),
            ]
        if section.kind == "figures":
            return [self._figures(section), Spacer(1, 6)]
        return self._citations(section)

    def _markdown(self, text: str) -> list[Flowable]:
        out: list[Flowable] = []
        for block in markdown.parse(self.glyphs.clean(text)):
            if block.kind == "heading":
                style = self.styles.h[min(block.level, 3) - 1]
                out.append(self._para(markdown.to_reportlab(block.lines[0]), style))
            elif block.kind == "paragraph":
                out.append(self._para(markdown.to_reportlab(block.lines[0]), self.styles.body))
            else:
                items = [
                    ListItem(self._para(markdown.to_reportlab(line), self.styles.body))
                    for line in block.lines
                ]
                kind = "bullet" if block.kind == "bullets" else "1"
                out.append(
                    ListFlowable(
                        items,
                        bulletType=kind,
                        bulletFontName=self.fonts.regular,
                        bulletFontSize=9,
                        leftIndent=14,
                    )
                )
        return out

    def _widths(self, columns: tuple[Column, ...]) -> list[float]:
        weights = [c.width or _WEIGHTS.get(c.type, 1.4) for c in columns]
        total = sum(weights)
        return [self.width * w / total for w in weights]

    def _table(self, section: Section) -> Flowable:
        columns = section.columns
        widths = self._widths(columns)
        limit = self.limits.max_cell_chars
        # text longer than about one line of its column wraps (a Paragraph); the rest
        # stays a plain string, which lays out far faster
        capacity = [max(4, int(w / 4.4)) for w in widths]
        # a label wraps only when it must: Paragraph cells in the repeated header row cost
        # layout time on every page
        header: list[Any] = [
            self._para(f"<b>{self._text(c.label)}</b>", self.styles.cell)
            if len(c.label) > capacity[i]
            else self.glyphs.clean(c.label)
            for i, c in enumerate(columns)
        ]
        body: list[list[Any]] = [header]
        clean = self.glyphs.clean
        for row in self.data.datasets.get(section.dataset, []):
            cells: list[Any] = []
            for i, column in enumerate(columns):
                text = clean(
                    display(row.get(column.field), column.type, column.decimals, column.currency)
                )
                if len(text) > limit:
                    text = text[: limit - 1] + "…"
                if len(text) > capacity[i] and column.type not in _NUMERIC:
                    cells.append(Paragraph(escape(text), self.styles.cell))
                else:
                    cells.append(text)
            body.append(cells)
        if len(body) == 1:
            body.append(["(no rows)"] + [""] * (len(columns) - 1))
        table = LongTable(body, colWidths=widths, repeatRows=1)
        commands: list[tuple[Any, ...]] = [
            ("FONT", (0, 0), (-1, -1), self.fonts.regular, 8),
            ("FONT", (0, 0), (-1, 0), self.fonts.bold, 8),
            ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BG),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#7a8db8")),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, _ZEBRA]),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        for i, column in enumerate(columns):
            if column.type in _NUMERIC:
                commands.append(("ALIGN", (i, 1), (i, -1), "RIGHT"))
        table.setStyle(TableStyle(commands))
        return table

    def _figures(self, section: Section) -> Flowable:
        cells: list[Any] = []
        for figure in section.figures:
            value = figure_value(figure, self.data)
            shown = display(value, figure.type, figure.decimals, figure.currency) or "-"
            cells.append(
                [
                    self._para(self._text(shown), self.styles.figure),
                    self._para(self._text(figure.label), self.styles.figure_label),
                ]
            )
        per_row = min(4, len(cells))
        grid: list[list[Any]] = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
        if len(grid) > 1 and len(grid[-1]) < per_row:
            grid[-1] += [""] * (per_row - len(grid[-1]))
        table = Table(grid, colWidths=[self.width / per_row] * per_row)
        table.setStyle(
            TableStyle(
                [
                    ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#c5cee0")),
                    ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#c5cee0")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return table

    def _citations(self, section: Section) -> list[Flowable]:
        out: list[Flowable] = []
        for number, row in enumerate(self.data.datasets.get(section.dataset, []), 1):
            document = self._text(display(row.get(section.document), "text"))
            page = display(row.get(section.page), "text")
            quote = self._text(display(row.get(section.quote), "text")[:1000])
            where = f"{document}, page {escape(page)}" if page else document
            out.append(
                KeepTogether(
                    [
                        self._para(
                            f"<b>[{number}]</b> {where}<br/><i>“{quote}”</i>", self.styles.body
                        )
                    ]
                )
            )
        if not out:
            out.append(self._para("(no citations)", self.styles.body))
        return out


def _page_decorator(
    title: str, stamp: str, font: str, limits: PdfLimits, pages: list[int]
) -> Callable[[Any, Any], None]:
    def decorate(canvas: Any, doc: Any) -> None:
        pages[0] = doc.page
        if doc.page > limits.max_pages:
            raise TooLargeError(f"the report runs past {limits.max_pages:,} pages")
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        top = A4[1] - _MARGIN + 10
        canvas.drawString(_MARGIN, top, title[:90])
        canvas.drawRightString(A4[0] - _MARGIN, top, stamp)
        canvas.line(_MARGIN, top - 3, A4[0] - _MARGIN, top - 3)
        canvas.drawString(_MARGIN, _MARGIN - 16, "Agent Appliance report")
        canvas.drawRightString(A4[0] - _MARGIN, _MARGIN - 16, f"Page {doc.page}")
        canvas.restoreState()

    return decorate


def write_pdf(
    template: Template, data: ReportData, out: BinaryIO, limits: PdfLimits, stamp: str
) -> int:
    """Render the report as PDF into `out`; returns the number of pages."""
    builder = PdfBuilder(template, data, limits)
    builder.check_size()
    story = builder.flowables()
    title = builder.glyphs.clean(markdown.fill(template.title, data.values))
    doc = BaseDocTemplate(
        out,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN + 6,
        bottomMargin=_MARGIN,
        title=title,
        author="Agent Appliance",
        creator="Agent Appliance",
    )
    frame = Frame(_MARGIN, _MARGIN, builder.width, A4[1] - 2 * _MARGIN - 6, id="body")
    pages = [0]
    decorate = _page_decorator(title, stamp, builder.fonts.regular, limits, pages)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    doc.build(story)
    return pages[0]
