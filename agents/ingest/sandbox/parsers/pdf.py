"""PDF via pypdf, one `PageText` per page, bookmarks as sections."""

from __future__ import annotations

import logging
from io import BytesIO
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError
from pypdf.generic import Destination

from agents.ingest.errors import EncryptedPdfError, MalformedError
from agents.ingest.sandbox.document import PAGE_SEPARATOR, PageText, ParsedDocument, Section

# pypdf reports every repair it makes on damaged files as a log warning; those are
# expected here and would otherwise flood the appliance log.
logging.getLogger("pypdf").setLevel(logging.ERROR)

_INFO_KEYS = {
    "/Title": "title",
    "/Author": "author",
    "/Subject": "subject",
    "/Keywords": "keywords",
    "/Creator": "creator",
    "/Producer": "producer",
    "/CreationDate": "created",
    "/ModDate": "modified",
}


def parse(data: bytes) -> ParsedDocument:
    """Extract the text of every page, keeping page numbers."""
    reader = PdfReader(BytesIO(data), strict=False)
    _unlock(reader)
    pages = list(reader.pages)
    texts: list[str] = []
    failed = 0
    for page in pages:
        try:
            texts.append(_clean(page.extract_text()))
        except (RecursionError, MemoryError):
            raise
        except Exception:  # noqa: BLE001 - one broken page must not cost the others
            texts.append("")
            failed += 1
    if pages and failed == len(pages):
        raise MalformedError("The PDF is damaged: none of its pages could be read.")
    page_texts = [PageText(number, text) for number, text in enumerate(texts, start=1)]
    starts = _page_offsets(texts)
    metadata = _metadata(reader)
    metadata["page_count"] = len(pages)
    if failed:
        metadata["unreadable_pages"] = failed
    return ParsedDocument(
        format="pdf",
        text=PAGE_SEPARATOR.join(texts),
        pages=page_texts,
        sections=_bookmarks(reader, starts),
        metadata=metadata,
    )


def _unlock(reader: PdfReader) -> None:
    if not reader.is_encrypted:
        return
    # Many "protected" PDFs only restrict printing or copying and open with an empty
    # password; only a real user password stops us.
    try:
        if reader.decrypt("") == 0:
            raise EncryptedPdfError()
    except (DependencyError, FileNotDecryptedError, NotImplementedError) as exc:
        raise EncryptedPdfError(
            "The PDF is encrypted in a way this appliance cannot open."
        ) from exc


def _clean(text: str) -> str:
    return text.replace("\x00", "").strip()


def _page_offsets(texts: list[str]) -> list[int]:
    offsets, at = [], 0
    for text in texts:
        offsets.append(at)
        at += len(text) + len(PAGE_SEPARATOR)
    return offsets


def _metadata(reader: PdfReader) -> dict[str, str | int]:
    try:
        info = reader.metadata
        items = {key: info.get(key) for key in _INFO_KEYS} if info else {}
    except Exception:  # noqa: BLE001 - a broken info dictionary is not worth failing for
        return {}
    metadata: dict[str, str | int] = {}
    for key, name in _INFO_KEYS.items():
        value = items.get(key)
        if value is not None and str(value).strip():
            metadata[name] = str(value).strip()[:1000]
    return metadata


def _bookmarks(reader: PdfReader, starts: list[int]) -> list[Section]:
    sections: list[Section] = []
    try:
        _walk_outline(reader, reader.outline, 1, starts, sections)
    except Exception:  # noqa: BLE001 - bookmarks are optional; a broken outline is ignored
        return sections
    return sections


def _walk_outline(
    reader: PdfReader, items: list[Any], level: int, starts: list[int], out: list[Section]
) -> None:
    for item in items:
        if isinstance(item, list):
            _walk_outline(reader, item, level + 1, starts, out)
        elif isinstance(item, Destination):
            index = reader.get_destination_page_number(item)
            if index is None or not 0 <= index < len(starts):
                continue
            title = str(item.title or "").strip()
            if title:
                out.append(Section(title, level, index + 1, starts[index]))
