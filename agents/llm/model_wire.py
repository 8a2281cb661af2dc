"""Messages between the server and its model process: length-prefixed JSON frames.

Every request carries an `id`; every reply names the request it answers, so quick calls
(token counts) can be answered while a generation is streaming its pieces. Errors cross
as the name of an `LLMError` subclass plus its message; nothing is ever unpickled.
"""

from __future__ import annotations

import struct
from typing import IO, Any

import msgspec

from agents.llm import errors

LENGTH = struct.Struct(">I")
# a frame larger than this cannot be a genuine message (texts are capped well below it)
MAX_FRAME_BYTES = 256 * 1024 * 1024

_ERROR_TYPES: dict[str, type[errors.LLMError]] = {
    cls.__name__: cls
    for cls in (
        errors.LLMError,
        errors.LLMRequestError,
        errors.PromptTooLongError,
        errors.InvalidSchemaError,
        errors.UnsupportedSchemaError,
        errors.SchemaUnsatisfiedError,
        errors.LLMBusyError,
        errors.LLMUnavailableError,
        errors.LLMTimeoutError,
        errors.LLMUpstreamError,
        errors.InvalidLabelsError,
        errors.ModelCrashedError,
    )
}


def encode(message: dict[str, Any]) -> bytes:
    """One frame: a 4-byte big-endian length, then compact UTF-8 JSON."""
    payload = msgspec.json.encode(message)
    return LENGTH.pack(len(payload)) + payload


def read_message(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message from a blocking stream; None when the stream ended cleanly.

    Raises ValueError when the bytes are not a well-formed frame of a JSON object.
    """
    head = _read_exact(stream, LENGTH.size)
    if head is None:
        return None
    (length,) = LENGTH.unpack(head)
    if length > MAX_FRAME_BYTES:
        raise ValueError(f"a frame of {length} bytes is larger than allowed")
    payload = _read_exact(stream, length)
    if payload is None:
        raise ValueError("the stream ended inside a frame")
    try:
        value = msgspec.json.decode(payload)
    except msgspec.DecodeError as error:
        raise ValueError(str(error)) from None
    if not isinstance(value, dict):
        raise ValueError("a message must be a JSON object")
    return value


def encode_error(error: errors.LLMError) -> dict[str, Any]:
    """The wire form of an LLMError (its class name, message and schema location)."""
    return {
        "type": type(error).__name__,
        "message": str(error),
        "keyword": getattr(error, "keyword", ""),
        "path": getattr(error, "path", ""),
    }


def decode_error(wire: Any) -> errors.LLMError:
    """The LLMError a reply describes (a plain LLMError for names it does not know)."""
    if not isinstance(wire, dict):
        return errors.LLMError("the model process sent a malformed error")
    cls = _ERROR_TYPES.get(str(wire.get("type")), errors.LLMError)
    message = str(wire.get("message", ""))
    if cls is errors.UnsupportedSchemaError:
        return errors.UnsupportedSchemaError(
            message, keyword=str(wire.get("keyword", "")), path=str(wire.get("path", ""))
        )
    return cls(message)


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if remaining == size:
                return None
            raise ValueError("the stream ended inside a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
