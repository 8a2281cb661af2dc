"""Which format a document is, judged from its bytes.

The file name is consulted only to choose between plain-text readings of the same bytes
(CSV, Markdown or plain text), where content alone is ambiguous.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter

from agents.ingest.sandbox.textcodec import decode_prefix
from agents.ingest.sandbox.zipscan import central_directory_names, is_zip, local_header_names

FORMATS = (
    "pdf",
    "docx",
    "xlsx",
    "csv",
    "txt",
    "markdown",
    "html",
    "eml",
    "json",
    "zip",
    "unknown",
    "empty",
)
SUPPORTED_FORMATS = frozenset(FORMATS) - {"zip", "unknown", "empty"}

#: Bytes of the head that detection looks at; pass at least this much when you can.
HEAD_BYTES = 64 * 1024
_MAX_ZIP_NAMES = 2000

_BINARY_MAGIC = (
    b"\xd0\xcf\x11\xe0",  # OLE2: legacy .doc/.xls/.msg and password-protected Office files
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"II*\x00",
    b"MM\x00*",
    b"\x1f\x8b",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x7fELF",
    b"{\\rtf",  # RTF and PostScript are text, but their text is markup, not content
    b"%!PS",
)

_TEXT_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".mkd": "markdown",
    ".txt": "txt",
    ".text": "txt",
    ".log": "txt",
    ".rst": "txt",
}

_STRONG_HTML = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_WEAK_HTML = re.compile(
    r"<(p|div|span|table|h[1-6]|a|br|ul|ol|title|meta|link|section|article|header|nav|main"
    r"|form|img|style|script)[\s>/]",
    re.IGNORECASE,
)
_JSON_START = re.compile(r'[\[{]\s*("|\{|\[|-?\d|true\b|false\b|null\b|\]|\})')
_HEADER_LINE = re.compile(r"([!-9;-~]+):[ \t]?(.*)")
_MAIL_HEADERS = {
    "from",
    "to",
    "cc",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "delivered-to",
    "mime-version",
    "content-type",
    "reply-to",
    "sender",
}
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.MULTILINE)
_MD_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)
_MD_LINK = re.compile(r"\[[^\]\n]+\]\([^)\s]+\)")
_MD_SETEXT = re.compile(r"^\S[^\n]*\n(=+|-{3,})[ \t]*$", re.MULTILINE)
_MD_LIST = re.compile(r"^[ \t]*([-*+]|\d+\.)[ \t]+\S", re.MULTILINE)
_CSV_DELIMITERS = (",", "\t", ";", "|")


def detect_format(head: bytes, filename: str | None) -> str:
    """Name the format of a document from its first bytes.

    `head` is the start of the file (or all of it; the first `HEAD_BYTES` are used).
    Returns one of `FORMATS`: a supported format, "zip" for other zip archives
    (including PPTX and OpenDocument), "unknown" for anything else and "empty" for a
    file without content. Whole content gives the most exact answer for zip files and JSON.
    """
    if not head[:HEAD_BYTES].strip() and not head.strip():
        return "empty"
    if _is_pdf(head):
        return "pdf"
    if is_zip(head):
        return _zip_kind(head)
    if head.startswith(_BINARY_MAGIC):
        return "unknown"
    sample = head[:HEAD_BYTES]
    text = decode_prefix(sample)
    if text is None:
        return "unknown"
    return _text_kind(text.lstrip("\ufeff \t\r\n"), _extension(filename), len(head) > HEAD_BYTES)


def _is_pdf(head: bytes) -> bool:
    # Readers accept the header anywhere in the first KiB (after e.g. a MacBinary
    # header), but a text file that merely mentions "%PDF-" is not a PDF.
    at = head.find(b"%PDF-", 0, 1024)
    if at < 0:
        return False
    prefix = head[:at].strip(b" \t\r\n\xef\xbb\xbf")
    return not prefix or b"\x00" in prefix or decode_prefix(prefix) is None


def _zip_kind(head: bytes) -> str:
    names = central_directory_names(head, _MAX_ZIP_NAMES)
    if names is None:
        # Only a prefix: [Content_Types].xml may come after the part names we can see.
        names = local_header_names(head[:HEAD_BYTES], _MAX_ZIP_NAMES)
    elif "[Content_Types].xml" not in names:
        return "zip"
    if any(name.startswith("word/") for name in names):
        return "docx"
    if any(name.startswith("xl/") for name in names):
        return "xlsx"
    return "zip"


def _text_kind(text: str, extension: str, truncated: bool) -> str:
    named = _TEXT_EXTENSIONS.get(extension)
    if text.startswith("<"):
        window = text[:4096]
        if _STRONG_HTML.search(window):
            return "html"
        if named is None and _WEAK_HTML.match(text):
            return "html"
        return named or "txt"
    if text and text[0] in "{[" and _looks_like_json(text, truncated):
        return "json"
    if _looks_like_mail(text, extension == ".eml"):
        return "eml"
    if named:
        return named
    if _looks_like_csv(text):
        return "csv"
    if _looks_like_markdown(text):
        return "markdown"
    return "txt"


def _looks_like_json(text: str, truncated: bool) -> bool:
    if truncated:
        return _JSON_START.match(text) is not None
    try:
        json.loads(text)
        return True
    except (ValueError, RecursionError):
        pass
    # JSON Lines: every non-empty line is a JSON value of its own.
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    return len(lines) > 1 and all(_is_json(line) for line in lines)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _looks_like_mail(text: str, named_eml: bool) -> bool:
    lines = text.split("\n", 60)[:60]
    if lines and lines[0].startswith("From "):
        lines = lines[1:]  # the envelope line of an mbox export
    known = 0
    for line in lines:
        line = line.rstrip("\r")
        if not line:
            break
        if line[0] in " \t":
            continue  # folded continuation of the previous header
        match = _HEADER_LINE.fullmatch(line)
        if match is None:
            break  # a header block cut short by a missing blank line still counts
        known += match.group(1).lower() in _MAIL_HEADERS
    return known >= (1 if named_eml else 2)


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.split("\n", 51)[:50] if line.strip()]
    if len(lines) > 2 and not text.endswith("\n"):
        lines = lines[:-1]  # the last line of a prefix may be cut short
    if len(lines) < 3:
        return False
    for delimiter in _CSV_DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        # Nearly every line must be split by the delimiter, and the widths must agree:
        # either most rows share one width, or the first row is a header at least as wide
        # as any row (real exports leave trailing columns empty or off in old rows).
        if sum(1 for w in widths if w >= 2) < 0.9 * len(widths):
            continue
        count = Counter(widths).most_common(1)[0][1]
        if count >= 0.5 * len(widths) or widths[0] == max(widths) >= 3:
            return True
    return False


def _looks_like_markdown(text: str) -> bool:
    window = text[:HEAD_BYTES]
    score = 2 * len(_MD_HEADING.findall(window)) + 2 * len(_MD_SETEXT.findall(window))
    score += 3 * len(_MD_FENCE.findall(window)) + len(_MD_LINK.findall(window))
    if score:
        # Lists are common in plain text too; they only support other Markdown signs.
        score += len(_MD_LIST.findall(window)) // 3
    return score >= 3


def _extension(filename: str | None) -> str:
    if not filename:
        return ""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""
