"""A size limit for browser uploads, applied before the body is read.

NiceGUI's upload route reads the whole multipart body, and uploads are kept in memory
(never spooled unencrypted to /tmp, see ui.pages.documents), so an oversized body is
refused as it arrives: 413 when Content-Length is too large, and the stream is cut off
once more bytes than allowed have come in.
"""

from typing import Any

from starlette.responses import PlainTextResponse

UPLOAD_PREFIX = "/_nicegui/client/"
_MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around one file


class _TooLarge(Exception):
    pass


class UploadLimit:
    """ASGI middleware: UI upload requests larger than `limit` bytes get 413."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit + _MULTIPART_OVERHEAD

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path.startswith(UPLOAD_PREFIX) and "/upload/" in path):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen, over, started = 0, False, False

        async def counted_receive() -> Any:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if over:
                return  # whatever error the app makes of the cut-off is replaced by 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        mib = (self.limit - _MULTIPART_OVERHEAD) / 2**20
        response = PlainTextResponse(f"upload too large: the limit is {mib:g} MiB", 413)
        await response(scope, receive, send)
