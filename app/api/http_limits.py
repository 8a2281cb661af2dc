"""HTTP/1.1 protocol with limits on the request line and headers, refused as JSON errors.

uvicorn's httptools protocol takes a request head of any size: httptools joins header
fragments by concatenation (quadratic), so one 64 MiB header kept the event loop busy
and every other request waited seconds. This protocol counts the bytes of a request's
head before the parser sees them (the bytes up to the blank line; a `find` over data
that arrives while a head is open) and answers at once, closing the connection:

- request line longer than `MAX_URL_BYTES` (plus method and version): 414
- head longer than `MAX_HEAD_BYTES`: 431
- a request the parser cannot read: 400

each with the API's error body `{"status_code", "detail", "code"}`. The number of header
fields and the URL length of complete heads are checked in the ASGI entry
(`ApplianceASGI`, app/server.py), where they cost one `len` each.
"""

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.api.limits import MAX_HEAD_BYTES, MAX_URL_BYTES

# "GET " + URL + " HTTP/1.1\r\n": room for the longest method and the version
_REQUEST_LINE_SLACK = 32
# After a refusal the rest of what the client sends is read and dropped for a moment
# (closing with unread data makes the kernel send a reset, which can destroy the answer
# before the client reads it), but no longer than this, nor more than this much.
_LINGER_S = 2.0
_LINGER_BYTES = 4 * 2**20
_END_OF_HEAD = b"\r\n\r\n"


def error_response(status: int, detail: str, code: str, extra: list[bytes] | None = None) -> bytes:
    """A complete HTTP/1.1 response with the JSON error body that closes the connection."""
    body = json.dumps({"status_code": status, "detail": detail, "code": code}).encode()
    return b"".join(
        [
            STATUS_LINE[status],
            *(extra or []),
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )


URL_TOO_LONG = (414, f"the URL is longer than {MAX_URL_BYTES} bytes", "uri_too_long")
HEAD_TOO_LARGE = (
    431,
    f"the request headers are larger than {MAX_HEAD_BYTES // 1024} KiB",
    "headers_too_large",
)


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded request head (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._line_done = False
        self._tail = b""
        self._dropping: int | None = None  # bytes dropped since a refusal

    def data_received(self, data: bytes) -> None:
        if self._dropping is not None:
            self._dropping += len(data)
            if self._dropping > _LINGER_BYTES:
                self.transport.close()
            return
        if self._in_head and self._over_limit(data):
            return
        super().data_received(data)

    def _over_limit(self, data: bytes) -> bool:
        window = self._tail + data
        start = self._head_bytes - len(self._tail)  # head offset of window[0]
        if not self._line_done:
            line_end = window.find(b"\r\n")
            line_bytes = start + (line_end if line_end >= 0 else len(window))
            if line_bytes > MAX_URL_BYTES + _REQUEST_LINE_SLACK:
                self._refuse(*URL_TOO_LONG)
                return True
            self._line_done = line_end >= 0
        end = window.find(_END_OF_HEAD)
        head_bytes = start + (end + len(_END_OF_HEAD) if end >= 0 else len(window))
        if head_bytes > MAX_HEAD_BYTES:
            self._refuse(*HEAD_TOO_LARGE)
            return True
        if end >= 0:
            # the rest of this chunk is body or a pipelined request, which the parser
            # bounds by the chunk size; counting starts again when this message is done
            self._in_head = False
        else:
            self._head_bytes = head_bytes
            self._tail = window[-3:]
        return False

    def _reset_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._line_done = False
        self._tail = b""

    def on_message_complete(self) -> None:
        self._reset_head()
        super().on_message_complete()

    def _refuse(self, status: int, detail: str, code: str) -> None:
        self.logger.warning("request refused: %s", code)
        self.transport.write(error_response(status, detail, code, self._default_headers()))
        self._dropping = 0
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER_S, self.transport.close)

    def _default_headers(self) -> list[bytes]:
        return [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]

    def send_400_response(self, msg: str) -> None:
        """The parser's refusal, as the API's JSON error instead of plain text."""
        self.transport.write(error_response(400, msg, "bad_request", self._default_headers()))
        self.transport.close()
