"""One parser per format: `parse(data: bytes) -> ParsedDocument`, bytes in, no paths.

Parsers raise `IngestError` subclasses for problems they recognise; anything else they
raise is turned into `malformed` by the pipeline (`agents.ingest.sandbox.direct`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from agents.ingest.sandbox.document import ParsedDocument

Parser = Callable[[bytes], ParsedDocument]

_MODULES = {
    "pdf": "pdf",
    "docx": "docx",
    "xlsx": "xlsx",
    "csv": "csv",
    "txt": "text",
    "markdown": "markdown",
    "html": "html",
    "eml": "eml",
    "json": "json",
}


def parser_for(fmt: str) -> Parser | None:
    """The parse function for a format name, or None if the format has no parser.

    Modules are imported on first use so that importing the ingest package stays cheap.
    """
    module = _MODULES.get(fmt)
    if module is None:
        return None
    parse: Parser = importlib.import_module(f"{__name__}.{module}").parse
    return parse


def preload() -> None:
    """Import every parser and its library now (a worker does this before taking work)."""
    for fmt in _MODULES:
        parser_for(fmt)
