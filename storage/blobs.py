"""Encrypted blob store: one file per blob, AES-256-GCM in 1 MiB segments, atomic writes.

File layout: magic (5 bytes) | nonce prefix (7 bytes) | segments. Each segment is the
ciphertext of up to SEGMENT plaintext bytes plus a 16-byte tag; its nonce is the prefix,
a 4-byte counter and a final-segment flag, and the blob id is the associated data. So a
reordered, truncated, extended or swapped file fails to decrypt instead of being served.
"""

import os
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.crypto import derive_key
from storage.errors import (
    CorruptDatabaseError,
    DiskIOError,
    InsufficientStorageError,
    NotFoundError,
    disk_io_failure,
    full_disk,
)

MAGIC = b"AAPB1"
SEGMENT = 1 << 20
_TAG = 16
_PREFIX = 7
_ID = re.compile(r"^[0-9a-f]{32}$")


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


def _segments(source: bytes | BinaryIO | Iterable[bytes]) -> Iterator[bytes]:
    """Re-chunk any input into SEGMENT-sized pieces."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for start in range(0, len(data), SEGMENT):
            yield data[start : start + SEGMENT]
        return
    if hasattr(source, "read"):
        while chunk := source.read(SEGMENT):
            yield chunk
        return
    buffer = b""
    for piece in source:
        buffer += piece
        while len(buffer) >= SEGMENT:
            yield buffer[:SEGMENT]
            buffer = buffer[SEGMENT:]
    if buffer:
        yield buffer


class BlobStore:
    """Blobs of one tenant under `root`, encrypted with a subkey of the tenant key."""

    def __init__(self, root: Path, tenant_key: bytes) -> None:
        self.root = root
        self._aead = AESGCM(derive_key(tenant_key, "blobs"))

    def path_for(self, blob_id: str) -> Path:
        if not _ID.match(blob_id):
            raise NotFoundError(f"invalid blob id {blob_id!r}")
        return self.root / blob_id[:2] / blob_id

    def put(self, source: bytes | BinaryIO | Iterable[bytes]) -> str:
        """Encrypt and store; returns the new blob id. The file appears whole or not at all."""
        blob_id = uuid.uuid4().hex
        target = self.path_for(blob_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{blob_id}.tmp")
        prefix = os.urandom(_PREFIX)
        aad = blob_id.encode()
        try:
            with open(tmp, "xb") as out:
                out.write(MAGIC + prefix)
                pending: bytes | None = None
                index = 0
                for chunk in _segments(source):
                    if pending is not None:
                        out.write(self._aead.encrypt(_nonce(prefix, index, False), pending, aad))
                        index += 1
                    pending = chunk
                out.write(self._aead.encrypt(_nonce(prefix, index, True), pending or b"", aad))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if full_disk(exc):
                raise InsufficientStorageError(detail=f"blob write: {exc}") from exc
            if disk_io_failure(exc):
                raise DiskIOError(detail=f"blob write: {exc}") from exc
            raise
        return blob_id

    def iter_plaintext(self, blob_id: str) -> Iterator[bytes]:
        """Decrypt segment by segment; raises CorruptDatabaseError on any tampering."""
        path = self.path_for(blob_id)
        try:
            handle = open(path, "rb")
        except FileNotFoundError as exc:
            raise NotFoundError(f"no blob {blob_id}") from exc
        aad = blob_id.encode()
        with handle:
            header = handle.read(len(MAGIC) + _PREFIX)
            if not header.startswith(MAGIC) or len(header) != len(MAGIC) + _PREFIX:
                raise CorruptDatabaseError(f"blob {blob_id} has no valid header")
            prefix = header[len(MAGIC) :]
            index = 0
            current = handle.read(SEGMENT + _TAG)
            while True:
                following = handle.read(SEGMENT + _TAG)
                final = not following
                try:
                    yield self._aead.decrypt(_nonce(prefix, index, final), current, aad)
                except InvalidTag as exc:
                    raise CorruptDatabaseError(
                        f"blob {blob_id} failed its integrity check"
                    ) from exc
                if final:
                    return
                current, index = following, index + 1

    def get(self, blob_id: str) -> bytes:
        return b"".join(self.iter_plaintext(blob_id))

    def exists(self, blob_id: str) -> bool:
        return self.path_for(blob_id).exists()

    def delete(self, blob_id: str) -> None:
        self.path_for(blob_id).unlink(missing_ok=True)

    def ids(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for path in sorted(self.root.glob("*/*")):
            if _ID.match(path.name):
                yield path.name


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
