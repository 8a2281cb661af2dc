"""Length-prefixed frames between the sandbox and its worker process.

A message is one JSON frame, optionally followed by raw byte frames (document content,
attachment contents) so large binaries are never base64-encoded. Only JSON and raw bytes
cross the boundary: the parent never unpickles anything a worker produced.
"""

from __future__ import annotations

import struct
from typing import IO, Any

import msgspec

LENGTH = struct.Struct(">Q")


def encode_frame(payload: bytes) -> bytes:
    """One frame: 8-byte big-endian length, then the payload."""
    return LENGTH.pack(len(payload)) + payload


def encode_json(value: Any) -> bytes:
    """A frame holding compact UTF-8 JSON."""
    # msgspec: a document's text crosses as JSON, and the stdlib's encoder and decoder
    # took 3% of `bench ingest` (6 MB of text), half of it in the parser process
    return encode_frame(msgspec.json.encode(value))


def decode_json(payload: bytes) -> Any:
    """The value of a JSON frame's payload; ValueError if it is not JSON."""
    try:
        return msgspec.json.decode(payload)
    except msgspec.DecodeError as exc:
        raise ValueError(str(exc)) from exc


def read_frame(stream: IO[bytes]) -> bytes | None:
    """Read one frame from a blocking stream; None on a clean end of stream."""
    head = _read_exact(stream, LENGTH.size)
    if head is None:
        return None
    (length,) = LENGTH.unpack(head)
    payload = _read_exact(stream, length)
    if payload is None:
        raise EOFError("stream ended inside a frame")
    return payload


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if remaining == size:
                return None
            raise EOFError("stream ended inside a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
