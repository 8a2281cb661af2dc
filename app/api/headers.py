"""Security headers on every response: the JSON API's and the web UI's.

The API serves only JSON, so its CSP forbids everything. NiceGUI (Vue + Quasar) needs
inline scripts (each page embeds its element tree), `eval` (Vue's template compiler) and
inline styles (Tailwind's runtime); its policy allows exactly those from our own origin
and nothing from anywhere else. Checked in Chromium: without 'unsafe-eval' or the
script 'unsafe-inline' the sign-in page stays blank; without the style 'unsafe-inline'
Tailwind fails.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]

_COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}

API_HEADERS = {
    **_COMMON,
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}
# responses may carry tokens or tenant data: no caching unless a handler says otherwise
_API_DEFAULTS = {"cache-control": "no-store"}

UI_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
UI_HEADERS = {**_COMMON, "content-security-policy": UI_CSP}


RawHeaders = tuple[tuple[bytes, bytes], ...]


def encode_headers(headers: dict[str, str]) -> RawHeaders:
    """Header pairs as ASGI wants them: lower-case names, bytes."""
    return tuple((name.lower().encode(), value.encode()) for name, value in headers.items())


_API_RAW = encode_headers(API_HEADERS)
_API_DEFAULTS_RAW = encode_headers(_API_DEFAULTS)


def add_headers(message: Message, headers: RawHeaders, defaults: RawHeaders = ()) -> None:
    """Set `headers` on an `http.response.start` message, replacing same-named ones, and
    `defaults` where the response has none of that name."""
    if message.get("type") != "http.response.start":
        return
    names = {name for name, _ in headers}
    kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
    present = {k.lower() for k, _ in kept}
    extra = [(k, v) for k, v in defaults if k not in present]
    message["headers"] = [*kept, *headers, *extra]


# scope key under which the request gate leaves per-request headers (the RateLimit-* ones)
EXTRA_HEADERS_KEY = "appliance.extra_headers"
# set by the observability wrapper (app/observability/http_metrics.py): the request id to
# send back, and where the response status is left for it (no send wrapper of its own)
REQUEST_ID_KEY = "appliance.request_id"
STATUS_KEY = "appliance.status"


async def api_before_send(message: Any, scope: Any) -> None:
    """Litestar before_send hook: runs for every API response, errors and 404s included.

    Adds the security headers, and the headers the request gate left in the scope. A
    coroutine because Litestar runs a plain function hook in a worker thread."""
    add_headers(message, _API_RAW, _API_DEFAULTS_RAW)
    if message.get("type") != "http.response.start":
        return
    scope[STATUS_KEY] = message["status"]
    extra = scope.get(EXTRA_HEADERS_KEY)
    if extra:
        # names no handler sets, so appended rather than searched for
        message["headers"].extend(extra)
    request_id = scope.get(REQUEST_ID_KEY)
    if request_id:
        message["headers"].append((b"x-request-id", request_id.encode()))


def with_headers(
    send: Callable[[Message], Awaitable[None]], headers: dict[str, str]
) -> Callable[[Message], Awaitable[None]]:
    """Wrap an ASGI send so each response carries `headers` (used for the web UI)."""
    raw = encode_headers(headers)

    async def wrapped(message: Message) -> None:
        add_headers(message, raw)
        await send(message)

    return wrapped
