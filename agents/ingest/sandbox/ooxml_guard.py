"""Checks an OOXML container must pass before any office library sees it.

Two attacks are stopped here, before python-docx or openpyxl run:
- zip bombs: member count and total declared size are read from the central directory
  and compared with the limits. zipfile never inflates a member beyond its declared size
  (it fails the CRC instead), so declared sizes bound the real work.
- XML entity tricks (billion laughs, external entities that fetch URLs or read files):
  any XML part with a DOCTYPE is refused. A DOCTYPE (and so any ENTITY declaration) may
  only appear before the root element, so each part is parsed by a streaming expat
  parser only up to its first element: cheap even for huge sheets.
"""

from __future__ import annotations

import struct
import zipfile
from io import BytesIO
from typing import IO, Any
from xml.parsers import expat

from agents.ingest.errors import ForbiddenXmlError, MalformedError, TooLargeError
from agents.ingest.sandbox.limits import MIB, ParseLimits
from agents.ingest.sandbox.zipscan import iter_central_directory

_XML_SUFFIXES = (".xml", ".rels", ".vml")
_CHUNK = 64 * 1024


class _RootReached(Exception):
    """The first element started: the prolog, the only place for a DOCTYPE, is over."""


def check_container(data: bytes, limits: ParseLimits) -> None:
    """Refuse an OOXML/zip container that is too big unpacked or carries a DOCTYPE.

    Raises TooLargeError, ForbiddenXmlError or MalformedError.
    """
    _check_directory(data, limits)
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            members = archive.infolist()
            _check_totals(len(members), sum(m.file_size for m in members), limits)
            for member in members:
                if not member.is_dir():
                    _check_member(archive, member)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise MalformedError("The office file is damaged (its zip structure is broken).") from exc


def _check_directory(data: bytes, limits: ParseLimits) -> None:
    # Counted by our own walker first: zipfile would build an object per entry, and a
    # 100 MiB directory can list millions of them.
    count = 0
    total = 0
    try:
        for entry in iter_central_directory(data):
            count += 1
            total += entry.size
            _check_totals(count, total, limits)
    except (ValueError, struct.error) as exc:
        raise MalformedError("The office file is damaged (its zip structure is broken).") from exc


def _check_totals(count: int, total: int, limits: ParseLimits) -> None:
    if count > limits.max_zip_entries:
        raise TooLargeError(
            f"The file contains more than {limits.max_zip_entries:,} parts, "
            "which is more than allowed."
        )
    if total > limits.max_unzipped_bytes:
        raise TooLargeError(
            f"The file would unpack to more than {limits.max_unzipped_bytes // MIB:,} MiB, "
            "which is more than allowed."
        )


def _check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    named_xml = member.filename.lower().endswith(_XML_SUFFIXES)
    with archive.open(member) as stream:
        first = stream.read(_CHUNK)
        if not named_xml and not _starts_like_xml(first):
            return
        try:
            check_xml_prolog(first, stream)
        except expat.ExpatError as exc:
            if named_xml:
                raise MalformedError(
                    "The office file is damaged (one of its XML parts is not valid XML)."
                ) from exc


def check_xml_prolog(first: bytes, rest: IO[bytes] | None = None) -> None:
    """Raise ForbiddenXmlError if the XML document declares a DOCTYPE or an entity.

    Reads `first`, then `rest` in chunks, only until the root element starts. Raises
    expat.ExpatError when the prolog is not well-formed.
    """
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid
    parser.StartElementHandler = _root_reached
    try:
        chunk = first
        while chunk:
            parser.Parse(chunk, False)
            chunk = rest.read(_CHUNK) if rest is not None else b""
        parser.Parse(b"", True)
    except _RootReached:
        return


def _starts_like_xml(first: bytes) -> bool:
    stripped = first.lstrip(b"\xef\xbb\xbf\xfe\xff \t\r\n\x00")
    return stripped.startswith(b"<")


def _forbid(*_args: Any) -> None:
    raise ForbiddenXmlError()


def _root_reached(*_args: Any) -> None:
    raise _RootReached()
