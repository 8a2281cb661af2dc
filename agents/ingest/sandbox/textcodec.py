"""Turning bytes of unknown encoding into text."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

_SURROGATE = re.compile("[\ud800-\udfff]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark announces, if the data starts with one."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a whole text file; returns (text, encoding name).

    A BOM wins, then strict UTF-8 (by far the most common and the cheapest test), then
    charset-normalizer's best guess. Undecodable bytes become U+FFFD rather than failing,
    so a text file with one bad byte is still indexed.
    """
    encoding = bom_encoding(data)
    if encoding is None:
        try:
            return normalise(data.decode("utf-8")), "utf-8"
        except UnicodeDecodeError:
            best = charset_normalizer.from_bytes(data).best()
            encoding = best.encoding if best is not None else "utf-8"
    return normalise(data.decode(encoding, errors="replace")), encoding


def decode_prefix(head: bytes) -> str | None:
    """Decode the start of a file for sniffing; None when it does not look like text.

    A multi-byte character cut at the end of the prefix is tolerated.
    """
    encoding = bom_encoding(head)
    if encoding is None:
        if b"\x00" in head:
            return None  # NUL bytes: binary (UTF-16 without a BOM is not supported)
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError:
            best = charset_normalizer.from_bytes(head).best()
            if best is None:
                return None
            text = str(best)
    else:
        text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    return text if _mostly_printable(text) else None


def _mostly_printable(text: str) -> bool:
    if not text:
        return True
    controls = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or ch == "\x7f")
    return controls <= len(text) // 100


def scrub(text: str) -> str:
    """Replace lone surrogates (which UTF-8, JSON and SQLite cannot carry) with U+FFFD.

    Parsers can produce them from broken PDF font maps or JSON escapes like "\\ud800".
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def normalise(text: str) -> str:
    """Newlines as `\\n` only, NUL characters removed."""
    # One newline convention downstream; NULs break SQLite FTS and most tokenisers.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
