"""Markdown kept as written (it reads well as text), with ATX and setext headings as sections."""

from __future__ import annotations

import re

from agents.ingest.sandbox.document import ParsedDocument, Section, single_page
from agents.ingest.sandbox.textcodec import decode_text

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def parse(data: bytes) -> ParsedDocument:
    """Decode the text and list its headings; `#` lines inside code fences are not headings."""
    raw, encoding = decode_text(data)
    text = raw.strip()
    sections = _headings(text)
    metadata: dict[str, str | int] = {"encoding": encoding}
    top = [s.title for s in sections if s.level == 1]
    if top:
        metadata["title"] = top[0][:1000]
    return single_page("markdown", text, sections, metadata)


def _headings(text: str) -> list[Section]:
    sections: list[Section] = []
    offset = 0
    fence: str | None = None
    previous: tuple[int, str] | None = None  # offset and text of the last plain line
    for line in text.split("\n"):
        fence_match = _FENCE.match(line)
        if fence_match:
            marker = fence_match.group(1)
            fence = None if fence == marker else (fence or marker)
        elif fence is None:
            atx = _ATX.match(line)
            setext = _SETEXT.match(line)
            if atx:
                sections.append(Section(atx.group(2), len(atx.group(1)), 1, offset))
            elif setext and previous is not None:
                level = 1 if setext.group(1).startswith("=") else 2
                sections.append(Section(previous[1].strip(), level, 1, previous[0]))
            previous = (offset, line) if line.strip() and not (atx or setext) else None
        offset += len(line) + 1
    return sections
