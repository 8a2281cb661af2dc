"""The result of parsing one document, and its wire form between the sandbox and its caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MetadataValue = str | int


@dataclass(frozen=True)
class PageText:
    """The text of one page; `number` counts from 1 as people do."""

    number: int
    text: str


@dataclass(frozen=True)
class Section:
    """A heading, PDF bookmark or spreadsheet sheet.

    `offset` is the index in `ParsedDocument.text` where the section starts, so a chunker
    can tell which section a chunk belongs to; `page` is the page it starts on (1 for
    formats without pages); `level` is 1 for top-level headings and sheets, 0 for a title.
    """

    title: str
    level: int
    page: int
    offset: int


@dataclass(frozen=True)
class ChildDocument:
    """A document found inside another one, such as a mail attachment.

    `filename` comes from the sender: show it, store it, but never use it as a path.
    """

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class ParsedDocument:
    """Text and metadata of one parsed document.

    `text` is the whole document; it equals the page texts joined by `PAGE_SEPARATOR`.
    """

    format: str
    text: str
    pages: list[PageText]
    sections: list[Section] = field(default_factory=list)
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    children: list[ChildDocument] = field(default_factory=list)

    @property
    def page_count(self) -> int:
        """How many pages the document has (1 for formats without pages)."""
        return len(self.pages)


PAGE_SEPARATOR = "\n\n"


def single_page(
    fmt: str,
    text: str,
    sections: list[Section] | None = None,
    metadata: dict[str, MetadataValue] | None = None,
    children: list[ChildDocument] | None = None,
) -> ParsedDocument:
    """A `ParsedDocument` for a format without pages: the whole text is page 1."""
    return ParsedDocument(
        format=fmt,
        text=text,
        pages=[PageText(1, text)],
        sections=sections or [],
        metadata=metadata or {},
        children=children or [],
    )


def to_wire(doc: ParsedDocument) -> tuple[dict[str, Any], list[bytes]]:
    """A JSON-able header plus the child contents, kept apart so bytes are not re-encoded."""
    header = {
        "format": doc.format,
        "pages": [[p.number, p.text] for p in doc.pages],
        "sections": [[s.title, s.level, s.page, s.offset] for s in doc.sections],
        "metadata": doc.metadata,
        "children": [[c.filename, c.content_type] for c in doc.children],
    }
    return header, [c.content for c in doc.children]


def from_wire(header: dict[str, Any], blobs: list[bytes]) -> ParsedDocument:
    """Rebuild a document from `to_wire` output, checking every type.

    The sender is a process that just read hostile bytes, so its answer is validated
    rather than trusted; any mismatch raises `ValueError`.
    """
    fmt = _typed(header.get("format"), str)
    pages = [PageText(_typed(n, int), _typed(t, str)) for n, t in _rows(header, "pages", 2)]
    sections = [
        Section(_typed(t, str), _typed(lv, int), _typed(pg, int), _typed(off, int))
        for t, lv, pg, off in _rows(header, "sections", 4)
    ]
    metadata_raw = _typed(header.get("metadata"), dict)
    metadata: dict[str, MetadataValue] = {}
    for key, value in metadata_raw.items():
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ValueError(f"metadata {key!r} has type {type(value).__name__}")
        metadata[_typed(key, str)] = value
    child_rows = _rows(header, "children", 2)
    if len(child_rows) != len(blobs):
        raise ValueError("child count does not match the attached contents")
    children = [
        ChildDocument(_typed(name, str), blob, _typed(ctype, str))
        for (name, ctype), blob in zip(child_rows, blobs, strict=True)
    ]
    text = PAGE_SEPARATOR.join(p.text for p in pages)
    return ParsedDocument(fmt, text, pages, sections, metadata, children)


def _rows(header: dict[str, Any], key: str, width: int) -> list[list[Any]]:
    rows = _typed(header.get(key), list)
    for row in rows:
        if not isinstance(row, list) or len(row) != width:
            raise ValueError(f"{key} rows must be lists of {width}")
    return rows


def _typed(value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value
