"""Ingestion, parsing half: untrusted bytes in, text and metadata out, safely.

Contract (other packages rely on these names):

    parse_in_sandbox(data: bytes, filename: str | None, limits: ParseLimits | None = None)
        -> ParsedDocument                                    (agents.ingest.sandbox.pool)
        Parses in a warm, resource-limited worker process. Use this for anything that
        came from outside. `SandboxPool(max_workers=None, max_documents_per_worker=2000)`
        is the same with an owner-managed pool: `pool.parse(data, filename, limits)`,
        `pool.warm_up(limits, count)`, `pool.network_isolated()`, `pool.close()`.
    parse_direct(data, filename, limits=None) -> ParsedDocument    (agents.ingest.sandbox.direct)
        The same pipeline in the calling process, without process limits: for
        benchmarks and trusted input.
    detect_format(head: bytes, filename: str | None) -> str        (agents.ingest.sandbox.formats)
        One of "pdf", "docx", "xlsx", "csv", "txt", "markdown", "html", "eml", "json",
        "zip" (any other zip, e.g. PPTX or ODT), "unknown", "empty". Decided from the
        bytes; the name only chooses between csv, markdown and txt readings of text.
    find_sample_documents(limit) -> list[(name, bytes)]           (bench.ingest_corpus)
        distinct real files from /usr/share/doc, site-packages and Python's email test
        messages, round-robin over detected formats, for `appliance bench ingest`.
    ParseLimits (frozen dataclass, agents.ingest.sandbox.limits): wall_seconds=60.0,
        cpu_seconds=60, memory_bytes=1 GiB, max_input_bytes=100 MiB,
        max_unzipped_bytes=512 MiB, max_zip_entries=10_000.

ParsedDocument (frozen dataclass, agents.ingest.sandbox.document):
    format: str                   a supported value of detect_format
    text: str                     the whole text; == "\\n\\n".join(p.text for p in pages)
    pages: list[PageText]         PageText(number: int from 1, text: str); PDFs have one
                                  per page, every other format exactly one
    sections: list[Section]       Section(title, level, page, offset): PDF bookmarks, DOCX/
                                  HTML/Markdown headings (level 1-6, 0 = document title),
                                  XLSX sheets (level 1, one per worksheet); `offset` indexes
                                  into `text`
    metadata: dict[str, str|int]  what the format offers, e.g. title, author, subject,
                                  created, modified, page_count (PDF), sheet_names and
                                  sheet_count (XLSX), encoding (text formats), delimiter and
                                  row_count (CSV), from/to/cc/date/subject/message_id (EML)
    children: list[ChildDocument] ChildDocument(filename, content: bytes, content_type):
                                  mail attachments and attached messages, for the caller to
                                  ingest as documents of their own. `filename` is a display
                                  name chosen by the sender: never use it as a path.

Errors (agents.ingest.errors): every failure is an `IngestError` with `status_code`
(HTTP), `code` (stable, machine-readable), a message in plain words (`str(error)`) and
`detail` (technical, for logs only):
    timeout        wall or CPU time limit hit; the worker was killed
    too_large      input over max_input_bytes, or a container over its unzipped size or
                   entry count (zip bombs)
    malformed      damaged, truncated or inconsistent file
    encrypted_pdf  PDF needs a password
    unsupported    not a supported format (the caller stores it as `unsupported`)
    empty          no bytes, or no readable text and no attachments
    forbidden_xml  an OOXML part declares a DOCTYPE/ENTITY (entity bombs, XXE)
    memory_limit   the parse needed more than memory_bytes
    crashed        the worker died (signal, killed) or answered nonsense

File names from outside are never used as paths: parsing works on bytes in memory, and
the worker runs in its own empty scratch directory with writes to files disabled.
"""

from agents.ingest.errors import IngestError
from agents.ingest.sandbox.document import ChildDocument, PageText, ParsedDocument, Section
from agents.ingest.sandbox.formats import FORMATS, SUPPORTED_FORMATS, detect_format
from agents.ingest.sandbox.limits import ParseLimits

__all__ = [
    "FORMATS",
    "SUPPORTED_FORMATS",
    "ChildDocument",
    "IngestError",
    "PageText",
    "ParseLimits",
    "ParsedDocument",
    "Section",
    "detect_format",
]
