"""The Markdown subset of text sections: headings, paragraphs, lists, bold and links.

Parsed into blocks of spans, so each writer renders it its own way (ReportLab paragraph
markup, plain lines in spreadsheets) and no markup from the text reaches ReportLab
unescaped. Links keep only http, https and mailto targets.
"""

import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from agents.report.cells import plain
from agents.report.template import PLACEHOLDER

_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_INLINE = re.compile(r"\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)")
_SAFE_LINK = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    text: str
    bold: bool = False
    href: str | None = None


@dataclass(frozen=True)
class Block:
    kind: str  # "heading" | "paragraph" | "bullets" | "numbered"
    lines: tuple[tuple[Span, ...], ...]
    level: int = 0


def fill(text: str, values: dict[str, Any]) -> str:
    """Replace `{{ name }}` with the value's text (names were checked beforehand)."""
    return PLACEHOLDER.sub(lambda m: plain(values.get(m.group(1), "")), text)


def spans(text: str) -> tuple[Span, ...]:
    out: list[Span] = []
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            out.append(Span(text[position : match.start()]))
        if match.group(1) is not None:
            out.append(Span(match.group(1), bold=True))
        else:
            target = match.group(3)
            out.append(Span(match.group(2), href=target if _SAFE_LINK.match(target) else None))
        position = match.end()
    if position < len(text):
        out.append(Span(text[position:]))
    return tuple(out)


def parse(text: str) -> list[Block]:
    """Blocks of the text: a blank line ends a paragraph; list items are one line each."""
    blocks: list[Block] = []
    paragraph: list[str] = []
    items: list[tuple[Span, ...]] = []
    list_kind = ""

    def flush() -> None:
        nonlocal items, list_kind
        if paragraph:
            blocks.append(Block("paragraph", (spans(" ".join(paragraph)),)))
            paragraph.clear()
        if items:
            blocks.append(Block(list_kind, tuple(items)))
            items, list_kind = [], ""

    for raw in text.splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line)
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            blocks.append(Block("heading", (spans(heading.group(2)),), len(heading.group(1))))
        elif bullet or numbered:
            kind = "bullets" if bullet else "numbered"
            if paragraph or (items and list_kind != kind):
                flush()
            list_kind = kind
            items.append(spans((bullet or numbered).group(1)))  # type: ignore[union-attr]
        elif items:
            flush()
            paragraph.append(line.strip())
        else:
            paragraph.append(line.strip())
    flush()
    return blocks


def to_reportlab(line: tuple[Span, ...]) -> str:
    """ReportLab paragraph markup; every piece of text is escaped."""
    parts = []
    for span in line:
        text = escape(span.text)
        if span.bold:
            text = f"<b>{text}</b>"
        if span.href:
            text = f'<a href={quoteattr(span.href)} color="#1a56db"><u>{text}</u></a>'
        parts.append(text)
    return "".join(parts)


def to_plain(line: tuple[Span, ...]) -> str:
    """The line as text; a link shows its target after its label."""
    return "".join(f"{s.text} ({s.href})" if s.href else s.text for s in line)


def plain_lines(blocks: list[Block]) -> list[str]:
    """One text line per heading, paragraph or list item (for spreadsheets)."""
    lines: list[str] = []
    for block in blocks:
        for i, line in enumerate(block.lines, 1):
            prefix = (
                "- " if block.kind == "bullets" else f"{i}. " if block.kind == "numbered" else ""
            )
            lines.append(prefix + to_plain(line))
    return lines
