"""Browser uploads over the limit are refused while they arrive, never read whole."""

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.ui_backend.upload_limit import UploadLimit

pytestmark = pytest.mark.anyio
LIMIT = 256 * 1024


async def _echo_size(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(await request.body())))


def _client(inside: bool) -> httpx.AsyncClient:
    """The limit around the app, or added as the server adds it (inside its error handler)."""
    routes = [
        Route("/_nicegui/client/{c}/upload/{u}", _echo_size, methods=["POST"]),
        Route("/other", _echo_size, methods=["POST"]),
    ]
    if inside:
        app: Any = Starlette(routes=routes, middleware=[Middleware(UploadLimit, limit=LIMIT)])
    else:
        app = UploadLimit(Starlette(routes=routes), LIMIT)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


@pytest.mark.parametrize("inside", [True, False])
async def test_declared_and_streamed_oversize_uploads_get_413(inside: bool) -> None:
    big = b"x" * (LIMIT + 200 * 1024)
    async with _client(inside) as client:
        # WHEN a body within the limit arrives THEN it reaches the route
        ok = await client.post("/_nicegui/client/a/upload/1", content=b"x" * 1000)
        assert ok.status_code == 200 and ok.text == "1000"
        # WHEN Content-Length says too much THEN 413 with the limit named
        declared = await client.post("/_nicegui/client/a/upload/1", content=big)
        assert declared.status_code == 413 and "0.25 MiB" in declared.text

        # WHEN the body streams without a length THEN it is cut off all the same
        async def chunks():  # type: ignore[no-untyped-def]
            for start in range(0, len(big), 64 * 1024):
                yield big[start : start + 64 * 1024]

        streamed = await client.post("/_nicegui/client/a/upload/1", content=chunks())
        assert streamed.status_code == 413
        # AND other routes are not limited by it
        other = await client.post("/other", content=big)
        assert other.status_code == 200
