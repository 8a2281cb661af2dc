"""The parse pipeline run in the current process: size check, detection, guards, parser.

The sandbox worker runs exactly this function inside its resource-limited child; calling
it directly skips only the process isolation (use it for benchmarks and trusted input).
"""

from __future__ import annotations

from dataclasses import replace

from agents.ingest.errors import (
    EmptyDocumentError,
    IngestError,
    MalformedError,
    MemoryLimitError,
    TooLargeError,
    UnsupportedFormatError,
)
from agents.ingest.sandbox.document import PAGE_SEPARATOR, PageText, ParsedDocument
from agents.ingest.sandbox.formats import detect_format
from agents.ingest.sandbox.limits import MIB, ParseLimits
from agents.ingest.sandbox.ooxml_guard import check_container
from agents.ingest.sandbox.parsers import parser_for
from agents.ingest.sandbox.textcodec import scrub

_LABELS = {
    "pdf": "PDF",
    "docx": "Word (DOCX)",
    "xlsx": "Excel (XLSX)",
    "csv": "CSV",
    "txt": "text",
    "markdown": "Markdown",
    "html": "HTML",
    "eml": "e-mail",
    "json": "JSON",
}


def parse_direct(
    data: bytes, filename: str | None, limits: ParseLimits | None = None
) -> ParsedDocument:
    """Parse a document in this process, with every check except process limits.

    `filename` only breaks ties between text formats; it is never opened or written.
    Raises an `IngestError` subclass on failure.
    """
    limits = limits or ParseLimits()
    check_input_size(data, limits)
    fmt = detect_format(data, filename)
    if fmt == "empty":
        raise EmptyDocumentError("The file is empty.")
    parse = parser_for(fmt)
    if parse is None:
        raise UnsupportedFormatError(_unsupported_message(fmt))
    try:
        if fmt in ("docx", "xlsx"):
            check_container(data, limits)
        document = parse(data)
    except IngestError:
        raise
    except MemoryError as exc:
        raise MemoryLimitError() from exc
    except RecursionError as exc:
        raise MalformedError(
            f"The {_LABELS[fmt]} file is nested too deeply to read safely."
        ) from exc
    except Exception as exc:  # whatever a library raises on bad bytes, the bytes are bad
        raise MalformedError(
            f"The file looks like {_LABELS[fmt]} but is damaged or incomplete.",
            detail=f"{type(exc).__name__}: {str(exc)[:200]}",
        ) from exc
    document = _scrubbed(document)
    if not document.text.strip() and not document.children:
        hint = (
            " (scanned pages need text recognition, which is not available)" if fmt == "pdf" else ""
        )
        raise EmptyDocumentError(f"The {_LABELS[fmt]} file contains no readable text{hint}.")
    return document


def _scrubbed(document: ParsedDocument) -> ParsedDocument:
    pages = [PageText(p.number, scrub(p.text)) for p in document.pages]
    return ParsedDocument(
        format=document.format,
        text=PAGE_SEPARATOR.join(p.text for p in pages),
        pages=pages,
        sections=[replace(s, title=scrub(s.title)) for s in document.sections],
        metadata={k: scrub(v) if isinstance(v, str) else v for k, v in document.metadata.items()},
        children=[replace(c, filename=scrub(c.filename)) for c in document.children],
    )


def check_input_size(data: bytes, limits: ParseLimits) -> None:
    """Refuse input above `limits.max_input_bytes` before any work is done on it."""
    if len(data) > limits.max_input_bytes:
        raise TooLargeError(
            f"The file is {len(data) / MIB:,.1f} MiB; the limit is "
            f"{limits.max_input_bytes / MIB:,.0f} MiB."
        )


def _unsupported_message(fmt: str) -> str:
    if fmt == "zip":
        return (
            "This archive type is not supported (supported: PDF, DOCX, XLSX, CSV, text, "
            "Markdown, HTML, e-mail, JSON)."
        )
    return (
        "This type of file is not supported (supported: PDF, DOCX, XLSX, CSV, text, "
        "Markdown, HTML, e-mail, JSON)."
    )
