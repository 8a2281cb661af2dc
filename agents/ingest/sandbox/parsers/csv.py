"""CSV/TSV: encoding and delimiter detected, rows rendered as `a | b | c`."""

from __future__ import annotations

import csv
import io
from collections import Counter

from agents.ingest.errors import MalformedError
from agents.ingest.sandbox.document import ParsedDocument, single_page
from agents.ingest.sandbox.textcodec import decode_text

_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64 * 1024


def parse(data: bytes) -> ParsedDocument:
    """Read all rows; the first row is reported as the header when it looks like one."""
    text, encoding = decode_text(data)
    dialect = _dialect(text)
    try:
        rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(row)]
    except csv.Error as exc:
        raise MalformedError(f"The CSV file cannot be read: {exc}.") from exc
    lines = [" | ".join(cell.strip() for cell in row) for row in rows]
    metadata: dict[str, str | int] = {
        "encoding": encoding,
        "delimiter": dialect.delimiter,
        "row_count": len(rows),
        "column_count": Counter(len(row) for row in rows).most_common(1)[0][0] if rows else 0,
    }
    if rows and _has_header(rows, text):
        metadata["columns"] = " | ".join(cell.strip() for cell in rows[0])[:1000]
    return single_page("csv", "\n".join(lines), metadata=metadata)


def _dialect(text: str) -> type[csv.Dialect]:
    sample = _sample(text)
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        pass
    # The sniffer gives up on irregular files; the delimiter that appears most evenly
    # across lines is a good second opinion.
    lines = sample.splitlines()[:50]
    best, best_score = ",", 0
    for delimiter in _DELIMITERS:
        counts = Counter(line.count(delimiter) for line in lines if line.strip())
        if counts:
            width, seen = counts.most_common(1)[0]
            if width and seen * width > best_score:
                best, best_score = delimiter, seen * width

    class Fallback(csv.excel):
        delimiter = best

    return Fallback


def _has_header(rows: list[list[str]], text: str) -> bool:
    # The sniffer's vote fails on rows of uneven width; a first row of distinct labels
    # without digits above a column of numbers or dates is a header too.
    first, rest = rows[0], rows[1:51]
    if rest and all(cell.strip() for cell in first) and len(set(first)) == len(first):
        if not any(ch.isdigit() for cell in first for ch in cell):
            for column in range(len(first)):
                values = [row[column] for row in rest if len(row) > column and row[column]]
                digits = sum(any(ch.isdigit() for ch in value) for value in values)
                if values and digits >= 0.5 * len(values):
                    return True
    try:
        return csv.Sniffer().has_header(_sample(text))
    except csv.Error:
        return False


def _sample(text: str) -> str:
    if len(text) <= _SNIFF_CHARS:
        return text
    cut = text.rfind("\n", 0, _SNIFF_CHARS)
    return text[: cut if cut > 0 else _SNIFF_CHARS]
