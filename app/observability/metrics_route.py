"""GET /metrics: the Prometheus text format, for a scraper with the token or on loopback.

With `[observability] metrics_token` set, the caller must send `Authorization: Bearer
<token>` (compared in constant time). Without one, only callers on the loopback address
may scrape (behind a trusted reverse proxy, the forwarded client address counts).
"""

import hmac
import ipaddress
from typing import Any

from litestar import Request, Response, get
from prometheus_client import generate_latest

from app.api.deps import MetricsDep, SettingsDep
from app.auth.client_address import client_address
from app.errors import AppError

# the classic text format, which every Prometheus reads (Litestar adds the charset)
CONTENT_TYPE = "text/plain; version=0.0.4"


class MetricsForbidden(AppError):
    status_code = 403
    code = "forbidden"


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def check_scraper(request: Request[Any, Any, Any], token: str, trusted: list[str]) -> None:
    """Raise MetricsForbidden unless the caller may read the metrics."""
    if token:
        sent = request.headers.get("authorization", "")
        expected = f"Bearer {token}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise MetricsForbidden("send the metrics token as 'Authorization: Bearer <token>'")
        return
    if not is_loopback(client_address(request.scope, trusted)):
        raise MetricsForbidden("metrics are served to loopback callers only (or set a token)")


@get(
    "/metrics",
    opt={"public": True, "no_rate_limit": True},
    sync_to_thread=True,
    include_in_schema=False,
)
def metrics_endpoint(
    request: Request[Any, Any, Any], settings: SettingsDep, metrics: MetricsDep
) -> Response[bytes]:
    """Every metric of the appliance in the Prometheus text format."""
    check_scraper(
        request, settings.observability.metrics_token, list(settings.server.trusted_proxies)
    )
    registry = metrics.registry
    return Response(
        generate_latest(registry),
        media_type=CONTENT_TYPE,
        headers={"Cache-Control": "no-store"},
    )
