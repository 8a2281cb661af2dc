"""Reading a zip's table of contents without unpacking anything.

Walks the central directory (or, for a prefix of a file, the local headers) with plain
struct reads, so asking "which members, how big" costs no decompression and no more
memory than the caller chooses to keep.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_LOCAL = b"PK\x03\x04"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF
_U32_MAX = 0xFFFFFFFF


@dataclass(frozen=True)
class ZipEntry:
    """One member as the central directory declares it (sizes are claims, not facts)."""

    name: str
    compressed_size: int
    size: int


def is_zip(head: bytes) -> bool:
    """True when the bytes start like a zip archive (including an empty one)."""
    return head[:4] in (_LOCAL, _EOCD)


def iter_central_directory(data: bytes) -> Iterator[ZipEntry]:
    """Yield the members listed in the central directory of a complete zip.

    Raises ValueError when there is no readable central directory (truncated or not a
    zip). Stop iterating early to bound the work on archives with huge member counts.
    """
    offset, size = _central_directory_span(data)
    pos, end = offset, offset + size
    if end > len(data):
        raise ValueError("central directory runs past the end of the data")
    while pos < end:
        if data[pos : pos + 4] != _CENTRAL:
            raise ValueError("broken central directory entry")
        fields = struct.unpack_from("<4s6H3L5H2L", data, pos)
        flags, comp, plain = fields[3], fields[8], fields[9]
        name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
        name_at = pos + 46
        name_raw = data[name_at : name_at + name_len]
        extra = data[name_at + name_len : name_at + name_len + extra_len]
        if plain == _U32_MAX or comp == _U32_MAX:
            plain, comp = _zip64_sizes(extra, plain, comp)
        yield ZipEntry(_decode_name(name_raw, flags), comp, plain)
        pos = name_at + name_len + extra_len + comment_len


def central_directory_names(data: bytes, limit: int) -> list[str] | None:
    """Up to `limit` member names from the central directory, or None if there is none."""
    names: list[str] = []
    try:
        for entry in iter_central_directory(data):
            names.append(entry.name)
            if len(names) >= limit:
                break
    except (ValueError, struct.error):
        return None
    return names


def local_header_names(head: bytes, limit: int) -> list[str]:
    """Member names from the local headers in a prefix of an archive (best effort)."""
    names: list[str] = []
    pos = 0
    while len(names) < limit and head[pos : pos + 4] == _LOCAL and pos + 30 <= len(head):
        flags = struct.unpack_from("<H", head, pos + 6)[0]
        comp = struct.unpack_from("<L", head, pos + 18)[0]
        name_len, extra_len = struct.unpack_from("<2H", head, pos + 26)
        name_raw = head[pos + 30 : pos + 30 + name_len]
        names.append(_decode_name(name_raw, flags))
        if flags & 0x08:
            break  # sizes follow the data, so the next header cannot be located
        pos += 30 + name_len + extra_len + comp
    return names


def _central_directory_span(data: bytes) -> tuple[int, int]:
    eocd = _find_eocd(data)
    (_, _, _, _, count, size, offset, _) = struct.unpack_from("<4s4H2LH", data, eocd)
    if _U32_MAX in (size, offset) or count == 0xFFFF:
        locator = eocd - 20
        if locator < 0 or data[locator : locator + 4] != _ZIP64_LOCATOR:
            raise ValueError("zip64 archive without a zip64 locator")
        record = struct.unpack_from("<Q", data, locator + 8)[0]
        if data[record : record + 4] != _ZIP64_EOCD:
            raise ValueError("zip64 end record not found")
        size, offset = struct.unpack_from("<2Q", data, record + 40)
        end_of_directory = record
    else:
        end_of_directory = eocd
    # Like zipfile: bytes prepended to the archive (self-extractors) shift every offset.
    shift = end_of_directory - size - offset
    if shift < 0:
        raise ValueError("central directory offset is out of range")
    return offset + shift, size


def _find_eocd(data: bytes) -> int:
    if len(data) >= _EOCD_SIZE and data[-_EOCD_SIZE : -_EOCD_SIZE + 4] == _EOCD:
        return len(data) - _EOCD_SIZE
    start = max(0, len(data) - _EOCD_SIZE - _MAX_COMMENT)
    found = data.rfind(_EOCD, start)
    if found < 0 or found + _EOCD_SIZE > len(data):
        raise ValueError("no end-of-central-directory record")
    return found


def _zip64_sizes(extra: bytes, plain: int, comp: int) -> tuple[int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, pos)
        if tag == 0x0001:
            values = extra[pos + 4 : pos + 4 + length]
            cursor = 0
            if plain == _U32_MAX:
                plain = struct.unpack_from("<Q", values, cursor)[0]
                cursor += 8
            if comp == _U32_MAX:
                comp = struct.unpack_from("<Q", values, cursor)[0]
            return plain, comp
        pos += 4 + length
    raise ValueError("zip64 sizes missing from the extra field")


def _decode_name(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
