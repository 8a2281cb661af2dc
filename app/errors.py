"""The app's exception base and the one place that renders API errors as JSON.

Every error of the appliance derives from `storage.errors.ApplianceError`; `describe`
gives its status, code and public message, rendered as `{"status_code", "detail",
"code"}`. The private `detail` of an error is logged, never sent.
"""

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

from storage.errors import ApplianceError, describe

log = logging.getLogger("appliance.errors")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "request_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class AppError(ApplianceError):
    """Base of errors raised by the app layer."""

    status_code = 400
    code = "bad_request"
    headers: dict[str, str] | None = None

    def __init__(
        self, message: str, *, headers: dict[str, str] | None = None, detail: str = ""
    ) -> None:
        super().__init__(message, detail=detail)
        if headers:
            self.headers = headers


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


def error_body(status_code: int, detail: str, code: str) -> dict[str, Any]:
    return {"status_code": status_code, "detail": detail, "code": code}


def _body_limit_detail(request: Request[Any, Any, Any]) -> str:
    try:
        limit = request.route_handler.resolve_request_max_body_size()
    except Exception:  # noqa: BLE001 - the message is still clear without the number
        limit = None
    if not limit:
        return "request body too large"
    return f"request body too large: the limit is {limit / (1024 * 1024):g} MiB"


def _with_retry_after(headers: dict[str, str] | None) -> dict[str, str] | None:
    # a 429 from Litestar itself may carry only RateLimit-Reset; plain clients understand
    # Retry-After
    if headers and "RateLimit-Reset" in headers and "Retry-After" not in headers:
        return {**headers, "Retry-After": str(max(1, int(headers["RateLimit-Reset"])))}
    return headers


def render_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Litestar exception handler for every exception type."""
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = getattr(exc, "code", None) or _HTTP_CODES.get(status, "error")
        detail = _body_limit_detail(request) if status == 413 else exc.detail
        headers = _with_retry_after(exc.headers) if status == 429 else exc.headers
        extra = exc.extra if isinstance(exc.extra, dict) else None
        if status == 400 and extra is None and isinstance(exc.extra, list) and exc.extra:
            detail = f"{detail}: " + "; ".join(
                str(item.get("message", item)) if isinstance(item, dict) else str(item)
                for item in exc.extra
            )
        return Response(error_body(status, detail, code), status_code=status, headers=headers)
    described = describe(exc)
    if isinstance(exc, ApplianceError):
        if described.status_code >= 500:
            # the private detail goes to the log only, never into the response
            log.error(
                "%s failed: %s (%s) %s",
                request.url.path,
                described.code,
                type(exc).__name__,
                exc.detail,
            )
        headers = getattr(exc, "headers", None)
    else:
        log.exception("unhandled error on %s", request.url.path)
        headers = None
    return Response(
        error_body(described.status_code, described.message, described.code),
        status_code=described.status_code,
        headers=headers,
    )
