"""Plain text with its encoding detected."""

from __future__ import annotations

from agents.ingest.sandbox.document import ParsedDocument, single_page
from agents.ingest.sandbox.textcodec import decode_text


def parse(data: bytes) -> ParsedDocument:
    """Decode the text; newlines are normalised to `\\n`."""
    text, encoding = decode_text(data)
    return single_page("txt", text.strip(), metadata={"encoding": encoding})
