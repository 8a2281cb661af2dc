"""DOCX via python-docx: paragraphs and tables in document order, headings as sections."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO

import docx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from agents.ingest.sandbox.document import ParsedDocument, single_page
from agents.ingest.sandbox.parsers._layout import TextBuilder

_HEADING = re.compile(r"heading\s*(\d)", re.IGNORECASE)
_CORE_FIELDS = ("title", "author", "subject", "keywords", "category", "last_modified_by")


def parse(data: bytes) -> ParsedDocument:
    """Extract body text, tables as `a | b | c` rows, and headings as sections."""
    document = docx.Document(BytesIO(data))
    out = TextBuilder()
    tables = 0
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            _paragraph(block, out)
        elif isinstance(block, Table):
            tables += 1
            _table(block, out)
    metadata = _metadata(document)
    if "title" not in metadata:
        titles = [s.title for s in out.sections if s.level == 0]
        if titles:
            metadata["title"] = titles[0]
    metadata["table_count"] = tables
    return single_page("docx", out.text(), out.sections, metadata)


def _paragraph(paragraph: Paragraph, out: TextBuilder) -> None:
    text = paragraph.text.strip()
    if not text:
        return
    level = _heading_level(paragraph)
    if level is None:
        out.line(text)
    else:
        out.heading(text, level)


def _heading_level(paragraph: Paragraph) -> int | None:
    style = paragraph.style
    name = (style.name or "") if style is not None else ""
    if name.lower() == "title":
        return 0
    match = _HEADING.match(name)
    return int(match.group(1)) if match else None


def _table(table: Table, out: TextBuilder) -> None:
    out.blank()
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # A merged cell is reported once per grid column it spans; keep it once.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            out.line(" | ".join(cells))
    out.blank()


def _metadata(document: DocxDocument) -> dict[str, str | int]:
    props = document.core_properties
    metadata: dict[str, str | int] = {}
    for name in _CORE_FIELDS:
        value = getattr(props, name, None)
        if value:
            metadata[name] = str(value).strip()[:1000]
    for name in ("created", "modified"):
        value = getattr(props, name, None)
        if isinstance(value, datetime):
            metadata[name] = value.isoformat()
    return metadata
